import { createHmac } from 'node:crypto';
import { masterKey as readMasterKey } from '../../config/index.js';
import type { Role } from '../../shared/principal.js';
import type { Runtime } from '../../runtime.js';
import type { IdentityDb } from './tables.js';
import type { Notifications } from '../notifications/index.js';
import { createAccounts, type Accounts } from './accounts.js';
import { createAdministration, type Administration } from './admin.js';
import { createAudit, type Actor, type AuditFunction } from './audit.js';
import { createGuests, type Guests } from './guest.js';
import { createSecurity, type Security } from './security.js';
import { createRequestVerifier, type RequestVerifier } from './signing.js';
import { createPartnerKeys, type PartnerKeys } from './partner-keys.js';
import { createPartnerKeysRepository } from './partner-keys-repository.js';
import { createPrivacy, type Privacy } from './privacy.js';
import type { PersonalDataHook } from '../../platform/context.js';
import { fieldCipherOf } from '../../platform/field-crypto.js';
import { createProfile, type Profile } from './profile.js';
import { createBruteForceGuard, IP_FAILURE_MULTIPLIER, type BruteForceGuard } from './brute-force.js';
import { keyedHash } from './crypto.js';
import { createKeyRing, type KeyRing } from './keys.js';
import { createMemoryKeyValue, createRedisKeyValue, type KeyValue } from './kv.js';
import { createPhoneCodes, type PhoneCodes } from './otp.js';
import { REVOCATION_LOADED_KEY } from './revocations.js';
import { createPasswordHasher, type PasswordHasher } from './password-hashing.js';
import { createIdentityRepository, type IdentityRepository } from './repository.js';
import { createSmsBudget, type SmsBudget } from './sms-budget.js';
import {
  createSessionService,
  type DeviceSession,
  type RequestContext,
  type SessionService,
} from './sessions.js';
import { ACCESS_TOKEN_TTL_MS, createTokenService, type TokenService, type VerifiedToken } from './tokens.js';
import { createTwoFactor, type TwoFactor } from './two-factor.js';
import { createSocialSignIn, type SocialSignIn } from './social.js';
import { createSocialRepository } from './social-repository.js';
import { socialProvidersOf, type SocialProvider, type SocialProviderName } from './social-providers.js';

/**
 * The identity context's services (`services.identity`). Other contexts use `audit`,
 * `grantRole`, `revokeRole` and `tokens.verify`; everything else serves the routes.
 */
export interface Identity {
  repository: IdentityRepository;
  kv: KeyValue;
  hasher: PasswordHasher;
  keyRing: KeyRing;
  tokens: TokenService;
  sessions: SessionService;
  codes: PhoneCodes;
  /** Hourly SMS caps per number, per address and platform-wide, with their metrics. */
  smsBudget: SmsBudget;
  twoFactor: TwoFactor;
  guard: BruteForceGuard;
  accounts: Accounts;
  guests: Guests;
  security: Security;
  profile: Profile;
  /** GDPR export and erasure over every context's `personalData` hook (src/platform/context.ts). */
  privacy: Privacy;
  admin: Administration;
  /** HMAC request signing for server-to-server routes (`config.requestSignature`). */
  signatures: RequestVerifier;
  /** Partner API keys: issue, rotate, revoke, list, authenticate (`config.partner`). */
  partnerKeys: PartnerKeys;
  /** Sign-in with Google and Facebook, linking by a proved phone (social.ts). */
  social: SocialSignIn;
  audit: AuditFunction;
  /** Adds a role (idempotent) and audits it; e.g. the catalog makes a restaurant's creator its owner. */
  grantRole(userId: string, role: Role, actor: Actor): Promise<{ roles: Role[]; changed: boolean }>;
  /** Removes a role; the user's current access tokens stop working so the next refresh drops it. */
  revokeRole(userId: string, role: Role, actor: Actor): Promise<{ roles: Role[]; changed: boolean }>;
  /** Ends the session of the presented access token (blacklisting its `jti`) or refresh token. */
  logout(
    presented: { verified: VerifiedToken | undefined; refreshToken: string | undefined },
    context: RequestContext,
  ): Promise<boolean>;
  masterKey: Buffer;
  /** Keys for keyed hashes (codes, resets, identifiers): derived from the master key. */
  hashKey: Buffer;
  /**
   * The name under which a phone number, an address or a token prefix is counted in Redis (rate
   * limits, SMS caps): a keyed hash, so a copy of Redis does not list who asked for codes.
   */
  limitKey(value: string): string;
  /**
   * Calls `listener` after each session started on a device the apps named (`X-Device-Id`), with
   * the device's keyed hash: fraud detection counts accounts per device. A listener that throws is
   * logged; the sign-in goes on.
   */
  onDeviceSession(listener: (session: DeviceSession) => Promise<void>): void;
}

export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return createHmac('sha256', masterKey).update(`identity:${purpose}`).digest();
}

export function createIdentity(
  runtime: Runtime,
  db: IdentityDb,
  notifications: Pick<Notifications, 'sms' | 'outbox'>,
  personalData?: Map<string, PersonalDataHook>,
  socialProviders: ReadonlyMap<SocialProviderName, SocialProvider> = socialProvidersOf(runtime.config),
): Identity {
  const { config } = runtime;
  const masterKey = readMasterKey(config);
  const hashKey = deriveKey(masterKey, 'hash');
  const limitHashKey = deriveKey(masterKey, 'limit');
  const limitKey = (value: string) => keyedHash(limitHashKey, 'limit', value);
  const repository = createIdentityRepository(db, fieldCipherOf(config));
  const kv =
    runtime.redis === undefined
      ? createMemoryKeyValue(Date.now, { forgetOnEviction: [REVOCATION_LOADED_KEY] })
      : createRedisKeyValue(runtime.redis, `${config.REDIS_KEY_PREFIX}id:`);
  const audit = createAudit(db);
  const hasher = createPasswordHasher();
  const keyRing = createKeyRing({ repository, masterKey, accessTokenTtlMs: ACCESS_TOKEN_TTL_MS });
  const tokens = createTokenService({
    keyRing,
    kv,
    repository,
    onReloadError: (error) => runtime.logger.warn({ err: error }, 'reloading token revocations failed'),
  });
  const deviceListeners: ((session: DeviceSession) => Promise<void>)[] = [];
  const sessions = createSessionService({
    repository,
    tokens,
    kv,
    audit,
    refreshHashKey: config.JWT_REFRESH_SECRET,
    deviceHashKey: hashKey,
    adminIdleTimeoutMs: config.SESSION_TIMEOUT,
    async onDeviceSession(session) {
      for (const listener of deviceListeners)
        await listener(session).catch((error: unknown) =>
          runtime.logger.error({ err: error }, 'a device-session listener failed; the sign-in goes on'),
        );
    },
  });
  const smsBudget = createSmsBudget({
    kv,
    limitKey,
    logger: runtime.logger,
    limits: {
      perNumberPerHour: config.SMS_MAX_PER_NUMBER_PER_HOUR,
      perAddressPerHour: config.SMS_MAX_PER_ADDRESS_PER_HOUR,
      perHour: config.SMS_MAX_PER_HOUR,
    },
  });
  const codes = createPhoneCodes({ repository, sms: notifications.sms, budget: smsBudget, hashKey });
  const twoFactor = createTwoFactor({ repository, masterKey, hashKey });
  const guard = createBruteForceGuard({
    repository,
    kv,
    delayBaseMs: config.AUTH_DELAY_BASE_MS,
    ipFailureLimit: config.RATE_LIMIT_AUTH_MAX * IP_FAILURE_MULTIPLIER,
    ipWindowMs: config.RATE_LIMIT_AUTH_WINDOW_MS,
    enabled: config.RATE_LIMIT_ENABLED,
    limitKey,
  });
  const accounts = createAccounts({
    repository,
    hasher,
    codes,
    sessions,
    twoFactor,
    guard,
    audit,
    sms: notifications.sms,
    budget: smsBudget,
    hashKey,
    publicBaseUrl: config.PUBLIC_BASE_URL,
  });

  const guests = createGuests({ repository, codes, sessions, hasher, audit });
  const security = createSecurity({ repository, twoFactor, sessions, hasher, audit });
  const profile = createProfile({ repository, sessions, audit, codes });
  const admin = createAdministration({ repository, sessions, tokens, guard, keyRing, audit });
  const socialRepository = createSocialRepository(db);
  const social = createSocialSignIn({
    repository,
    social: socialRepository,
    providers: socialProviders,
    kv,
    codes,
    sessions,
    twoFactor,
    audit,
    masterKey,
    hashKey,
  });
  const privacy = createPrivacy({
    repository,
    social: socialRepository,
    sessions,
    twoFactor,
    hasher,
    audit,
    hashKey,
    logger: runtime.logger,
    ...(personalData === undefined ? {} : { contributors: personalData }),
  });

  async function changeRoles(userId: string, role: Role, actor: Actor, add: boolean) {
    const result = await repository.transaction(async (transaction) => {
      const user = await repository.lockUserById(userId, transaction);
      if (user === undefined) throw new Error(`no user ${userId}`);
      const before = user.roles as Role[];
      const after = add ? [...new Set([...before, role])] : before.filter((item) => item !== role);
      if (after.length === before.length) return { roles: before, changed: false };
      await repository.updateUser(userId, { roles: after }, transaction);
      await audit(
        {
          action: add ? 'role.granted' : 'role.revoked',
          actor,
          subjectUserId: userId,
          resource: `user:${userId}`,
          oldValue: { roles: before },
          newValue: { roles: after },
        },
        transaction,
      );
      return { roles: after, changed: true };
    });
    if (result.changed && !add) await tokens.revokeUser(userId);
    return result;
  }

  return {
    repository,
    kv,
    hasher,
    keyRing,
    tokens,
    sessions,
    codes,
    smsBudget,
    twoFactor,
    guard,
    accounts,
    guests,
    security,
    profile,
    privacy,
    admin,
    signatures: createRequestVerifier({ repository, masterKey, kv }),
    partnerKeys: createPartnerKeys({ repository: createPartnerKeysRepository(db), masterKey, kv, audit }),
    social,
    audit,
    async logout({ verified, refreshToken }, context) {
      let sessionId: string | undefined;
      if (verified !== undefined) {
        await tokens.blacklist(verified.principal.tokenId!, verified.expiresAtMs);
        sessionId = verified.principal.sessionId;
      } else if (refreshToken !== undefined && refreshToken !== '') {
        sessionId = await sessions.sessionOfRefreshToken(refreshToken);
      }
      if (sessionId === undefined) return false;
      await sessions.end(sessionId, 'logout');
      const session = await repository.findSession(sessionId);
      await audit({
        action: 'auth.logout',
        actor: { kind: 'user', userId: session?.user_id ?? null, ...context },
        subjectUserId: session?.user_id ?? null,
        resource: `session:${sessionId}`,
      });
      return true;
    },
    grantRole: (userId, role, actor) => changeRoles(userId, role, actor, true),
    revokeRole: (userId, role, actor) => changeRoles(userId, role, actor, false),
    masterKey,
    hashKey,
    limitKey,
    onDeviceSession(listener) {
      deviceListeners.push(listener);
    },
  };
}
