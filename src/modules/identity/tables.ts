import type { ColumnType, Generated, Kysely } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export type UserStatus = 'pending_verification' | 'guest' | 'active' | 'suspended' | 'deleted';

export interface UsersTable {
  id: Generated<string>;
  /**
   * E.164, null only after erasure. Phone, e-mail and name are stored encrypted
   * (`pii1.<key id>.…`, src/platform/field-crypto.ts); the repository encrypts and decrypts, so
   * the rest of identity sees them in clear.
   */
  phone: string | null;
  email: string | null;
  name: string | null;
  /** Keyed blind indexes (HMAC-SHA256) for lookups and uniqueness: E.164 phone, lower-case e-mail. */
  phone_bidx: string | null;
  email_bidx: string | null;
  /** One blind index per lower-case word of the name (the admin search matches whole words). */
  name_terms: ColumnType<string[], string[] | undefined, string[]>;
  password_hash: string | null;
  roles: ColumnType<string[], string[] | undefined, string[]>;
  status: UserStatus;
  phone_verified: Generated<boolean>;
  email_verified: Generated<boolean>;
  failed_attempts: Generated<number>;
  locked_until: Timestamp | null;
  last_failed_at: Timestamp | null;
  last_login_at: Timestamp | null;
  locale: Generated<string>;
  notification_preferences: ColumnType<unknown, string | undefined, string>;
  suspended_reason: string | null;
  /** Access tokens of this user issued at or before this instant are void (durable revocation). */
  tokens_revoked_before: Timestamp | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  deleted_at: Timestamp | null;
  /** Set when every context erased its share (issue #15); deleted but not erased: resumable. */
  erased_at: Timestamp | null;
}

/**
 * Label and city are stored in clear; the street lines, district, landmark, coordinates and
 * instructions are encrypted (`pii1.…` text, coordinates included); the repository converts, and
 * hands out `AddressRecord` (repository.ts) with the values in clear and numeric coordinates.
 */
export interface UserAddressesTable {
  id: Generated<string>;
  user_id: string;
  label: string;
  line1: string;
  line2: string | null;
  city: string;
  district: string | null;
  landmark: string | null;
  latitude: string | null;
  longitude: string | null;
  instructions: string | null;
  is_default: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** Tombstones of removed addresses, kept 7 days for delta sync (`GET /v1/sync/addresses`). */
export interface UserAddressRemovalsTable {
  address_id: string;
  user_id: string;
  removed_at: CreatedAt;
}

export interface SessionsTable {
  id: Generated<string>;
  user_id: string;
  kind: 'user' | 'guest';
  client: 'web' | 'mobile';
  ip_address: string | null;
  user_agent: string | null;
  /** Keyed hash of the app's install id (`X-Device-Id`), or null when the client sent none. */
  device_hash: string | null;
  two_factor_verified: Generated<boolean>;
  step_up_at: Timestamp | null;
  created_at: CreatedAt;
  last_activity_at: UpdatedAt;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  rotated_at: Timestamp | null;
}

export interface LoginAttemptsTable {
  id: Generated<bigint>;
  identifier_hash: string;
  identifier_masked: string;
  user_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  success: boolean;
  reason: string;
  attempted_at: CreatedAt;
}

export interface TwoFactorAuthTable {
  user_id: string;
  secret_ciphertext: Buffer;
  backup_code_hashes: ColumnType<string[], string[] | undefined, string[]>;
  enabled_at: Timestamp | null;
  last_used_step: ColumnType<bigint | null, bigint | number | null | undefined, bigint | number | null>;
  last_used_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface PhoneVerificationsTable {
  id: Generated<string>;
  /** The blind index of the E.164 number (never the number: codes are only looked up by it). */
  phone: string;
  purpose: string;
  code_hash: string;
  attempts: Generated<number>;
  max_attempts: number;
  expires_at: Timestamp;
  consumed_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface PasswordResetsTable {
  token_hash: string;
  user_id: string;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: ColumnType<unknown, string, string>;
  private_key_ciphertext: Buffer;
  created_at: CreatedAt;
  retire_after: Timestamp;
  verify_until: Timestamp;
}

export interface ApiSigningClientsTable {
  key_id: string;
  name: string;
  secret_ciphertext: Buffer;
  scopes: ColumnType<string[], string[] | undefined, string[]>;
  created_at: CreatedAt;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

/** Partner API keys (partner-keys.ts): the key as its SHA-256, the signing secret sealed. */
export interface PartnerApiKeysTable {
  key_id: string;
  label: string;
  restaurant_id: string | null;
  scopes: string[];
  key_sha256: Buffer;
  signing_secret_ciphertext: Buffer;
  created_by: string | null;
  created_at: CreatedAt;
  expires_at: Timestamp;
  rotated_from: string | null;
  rotated_to: string | null;
  rotated_at: Timestamp | null;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
  last_used_at: Timestamp | null;
  expiry_reminded_at: Timestamp | null;
  /** The admin's Idempotency-Key of the issuing request: a retry cannot issue a second key. */
  issue_idempotency_key: string | null;
}

export interface AuditLogsTable {
  id: Generated<bigint>;
  actor_kind: string;
  actor_id: string | null;
  subject_user_id: string | null;
  action: string;
  resource: string | null;
  old_value: ColumnType<unknown, string | null, never>;
  new_value: ColumnType<unknown, string | null, never>;
  ip_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  created_at: CreatedAt;
}

/** The database as this context sees it: its own tables only. */
/**
 * An account at Google or Facebook linked to one of ours (issue #26): only the provider's subject
 * identifier, never its tokens or e-mail.
 */
export interface SocialIdentitiesTable {
  id: Generated<string>;
  user_id: string;
  provider: 'google' | 'facebook';
  subject: string;
  created_at: CreatedAt;
  last_used_at: Timestamp | null;
}

export type IdentityDb = Kysely<IdentityTables>;

/**
 * An SMS `STOP` from a number without an account (docs/ussd.md): the number's keyed blind index
 * only. Creating an account for that number applies it (SMS switches off) and deletes the row.
 */
export interface SmsOptOutsTable {
  phone_bidx: string;
  created_at: CreatedAt;
}

export interface IdentityTables {
  users: UsersTable;
  user_addresses: UserAddressesTable;
  user_address_removals: UserAddressRemovalsTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  login_attempts: LoginAttemptsTable;
  two_factor_auth: TwoFactorAuthTable;
  phone_verifications: PhoneVerificationsTable;
  password_resets: PasswordResetsTable;
  signing_keys: SigningKeysTable;
  api_signing_clients: ApiSigningClientsTable;
  partner_api_keys: PartnerApiKeysTable;
  social_identities: SocialIdentitiesTable;
  audit_logs: AuditLogsTable;
  sms_opt_outs: SmsOptOutsTable;
}
