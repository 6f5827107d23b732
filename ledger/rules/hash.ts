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
      return JSON.stringify(value.toString());
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
  return `[${items.map((item) => canonicalJson(item)).join(',')}]`;
}

function canonicalObject(record: Record<string, unknown>): string {
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
}

/** The bytes a batch body is hashed as (UTF-8 of its canonical JSON). */
export function batchBodyBytes(body: LedgerBatchBody): Uint8Array {
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
