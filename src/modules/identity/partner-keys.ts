import { createHash, randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Actor, AuditFunction } from './audit.js';
import type { IdentityTables } from './tables.js';
import { open, seal } from './crypto.js';
import { identityErrors } from './errors.js';
import type { KeyValue } from './kv.js';
import type { PartnerKeyRow, PartnerKeysRepository } from './partner-keys-repository.js';
import { readSignedHeaders, SIGNATURE_MAX_SKEW_MS, signatureMatches } from './signing.js';

/**
 * Partner API keys (spec §3.4, issue #26): server-to-server credentials an admin issues to a
 * partner (a restaurant's POS, an aggregator, a reporting tool), with scopes.
 *
 *  - A key is `fdpk_<keyId>.<secret>` (secret: 256 random bits). Only its SHA-256 is stored, so
 *    it cannot be shown again; it is shown once, at creation or rotation. Requests send it in
 *    `x-api-key`.
 *  - Each key has its own HMAC-SHA256 signing secret, also shown once. Checking a signature needs
 *    the secret itself, so it is sealed with the master key (AES-256-GCM), as the internal signing
 *    clients' secrets are. Routes marked `partner: { signed: true }` need both the key and a
 *    signature made with `signRequest({ keyId, secret: signingSecret, … })` (x-signature-*
 *    headers: timestamp within ±5 min, single-use nonce, SHA-256 of the body bytes).
 *  - Keys expire PARTNER_KEY_TTL_MS (90 days) after issue; rotation issues a successor with the
 *    same label, restaurant and scopes and leaves the old key valid for a grace period (default
 *    7 days, at most 30) so the partner can deploy the new one without downtime. Revocation is
 *    immediate. Every change is audited; use is recorded (last_used_at, at most once a minute).
 *  - Answers carry `x-api-key-expires-at`; within PARTNER_KEY_WARNING_MS of expiry also
 *    `x-api-key-expiry-warning`, and a sweep audits one `partner_key.expiry_reminder` per key.
 */
export const PARTNER_KEY_TTL_MS = 90 * 24 * 3_600_000;
export const PARTNER_KEY_WARNING_MS = 14 * 24 * 3_600_000;
export const ROTATION_GRACE_DEFAULT_DAYS = 7;
export const ROTATION_GRACE_MAX_DAYS = 30;
export const PARTNER_SCOPES = ['orders.kitchen', 'orders.read', 'payouts.read', 'reports.read'] as const;
export type PartnerScope = (typeof PARTNER_SCOPES)[number];

const KEY_PATTERN = /^fdpk_([0-9a-f]{24})\.([A-Za-z0-9_-]{43})$/;
const DAY_MS = 24 * 3_600_000;

/** The partner a request authenticated as (`partnerOf(request)`). */
export interface PartnerCaller {
  keyId: string;
  label: string;
  restaurantId: string | null;
  scopes: string[];
  expiresAt: Date;
}

export interface IssuedPartnerKey {
  keyId: string;
  /** Shown once. */
  apiKey: string;
  /** Shown once: the HMAC-SHA256 secret for signed operations. */
  signingSecret: string;
  expiresAt: Date;
}

export interface PartnerKeyView {
  keyId: string;
  label: string;
  restaurantId: string | null;
  scopes: string[];
  status: 'active' | 'rotated' | 'expired' | 'revoked';
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  rotatedFrom: string | null;
  rotatedTo: string | null;
  revokedAt: Date | null;
}

/** Pure: what a stored key is at `now`. */
export function statusOf(row: PartnerKeyRow, now: Date): PartnerKeyView['status'] {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at.getTime() <= now.getTime()) return 'expired';
  return row.rotated_to !== null ? 'rotated' : 'active';
}

export function viewOf(row: PartnerKeyRow, now: Date): PartnerKeyView {
  return {
    keyId: row.key_id,
    label: row.label,
    restaurantId: row.restaurant_id,
    scopes: row.scopes,
    status: statusOf(row, now),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    rotatedFrom: row.rotated_from,
    rotatedTo: row.rotated_to,
    revokedAt: row.revoked_at,
  };
}

/** Pure: the key id and secret of a presented key, or undefined when it is not one of ours. */
export function parsePartnerKey(presented: string): { keyId: string; secret: string } | undefined {
  const match = KEY_PATTERN.exec(presented);
  return match === null ? undefined : { keyId: match[1]!, secret: match[2]! };
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();
const aad = (keyId: string) => `partner-key:${keyId}`;
const refuse = (code: string, detail: string) => identityErrors.of('unauthorized', code, detail);

export interface PartnerKeys {
  issue(
    input: { label: string; restaurantId: string | null; scopes: string[]; idempotencyKey?: string },
    actor: Actor,
  ): Promise<IssuedPartnerKey & { view: PartnerKeyView }>;
  rotate(
    keyId: string,
    graceDays: number,
    actor: Actor,
  ): Promise<IssuedPartnerKey & { view: PartnerKeyView }>;
  revoke(keyId: string, actor: Actor): Promise<PartnerKeyView>;
  get(keyId: string): Promise<PartnerKeyView>;
  list(filter: {
    restaurantId?: string;
    expiringWithinDays?: number;
    limit: number;
  }): Promise<PartnerKeyView[]>;
  /** 401 unless the request carries a live key with `scope` (and, when `signed`, a good signature). */
  authenticate(
    request: { method: string; url: string; headers: Record<string, string | string[] | undefined> },
    requirement: { scope: string; signed: boolean },
    bodySha256Hex: string,
  ): Promise<PartnerCaller>;
  /** Audits one reminder per key expiring within PARTNER_KEY_WARNING_MS; returns how many. */
  remindExpiring(): Promise<number>;
}

export function createPartnerKeys(deps: {
  repository: PartnerKeysRepository;
  masterKey: Buffer;
  kv: KeyValue;
  audit: AuditFunction;
  now?: () => Date;
}): PartnerKeys {
  const { repository, masterKey, kv, audit } = deps;
  const now = deps.now ?? (() => new Date());

  function mint(): { keyId: string; apiKey: string; secret: string; signingSecret: string } {
    const keyId = randomBytes(12).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    return {
      keyId,
      secret,
      apiKey: `fdpk_${keyId}.${secret}`,
      signingSecret: randomBytes(32).toString('base64url'),
    };
  }

  async function verifyKey(presented: string | undefined, at: Date): Promise<PartnerKeyRow> {
    if (presented === undefined) throw refuse('api_key_missing', 'Send the partner API key in x-api-key.');
    const parsed = parsePartnerKey(presented.trim());
    const row = parsed === undefined ? undefined : await repository.find(parsed.keyId);
    // One answer for unknown, wrong, revoked and expired keys: the caller learns nothing.
    if (
      row === undefined ||
      !sha256(parsed!.secret).equals(row.key_sha256) ||
      statusOf(row, at) === 'revoked'
    ) {
      throw refuse('api_key_invalid', 'The API key is not valid.');
    }
    if (statusOf(row, at) === 'expired') throw refuse('api_key_invalid', 'The API key is not valid.');
    return row;
  }

  /**
   * A retried issue must not make a second key, and the first answer cannot be replayed (the key
   * is not kept): 409 naming the key, which the admin rotates if its secrets were lost.
   */
  async function refuseRepeatedIssue(idempotencyKey: string, trx: Transaction<IdentityTables>) {
    await repository.lockIssueKey(idempotencyKey, trx);
    const existing = await repository.findByIssueKey(idempotencyKey, trx);
    if (existing !== undefined) {
      throw identityErrors.of(
        'conflict',
        'partner_key_already_issued',
        'This request already issued a key; its secrets are shown once only. Rotate it to get new ones.',
        { details: { keyId: existing.key_id } },
      );
    }
  }

  return {
    async issue(input, actor) {
      const minted = mint();
      const at = now();
      const expiresAt = new Date(at.getTime() + PARTNER_KEY_TTL_MS);
      const row = await repository.transaction(async (trx) => {
        if (input.idempotencyKey !== undefined) await refuseRepeatedIssue(input.idempotencyKey, trx);
        await repository.insert(
          {
            keyId: minted.keyId,
            issueIdempotencyKey: input.idempotencyKey ?? null,
            label: input.label,
            restaurantId: input.restaurantId,
            scopes: [...new Set(input.scopes)].sort(),
            keySha256: sha256(minted.secret),
            signingSecretCiphertext: seal(masterKey, Buffer.from(minted.signingSecret), aad(minted.keyId)),
            createdBy: actor.userId ?? null,
            createdAt: at,
            expiresAt,
            rotatedFrom: null,
          },
          trx,
        );
        await audit(
          {
            action: 'partner_key.created',
            actor,
            resource: `partner-key:${minted.keyId}`,
            newValue: {
              label: input.label,
              restaurantId: input.restaurantId,
              scopes: input.scopes,
              expiresAt,
            },
          },
          trx,
        );
        return (await repository.find(minted.keyId, trx))!;
      });
      return {
        keyId: minted.keyId,
        apiKey: minted.apiKey,
        signingSecret: minted.signingSecret,
        expiresAt,
        view: viewOf(row, at),
      };
    },

    async rotate(keyId, graceDays, actor) {
      const minted = mint();
      const at = now();
      const expiresAt = new Date(at.getTime() + PARTNER_KEY_TTL_MS);
      const row = await repository.transaction(async (trx) => {
        const old = await repository.findForUpdate(keyId, trx);
        if (old === undefined)
          throw identityErrors.of('not_found', 'partner_key_not_found', 'There is no such key.');
        const status = statusOf(old, at);
        if (status !== 'active') {
          throw identityErrors.of(
            'conflict',
            'partner_key_not_active',
            `This key is ${status}; rotate its live successor.`,
            {
              details: { keyStatus: status, rotatedTo: old.rotated_to },
            },
          );
        }
        await repository.insert(
          {
            keyId: minted.keyId,
            label: old.label,
            restaurantId: old.restaurant_id,
            scopes: old.scopes,
            keySha256: sha256(minted.secret),
            signingSecretCiphertext: seal(masterKey, Buffer.from(minted.signingSecret), aad(minted.keyId)),
            createdBy: actor.userId ?? null,
            createdAt: at,
            expiresAt,
            rotatedFrom: old.key_id,
          },
          trx,
        );
        const graceEnds = new Date(Math.min(old.expires_at.getTime(), at.getTime() + graceDays * DAY_MS));
        await repository.markRotated(old.key_id, { to: minted.keyId, at, expiresAt: graceEnds }, trx);
        await audit(
          {
            action: 'partner_key.rotated',
            actor,
            resource: `partner-key:${old.key_id}`,
            oldValue: { expiresAt: old.expires_at },
            newValue: { successor: minted.keyId, oldKeyExpiresAt: graceEnds, graceDays },
          },
          trx,
        );
        return (await repository.find(minted.keyId, trx))!;
      });
      return {
        keyId: minted.keyId,
        apiKey: minted.apiKey,
        signingSecret: minted.signingSecret,
        expiresAt,
        view: viewOf(row, at),
      };
    },

    async revoke(keyId, actor) {
      const at = now();
      const row = await repository.transaction(async (trx) => {
        const current = await repository.findForUpdate(keyId, trx);
        if (current === undefined)
          throw identityErrors.of('not_found', 'partner_key_not_found', 'There is no such key.');
        // Revoking twice changes nothing and answers the same (a retried click is harmless).
        if (current.revoked_at !== null) return current;
        await repository.revoke(keyId, { at, by: actor.userId ?? null }, trx);
        await audit({ action: 'partner_key.revoked', actor, resource: `partner-key:${keyId}` }, trx);
        return (await repository.find(keyId, trx))!;
      });
      return viewOf(row, at);
    },

    async get(keyId) {
      const row = await repository.find(keyId);
      if (row === undefined)
        throw identityErrors.of('not_found', 'partner_key_not_found', 'There is no such key.');
      return viewOf(row, now());
    },

    async list(filter) {
      const at = now();
      const rows = await repository.list({
        restaurantId: filter.restaurantId,
        expiringBefore:
          filter.expiringWithinDays === undefined
            ? undefined
            : new Date(at.getTime() + filter.expiringWithinDays * DAY_MS),
        limit: filter.limit,
      });
      return rows.map((row) => viewOf(row, at));
    },

    async authenticate(request, requirement, bodySha256Hex) {
      const at = now();
      const presented = request.headers['x-api-key'];
      const row = await verifyKey(Array.isArray(presented) ? presented[0] : presented, at);
      if (requirement.signed) {
        const signed = readSignedHeaders(request.headers, at.getTime());
        if (signed.keyId !== row.key_id) throw refuse('signature_invalid', 'The signature is not valid.');
        const secret = open(masterKey, row.signing_secret_ciphertext, aad(row.key_id)).toString('utf8');
        if (!signatureMatches(secret, request, signed, bodySha256Hex))
          throw refuse('signature_invalid', 'The signature is not valid.');
        // Last, so a forged request cannot burn a legitimate caller's nonce.
        if (!(await kv.setIfAbsent(`pnonce:${row.key_id}:${signed.nonce}`, '1', 2 * SIGNATURE_MAX_SKEW_MS))) {
          throw refuse('signature_replayed', 'This signed request was already received.');
        }
      }
      if (!row.scopes.includes(requirement.scope)) {
        throw identityErrors.of(
          'forbidden',
          'api_key_scope_missing',
          `This key lacks the scope ${requirement.scope}.`,
        );
      }
      await repository.touch(row.key_id, at);
      return {
        keyId: row.key_id,
        label: row.label,
        restaurantId: row.restaurant_id,
        scopes: row.scopes,
        expiresAt: row.expires_at,
      };
    },

    async remindExpiring() {
      const at = now();
      const claimed = await repository.claimExpiryReminders(
        new Date(at.getTime() + PARTNER_KEY_WARNING_MS),
        at,
        100,
      );
      for (const key of claimed) {
        await audit({
          action: 'partner_key.expiry_reminder',
          actor: { kind: 'system' },
          resource: `partner-key:${key.key_id}`,
          newValue: { label: key.label, restaurantId: key.restaurant_id, expiresAt: key.expires_at },
        });
      }
      return claimed.length;
    },
  };
}
