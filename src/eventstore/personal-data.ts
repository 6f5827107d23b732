import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ownTables } from '../db/own-tables.js';
import type { EventStoreTables } from './tables.js';
import { REDACTED, type PersonalDataMarker } from './types.js';
import { LRUCache } from 'lru-cache';

/**
 * Crypto-shredding (docs/architecture.md, decision 8). Each person has a random AES-256-GCM data key, stored wrapped
 * by the master key in `eventstore_data_keys`, outside every stream. Personal fields of an event
 * are taken out of `data` and stored as one ciphertext whose AAD binds it to the stream, the event
 * id, the type and the schema version, so a ciphertext copied into another event fails to open.
 * Erasure deletes the key: the ciphertext in the immutable event can never be read again.
 */
export const SEALED_FIELD = '$personal';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Unwrapped keys kept in memory; bounded. Erasure in this process evicts at once. */
const CACHE_MAX = 10_000;
/** Other processes evict within this time (they re-check the key table). */
const CACHE_TTL_MS = 30_000;
const SUBJECT_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export interface SealedPersonalData {
  subject: string;
  fields: string[];
  iv: string;
  tag: string;
  ciphertext: string;
}

export interface EventBinding {
  stream: string;
  eventId: string;
  type: string;
  schemaVersion: number;
}

export interface PersonalDataVault {
  /** Removes the marked fields from `data` and returns the data with the sealed field added. */
  seal(
    data: Record<string, unknown>,
    marker: PersonalDataMarker,
    binding: EventBinding,
  ): Promise<Record<string, unknown>>;
  /** Puts the fields back, or `[redacted]` in each when the key was erased. */
  open(data: unknown, binding: EventBinding): Promise<unknown>;
  erase(subjectId: string): Promise<void>;
  isErased(subjectId: string): Promise<boolean>;
}

function aad(binding: EventBinding, subject: string): Buffer {
  return Buffer.from(
    JSON.stringify([binding.stream, binding.eventId, binding.type, binding.schemaVersion, subject]),
  );
}

function gcmEncrypt(
  key: Buffer,
  plaintext: Buffer,
  additional: Buffer,
): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additional);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

function gcmDecrypt(key: Buffer, iv: Buffer, tag: Buffer, ciphertext: Buffer, additional: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(additional);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

export function isSealed(value: unknown): value is SealedPersonalData {
  if (typeof value !== 'object' || value === null) return false;
  const sealed = value as Record<string, unknown>;
  return (
    typeof sealed.subject === 'string' &&
    Array.isArray(sealed.fields) &&
    typeof sealed.ciphertext === 'string'
  );
}

export function createPersonalDataVault<DB extends EventStoreTables>(options: {
  db: Kysely<DB>;
  masterKey: Buffer;
}): PersonalDataVault {
  const { masterKey } = options;
  const db = ownTables<EventStoreTables, DB>(options.db);
  if (masterKey.length !== KEY_BYTES) throw new RangeError('the master key must be 32 bytes');
  const cache = new LRUCache<string, { key: Buffer; loadedAt: number }>({ max: CACHE_MAX });

  const wrap = (subject: string, key: Buffer): Buffer => {
    const { iv, tag, ciphertext } = gcmEncrypt(masterKey, key, Buffer.from(`data-key:${subject}`));
    return Buffer.concat([iv, tag, ciphertext]);
  };
  const unwrap = (subject: string, wrapped: Buffer): Buffer =>
    gcmDecrypt(
      masterKey,
      wrapped.subarray(0, IV_BYTES),
      wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES),
      wrapped.subarray(IV_BYTES + TAG_BYTES),
      Buffer.from(`data-key:${subject}`),
    );

  const remember = (subject: string, key: Buffer): Buffer => {
    cache.set(subject, { key, loadedAt: Date.now() });
    return key;
  };

  async function loadKey(subject: string): Promise<Buffer | undefined> {
    const cached = cache.get(subject);
    if (cached !== undefined && Date.now() - cached.loadedAt < CACHE_TTL_MS) return cached.key;
    cache.delete(subject);
    const row = await db
      .selectFrom('eventstore_data_keys')
      .select('wrapped_key')
      .where('subject_id', '=', subject)
      .executeTakeFirst();
    return row === undefined ? undefined : remember(subject, unwrap(subject, row.wrapped_key));
  }

  async function keyForWriting(subject: string): Promise<Buffer> {
    const existing = await loadKey(subject);
    if (existing !== undefined) return existing;
    const erased = await db
      .selectFrom('eventstore_erasures')
      .select('subject_id')
      .where('subject_id', '=', subject)
      .executeTakeFirst();
    // An erased person's data must never be written again under a fresh key.
    if (erased !== undefined)
      throw new Error(`personal data of ${subject} was erased; it cannot be stored again`);
    await db
      .insertInto('eventstore_data_keys')
      .values({ subject_id: subject, wrapped_key: wrap(subject, randomBytes(KEY_BYTES)) })
      .onConflict((conflict) => conflict.column('subject_id').doNothing())
      .execute();
    const key = await loadKey(subject);
    if (key === undefined) throw new Error(`data key of ${subject} vanished while being created`);
    return key;
  }

  return {
    async seal(data, marker, binding) {
      if (!SUBJECT_PATTERN.test(marker.subjectId))
        throw new RangeError('a personal data subject id is 1-128 of [A-Za-z0-9._:-]');
      const key = await keyForWriting(marker.subjectId);
      const personal: Record<string, unknown> = {};
      const rest: Record<string, unknown> = { ...data };
      // Only fields present are sealed (and later redacted): an absent field stays absent.
      const present = marker.fields.filter((field) => field in rest);
      for (const field of present) {
        personal[field] = rest[field];
        delete rest[field];
      }
      const plaintext = Buffer.from(JSON.stringify(personal));
      const sealed = gcmEncrypt(key, plaintext, aad(binding, marker.subjectId));
      rest[SEALED_FIELD] = {
        subject: marker.subjectId,
        fields: present,
        iv: sealed.iv.toString('base64'),
        tag: sealed.tag.toString('base64'),
        ciphertext: sealed.ciphertext.toString('base64'),
      } satisfies SealedPersonalData;
      return rest;
    },

    async open(data, binding) {
      if (typeof data !== 'object' || data === null) return data;
      const sealed = (data as Record<string, unknown>)[SEALED_FIELD];
      if (!isSealed(sealed)) return data;
      const { [SEALED_FIELD]: _omitted, ...rest } = data as Record<string, unknown>;
      const key = await loadKey(sealed.subject);
      if (key === undefined) {
        for (const field of sealed.fields) rest[field] = REDACTED;
        return rest;
      }
      const plaintext = gcmDecrypt(
        key,
        Buffer.from(sealed.iv, 'base64'),
        Buffer.from(sealed.tag, 'base64'),
        Buffer.from(sealed.ciphertext, 'base64'),
        aad(binding, sealed.subject),
      );
      return { ...rest, ...(JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>) };
    },

    async erase(subjectId) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('eventstore_data_keys').where('subject_id', '=', subjectId).execute();
        await trx
          .insertInto('eventstore_erasures')
          .values({ subject_id: subjectId })
          .onConflict((conflict) => conflict.column('subject_id').doNothing())
          .execute();
      });
      cache.delete(subjectId);
    },

    async isErased(subjectId) {
      const row = await db
        .selectFrom('eventstore_erasures')
        .select('subject_id')
        .where('subject_id', '=', subjectId)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
