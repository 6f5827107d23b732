import { createHash } from 'node:crypto';
import { LedgerDecodeError } from './errors.js';
import type { LedgerBatchBody, LedgerBatchEvent } from './types.js';

/** The previous hash of the first event of a ledger stream. */
export const GENESIS_HASH = '0'.repeat(64);
const HASH_PATTERN = /^[0-9a-f]{64}$/;

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, undefined members left out, bigint
 * as a decimal string, numbers only as safe integers, no whitespace. The same value always
 * gives the same bytes, whatever order its properties were built in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'bigint':
      // Digits and an optional minus sign: nothing to escape.
      return `"${value.toString()}"`;
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new LedgerDecodeError(`not a safe integer: ${value}`);
      return String(value);
    case 'object':
      return Array.isArray(value) ? canonicalArray(value) : canonicalObject(value as Record<string, unknown>);
    default:
      throw new LedgerDecodeError(`cannot encode a ${typeof value}`);
  }
}

function canonicalArray(items: readonly unknown[]): string {
  let text = '[';
  for (let index = 0; index < items.length; index += 1) {
    if (index > 0) text += ',';
    text += canonicalJson(items[index]);
  }
  return `${text}]`;
}

/**
 * Sorted keys with their quoted prefix, per object shape (its keys in insertion order). Every
 * transfer of a batch has one of a handful of shapes, so the sort and the key quoting happen once
 * per shape, not once per object: the encoder runs on every transfer when sealing, decoding and
 * replaying. Bounded: shapes beyond the limit (free-form user data keys) are sorted each time.
 */
const SHAPE_CACHE_LIMIT = 1_024;
const shapes = new Map<string, ReadonlyArray<readonly [string, string]>>();

function sortedMembers(keys: string[]): ReadonlyArray<readonly [string, string]> {
  const signature = keys.join('\u0000');
  const cached = shapes.get(signature);
  if (cached !== undefined) return cached;
  const members = [...keys].sort().map((key) => [key, `${JSON.stringify(key)}:`] as const);
  if (shapes.size < SHAPE_CACHE_LIMIT) shapes.set(signature, members);
  return members;
}

function canonicalObject(record: Record<string, unknown>): string {
  let text = '{';
  let first = true;
  for (const [key, prefix] of sortedMembers(Object.keys(record))) {
    const member = record[key];
    if (member === undefined) continue;
    text += first ? prefix : `,${prefix}`;
    text += canonicalJson(member);
    first = false;
  }
  return `${text}}`;
}

/**
 * Body bytes already known for a decoded event (cut from its verified canonical text by the
 * codec), so that replay does not encode every transfer a second time. Weak: no memory is held.
 */
const knownBodyBytes = new WeakMap<LedgerBatchBody, Uint8Array>();

/** For the codec only: `bytes` must be exactly the canonical body of `body`. */
export function rememberBodyBytes(body: LedgerBatchBody, bytes: Uint8Array): void {
  knownBodyBytes.set(body, bytes);
}

/** The bytes a batch body is hashed as (UTF-8 of its canonical JSON). */
export function batchBodyBytes(body: LedgerBatchBody): Uint8Array {
  const known = knownBodyBytes.get(body);
  if (known !== undefined) return known;
  const canonical = canonicalJson({
    accountsCreated: body.accountsCreated,
    transfersAccepted: body.transfersAccepted,
  });
  return Buffer.from(canonical, 'utf8');
}

export function isHashHex(value: string): boolean {
  return HASH_PATTERN.test(value);
}

/** SHA-256(previous hash as 32 raw bytes ‖ bytes), as lowercase hex. */
export function chainHash(previousHashHex: string, canonicalBytes: Uint8Array): string {
  if (!isHashHex(previousHashHex))
    throw new LedgerDecodeError('previous hash must be 64 lowercase hex digits');
  return createHash('sha256')
    .update(Buffer.from(previousHashHex, 'hex'))
    .update(canonicalBytes)
    .digest('hex');
}

/** Seals a batch body into the chain after the event whose hash is `previousHash`. */
export function sealBatch(previousHash: string, body: LedgerBatchBody): LedgerBatchEvent {
  return {
    accountsCreated: body.accountsCreated,
    transfersAccepted: body.transfersAccepted,
    previousHash,
    hash: chainHash(previousHash, batchBodyBytes(body)),
  };
}
