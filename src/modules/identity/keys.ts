import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { open, seal } from './crypto.js';
import type { IdentityRepository } from './repository.js';

/**
 * Access-token signing keys (Ed25519, `EdDSA`). The newest key signs; older keys keep
 * verifying until every token they signed has expired, then leave the JWKS. Keys live in
 * PostgreSQL with the private half sealed by the master key, so every instance signs with
 * the same key and a restart invalidates nobody.
 */
export const SIGNING_ALGORITHM = 'EdDSA' as const;
export const KEY_ROTATION_INTERVAL_MS = 30 * 24 * 3_600_000;
/** An unknown `kid` reloads the ring at most this often (another instance may have rotated). */
const RELOAD_THROTTLE_MS = 5_000;
/** Signing and the JWKS pick up another instance's rotation within this time. */
const STALE_AFTER_MS = 60_000;

export interface SigningKey {
  kid: string;
  publicJwk: JWK;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  createdAt: Date;
  retireAfter: Date;
  verifyUntil: Date;
}

export interface KeyRing {
  /** The key that signs now; creates or rotates one when due. */
  signingKey(): Promise<SigningKey>;
  /** A key that may verify now, by id; reloads once on a miss. */
  verificationKey(kid: string): Promise<SigningKey | undefined>;
  jwks(): Promise<{ keys: JWK[] }>;
  /** Starts a new key now; the previous keys stop signing and verify until their tokens expire. */
  rotate(): Promise<SigningKey>;
}

export interface KeyRingOptions {
  repository: IdentityRepository;
  masterKey: Buffer;
  accessTokenTtlMs: number;
  rotationIntervalMs?: number;
  now?: () => number;
}

export function createKeyRing(options: KeyRingOptions): KeyRing {
  const { repository, masterKey, accessTokenTtlMs } = options;
  const rotationIntervalMs = options.rotationIntervalMs ?? KEY_ROTATION_INTERVAL_MS;
  const now = options.now ?? Date.now;
  // A key must verify for one token lifetime after it stops signing, plus clock skew.
  const graceMs = accessTokenTtlMs + 60_000;
  let keys: SigningKey[] = [];
  let loadedAt = 0;
  let loading: Promise<void> | undefined;

  async function load(): Promise<void> {
    const rows = await repository.listSigningKeys();
    keys = await Promise.all(
      rows.map(async (row) => {
        const privateJwk = JSON.parse(
          open(masterKey, row.private_key_ciphertext, `signing-key:${row.kid}`).toString('utf8'),
        ) as JWK;
        return {
          kid: row.kid,
          publicJwk: row.public_jwk as JWK,
          publicKey: (await importJWK(row.public_jwk as JWK, SIGNING_ALGORITHM)) as CryptoKey,
          privateKey: (await importJWK(privateJwk, SIGNING_ALGORITHM)) as CryptoKey,
          createdAt: row.created_at,
          retireAfter: row.retire_after,
          verifyUntil: row.verify_until,
        };
      }),
    );
    loadedAt = now();
  }

  const reload = () => (loading ??= load().finally(() => (loading = undefined)));

  async function create(): Promise<SigningKey> {
    const kid = `${new Date(now()).toISOString().slice(0, 10)}.${randomUUID().slice(0, 8)}`;
    const pair = await generateKeyPair(SIGNING_ALGORITHM, { crv: 'Ed25519', extractable: true });
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: SIGNING_ALGORITHM, use: 'sig' };
    const privateJwk = await exportJWK(pair.privateKey);
    const retireAfter = new Date(now() + rotationIntervalMs);
    await repository.transaction(async (transaction) => {
      await repository.insertSigningKey(
        {
          kid,
          alg: SIGNING_ALGORITHM,
          publicJwk,
          privateKeyCiphertext: seal(
            masterKey,
            Buffer.from(JSON.stringify(privateJwk)),
            `signing-key:${kid}`,
          ),
          retireAfter,
          verifyUntil: new Date(retireAfter.getTime() + graceMs),
        },
        transaction,
      );
      // Older keys stop signing now and verify for one more token lifetime.
      await repository.retireSigningKeys(new Date(now()), new Date(now() + graceMs), kid, transaction);
    });
    // A load already in flight may have read the table before this insert: wait for it, then read again.
    await loading?.catch(() => undefined);
    await reload();
    const created = keys.find((key) => key.kid === kid);
    if (created === undefined) throw new Error('the new signing key did not load');
    return created;
  }

  const current = () => keys.find((key) => key.retireAfter.getTime() > now());
  // Sessions starting together on an empty key table make one key, not one each.
  let creating: Promise<SigningKey> | undefined;

  return {
    async signingKey() {
      if (now() - loadedAt > STALE_AFTER_MS) await reload();
      return current() ?? (await (creating ??= create().finally(() => (creating = undefined))));
    },
    async verificationKey(kid) {
      const find = () => keys.find((key) => key.kid === kid && key.verifyUntil.getTime() > now());
      const found = find();
      if (found !== undefined || now() - loadedAt < RELOAD_THROTTLE_MS) return found;
      await reload();
      return find();
    },
    async jwks() {
      if (now() - loadedAt > STALE_AFTER_MS) await reload();
      return { keys: keys.filter((key) => key.verifyUntil.getTime() > now()).map((key) => key.publicJwk) };
    },
    rotate: create,
  };
}
