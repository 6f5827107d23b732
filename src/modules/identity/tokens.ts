import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import {
  PERMISSIONS_BY_ROLE,
  ROLES,
  type Permission,
  type Principal,
  type Role,
} from '../../shared/principal.js';
import { SIGNING_ALGORITHM, type KeyRing } from './keys.js';
import type { KeyValue } from './kv.js';
import { createRevocations } from './revocations.js';
import { LRUCache } from 'lru-cache';

/**
 * Access tokens (spec §3.1): 15 minutes, EdDSA with a `kid`, carrying roles and permissions.
 * Verification pins the algorithm, requires a known key, the issuer and audience, then one
 * round trip to the key-value store for the revocation marks (the `jti` blacklist written by
 * logout, the session's revocation and the user's "revoked before" instant), which fall back on
 * PostgreSQL when the store lost them (revocations.ts).
 */
export const ACCESS_TOKEN_TTL_MS = 15 * 60_000;
export const TOKEN_ISSUER = 'food-delivery-cm';
export const TOKEN_AUDIENCE = 'food-delivery-api';
const MAX_TOKEN_CHARS = 4_096;
/**
 * Verified signatures kept in memory (token → claims), so a client's every request does not cost
 * an Ed25519 verification (about a twentieth of a request's CPU). Bounded; an entry is used only
 * while its key still verifies and before the token expires; revocation is checked every time.
 */
const VERIFIED_CACHE_ENTRIES = 20_000;
const CLOCK_TOLERANCE_S = 5;

export interface AccessTokenInput {
  userId: string;
  sessionId: string;
  kind: 'user' | 'guest';
  roles: Role[];
  twoFactorVerified: boolean;
  stepUpAt?: Date | null;
}

export interface VerifiedToken {
  principal: Principal;
  twoFactorVerified: boolean;
  expiresAtMs: number;
  issuedAtMs: number;
}

export class TokenError extends Error {
  constructor(readonly code: 'invalid_token' | 'token_expired' | 'token_revoked') {
    super(code);
    this.name = 'TokenError';
  }
}

interface Claims extends JWTPayload {
  sid: string;
  knd: 'user' | 'guest';
  roles: Role[];
  perms: Permission[];
  tfa: boolean;
  su?: number;
  /** Issue instant in ms: revocation marks are compared at this precision. */
  tms: number;
}

export function permissionsOf(kind: 'user' | 'guest', roles: readonly Role[]): Permission[] {
  const effective: readonly Role[] = kind === 'guest' ? ['guest'] : roles;
  return [...new Set(effective.flatMap((role) => PERMISSIONS_BY_ROLE[role] as readonly Permission[]))];
}

export interface TokenService {
  issue(input: AccessTokenInput): Promise<{ token: string; tokenId: string; expiresAt: Date }>;
  verify(token: string): Promise<VerifiedToken>;
  /** Logout: the token stops working at once, until it would have expired anyway. */
  blacklist(tokenId: string, expiresAtMs: number): Promise<void>;
  revokeSession(sessionId: string): Promise<void>;
  /** Every token of the user issued before now stops working (force logout, role removal). */
  revokeUser(userId: string): Promise<void>;
}

function isClaims(payload: JWTPayload): payload is Claims {
  const claims = payload as Partial<Claims>;
  return (
    typeof payload.sub === 'string' &&
    typeof payload.jti === 'string' &&
    typeof claims.sid === 'string' &&
    (claims.knd === 'user' || claims.knd === 'guest') &&
    Array.isArray(claims.roles) &&
    claims.roles.every((role) => (ROLES as readonly string[]).includes(role)) &&
    Array.isArray(claims.perms) &&
    typeof claims.tfa === 'boolean' &&
    typeof claims.tms === 'number'
  );
}

/** How long a revocation mark matters: a token's lifetime, its clock tolerance and a margin. */
export const REVOCATION_MARK_TTL_MS = ACCESS_TOKEN_TTL_MS + 60_000;

export function createTokenService(options: {
  keyRing: KeyRing;
  kv: KeyValue;
  /** Where revocations are kept for good (PostgreSQL); the key-value store holds a copy. */
  repository: Parameters<typeof createRevocations>[0]['repository'];
  now?: () => number;
  onReloadError?: (error: unknown) => void;
}): TokenService {
  const { keyRing } = options;
  const now = options.now ?? Date.now;
  const revocations = createRevocations({
    kv: options.kv,
    repository: options.repository,
    markTtlMs: REVOCATION_MARK_TTL_MS,
    now,
    ...(options.onReloadError === undefined ? {} : { onReloadError: options.onReloadError }),
  });

  async function checkRevocation(claims: Claims): Promise<void> {
    if (await revocations.isRevoked({ jti: claims.jti!, sid: claims.sid, sub: claims.sub!, tms: claims.tms }))
      throw new TokenError('token_revoked');
  }

  // Least recently used tokens leave first: a busy user's token stays while idle ones go.
  const verified = new LRUCache<string, { claims: Claims; kid: string }>({ max: VERIFIED_CACHE_ENTRIES });

  /** Signature, algorithm, key, issuer, audience, type and expiry: checked once per token, then remembered. */
  async function verifiedClaims(token: string): Promise<Claims> {
    const cached = verified.get(token);
    if (cached !== undefined) {
      if (now() >= (cached.claims.exp! + CLOCK_TOLERANCE_S) * 1000) {
        verified.delete(token);
        throw new TokenError('token_expired');
      }
      if ((await keyRing.verificationKey(cached.kid)) !== undefined) return cached.claims;
      verified.delete(token);
    }
    let payload: JWTPayload;
    let kid = '';
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header) => {
          if (header.alg !== SIGNING_ALGORITHM || typeof header.kid !== 'string')
            throw new TokenError('invalid_token');
          const key = await keyRing.verificationKey(header.kid);
          if (key === undefined) throw new TokenError('invalid_token');
          kid = header.kid;
          return key.publicKey;
        },
        {
          algorithms: [SIGNING_ALGORITHM],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          typ: 'at+jwt',
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: new Date(now()),
        },
      ));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new TokenError('token_expired');
      throw new TokenError('invalid_token');
    }
    if (!isClaims(payload) || typeof payload.exp !== 'number') throw new TokenError('invalid_token');
    verified.set(token, { claims: payload, kid });
    return payload;
  }

  return {
    async issue(input) {
      const key = await keyRing.signingKey();
      const tokenId = randomUUID();
      const issuedAtMs = now();
      const expiresAt = new Date(issuedAtMs + ACCESS_TOKEN_TTL_MS);
      const claims: Omit<Claims, 'sub' | 'jti'> = {
        sid: input.sessionId,
        knd: input.kind,
        roles: input.kind === 'guest' ? ['guest'] : input.roles,
        perms: permissionsOf(input.kind, input.roles),
        tfa: input.twoFactorVerified,
        tms: issuedAtMs,
        ...(input.stepUpAt ? { su: Math.floor(input.stepUpAt.getTime() / 1000) } : {}),
      };
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'at+jwt' })
        .setSubject(input.userId)
        .setJti(tokenId)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt(Math.floor(issuedAtMs / 1000))
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(key.privateKey);
      return { token, tokenId, expiresAt };
    },

    async verify(token) {
      if (token.length > MAX_TOKEN_CHARS) throw new TokenError('invalid_token');
      const payload = await verifiedClaims(token);
      await checkRevocation(payload);
      return {
        principal: {
          kind: payload.knd,
          userId: payload.sub!,
          sessionId: payload.sid,
          roles: payload.roles,
          permissions: new Set(payload.perms),
          ...(payload.su === undefined ? {} : { stepUpAt: payload.su * 1000 }),
          tokenId: payload.jti!,
        },
        twoFactorVerified: payload.tfa,
        expiresAtMs: payload.exp! * 1000,
        issuedAtMs: payload.tms,
      };
    },

    blacklist: (tokenId, expiresAtMs) => revocations.blacklist(tokenId, expiresAtMs),
    revokeSession: (sessionId) => revocations.revokeSession(sessionId),
    revokeUser: (userId) => revocations.revokeUser(userId),
  };
}
