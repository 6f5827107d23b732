/**
 * Personal data at rest (spec §3.5, issue #15 item 14): field-by-field AES-256-GCM encryption and
 * keyed blind indexes, for every context. Infrastructure: it knows no context.
 *
 * Ciphertext is text, versioned and naming its key: `pii1.<key id>.<base64url(iv ‖ tag ‖ body)>`.
 * The first key of the ring (PII_ENCRYPTION_KEYS) encrypts; every key decrypts, so keys rotate by
 * putting a new one first and re-encrypting at leisure (`needsReencryption`). The additional data
 * binds a ciphertext to its purpose (`users.phone`): copied into another column it fails to open.
 * Anything that does not open (unknown key, wrong key, altered bytes) throws
 * `FieldDecryptionError`: it fails closed, never answering ciphertext or a guess.
 *
 * A blind index is HMAC-SHA256 under a separate key (PII_BLIND_INDEX_KEY) of the purpose and the
 * normalised value: equal values give equal indexes, so lookups and uniqueness work on it, and a
 * copy of the database alone cannot test guesses. Normalise before indexing (E.164 phones,
 * lower-case e-mails).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { piiBlindIndexKey, piiKeyRing, type Config } from '../config/index.js';

const PREFIX = 'pii1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;

export class FieldDecryptionError extends Error {
  constructor(
    readonly purpose: string,
    reason: string,
  ) {
    super(`a ${purpose} value could not be decrypted: ${reason}`);
    this.name = 'FieldDecryptionError';
  }
}

export interface FieldCipher {
  /** The id of the key that encrypts now. */
  readonly currentKeyId: string;
  encrypt(purpose: string, plaintext: string): string;
  encrypt(purpose: string, plaintext: string | null): string | null;
  decrypt(purpose: string, ciphertext: string): string;
  decrypt(purpose: string, ciphertext: string | null): string | null;
  /** Whether a value is this module's ciphertext (a backfill tells old plaintext from it). */
  isCiphertext(value: string): boolean;
  /** True when the value was encrypted under another key than the current one. */
  needsReencryption(ciphertext: string): boolean;
  blindIndex(purpose: string, normalised: string): string;
  blindIndex(purpose: string, normalised: string | null): string | null;
}

export interface FieldKeys {
  keys: readonly { id: string; key: Buffer }[];
  blindIndexKey: Buffer;
}

export function createFieldCipher(options: FieldKeys): FieldCipher {
  if (options.keys.length === 0) throw new RangeError('the personal-data key ring is empty');
  const keys = new Map<string, Buffer>();
  for (const { id, key } of options.keys) {
    if (!KEY_ID.test(id))
      throw new RangeError(`personal-data key id ${JSON.stringify(id)} is not 1-16 of [A-Za-z0-9_-]`);
    if (key.length !== 32) throw new RangeError(`personal-data key ${id} must be 32 bytes`);
    if (keys.has(id)) throw new RangeError(`personal-data key id ${id} appears twice`);
    keys.set(id, key);
  }
  if (options.blindIndexKey.length !== 32) throw new RangeError('the blind-index key must be 32 bytes');
  const current = options.keys[0]!;
  const aad = (keyId: string, purpose: string) => Buffer.from(`${PREFIX}|${keyId}|${purpose}`, 'utf8');

  function encrypt(purpose: string, plaintext: string | null): string | null {
    if (plaintext === null) return null;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(aad(current.id, purpose));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${PREFIX}.${current.id}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  function parse(value: string): { keyId: string; bytes: Buffer } | undefined {
    const [prefix, keyId, payload, extra] = value.split('.');
    if (prefix !== PREFIX || keyId === undefined || payload === undefined || extra !== undefined)
      return undefined;
    if (!KEY_ID.test(keyId) || !/^[A-Za-z0-9_-]+$/.test(payload)) return undefined;
    const bytes = Buffer.from(payload, 'base64url');
    return bytes.length < IV_BYTES + TAG_BYTES ? undefined : { keyId, bytes };
  }

  function decrypt(purpose: string, ciphertext: string | null): string | null {
    if (ciphertext === null) return null;
    const parsed = parse(ciphertext);
    if (parsed === undefined) throw new FieldDecryptionError(purpose, 'not a personal-data ciphertext');
    const key = keys.get(parsed.keyId);
    if (key === undefined) throw new FieldDecryptionError(purpose, `key ${parsed.keyId} is not in the ring`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, parsed.bytes.subarray(0, IV_BYTES));
      decipher.setAAD(aad(parsed.keyId, purpose));
      decipher.setAuthTag(parsed.bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(parsed.bytes.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new FieldDecryptionError(purpose, 'authentication failed (wrong key or altered value)');
    }
  }

  function blindIndex(purpose: string, normalised: string | null): string | null {
    if (normalised === null) return null;
    return createHmac('sha256', options.blindIndexKey)
      .update(purpose)
      .update('\u0000')
      .update(normalised)
      .digest('base64url');
  }

  return {
    currentKeyId: current.id,
    encrypt: encrypt as FieldCipher['encrypt'],
    decrypt: decrypt as FieldCipher['decrypt'],
    isCiphertext: (value) => parse(value) !== undefined,
    needsReencryption: (ciphertext) => parse(ciphertext)?.keyId !== current.id,
    blindIndex: blindIndex as FieldCipher['blindIndex'],
  };
}

const ciphers = new WeakMap<object, FieldCipher>();

/** The cipher of a configuration (one per config object: every context shares it). */
export function fieldCipherOf(
  config: Pick<Config, 'PII_ENCRYPTION_KEYS' | 'PII_BLIND_INDEX_KEY'>,
): FieldCipher {
  let cipher = ciphers.get(config);
  if (cipher === undefined) {
    cipher = createFieldCipher({ keys: piiKeyRing(config), blindIndexKey: piiBlindIndexKey(config) });
    ciphers.set(config, cipher);
  }
  return cipher;
}
