import type { Transaction } from 'kysely';
import { borrowTransaction } from '../../db/own-tables.js';
import type { IdentityDb, IdentityTables } from './tables.js';
import { maskEmail, maskPhone } from './phone.js';

/**
 * The append-only audit log (spec §4 AuditLogs). Every security-relevant action is one line
 * with its actor, the subject, the request's IP and user agent, and old/new values whose
 * personal data is masked before it is written: the log outlives erasure requests.
 */
export type ActorKind = 'user' | 'system' | 'cli' | 'anonymous';

export interface Actor {
  kind: ActorKind;
  /** The acting user, when a person acts. */
  userId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

export interface AuditEntry {
  action: string;
  actor: Actor;
  /** The user the action is about (may equal the actor). */
  subjectUserId?: string | null;
  /** What was touched, e.g. `user:<id>`, `session:<id>`, `restaurant:<id>`. */
  resource?: string | null;
  oldValue?: unknown;
  newValue?: unknown;
}

/**
 * Writes one audit entry; with a transaction (identity's, or one another context lends), in it, so
 * the entry commits with the change it records.
 */
export type AuditFunction = <Lender = IdentityTables>(
  entry: AuditEntry,
  transaction?: Transaction<Lender>,
) => Promise<void>;

const SECRET_KEYS =
  /^(password|passwordHash|password_hash|newPassword|currentPassword|otp|code|totp|token|accessToken|refreshToken|secret|backupCodes|pin|signature)$/i;
const PHONE_KEYS = /^(phone|msisdn|to|from|phoneNumber)$/i;
const EMAIL_KEYS = /^(email|mail)$/i;
const NAME_KEYS = /^(name|firstName|lastName|fullName|legalName)$/i;
const FREE_TEXT_KEYS = /^(line1|line2|landmark|instructions|address|latitude|longitude)$/i;
const MAX_DEPTH = 6;
const MAX_ARRAY = 50;
const MAX_STRING = 500;

function maskName(name: string): string {
  return name.length === 0 ? name : `${name.slice(0, 1)}***`;
}

function maskField(key: string, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (SECRET_KEYS.test(key)) return '[redacted]';
  if (typeof value !== 'string') return FREE_TEXT_KEYS.test(key) ? '[redacted]' : undefined;
  if (PHONE_KEYS.test(key)) return maskPhone(value);
  if (EMAIL_KEYS.test(key)) return maskEmail(value);
  if (NAME_KEYS.test(key)) return maskName(value);
  if (FREE_TEXT_KEYS.test(key)) return '[redacted]';
  return undefined;
}

/** Masks personal data and secrets by key, recursively, with bounded depth and size. */
export function maskPii(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return '[truncated]';
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.slice(0, MAX_ARRAY).map((item) => maskPii(item, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== 'object') return value;
  const masked: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const replaced = maskField(key, item);
    masked[key] = replaced === undefined ? maskPii(item, depth + 1) : replaced;
  }
  return masked;
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(maskPii(value));
}

export function createAudit(db: IdentityDb): AuditFunction {
  return async <Lender>(entry: AuditEntry, transaction?: Transaction<Lender>) => {
    const executor = transaction === undefined ? db : borrowTransaction<IdentityTables, Lender>(transaction);
    await executor
      .insertInto('audit_logs')
      .values({
        actor_kind: entry.actor.kind,
        actor_id: entry.actor.userId ?? null,
        subject_user_id: entry.subjectUserId ?? null,
        action: entry.action,
        resource: entry.resource ?? null,
        old_value: json(entry.oldValue),
        new_value: json(entry.newValue),
        ip_address: entry.actor.ip ?? null,
        user_agent: entry.actor.userAgent?.slice(0, 300) ?? null,
        request_id: entry.actor.requestId ?? null,
      })
      .execute();
  };
}
