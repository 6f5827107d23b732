import {
  canonicalJson,
  chainHash,
  decodeBatchEvent,
  encodeBatchEvent,
  LedgerDecodeError,
  type AcceptedTransfer,
  type LedgerBatchBody,
  type LedgerBatchEvent,
} from '../rules/index.js';

/**
 * How a sealed ledger batch sits in the event store. The event's data is `{ "batch": <the
 * canonical encoding as one JSON string> }`: a string survives jsonb (and EventStoreDB) byte for
 * byte, whereas an object would have its keys reordered and its numbers normalised, and the strict
 * decoder could no longer prove that every stored byte is covered by the hash.
 */
export const LEDGER_EVENT_TYPE = 'LedgerBatch';
export const DEFAULT_LEDGER_STREAM = 'ledger-main';
export const LEDGER_STREAM_PREFIX = 'ledger-';

export interface LedgerEventData {
  readonly batch: string;
}

export function ledgerEventData(event: LedgerBatchEvent): LedgerEventData {
  return { batch: encodeBatchEvent(event) };
}

/**
 * sealBatch + encodeBatchEvent in one canonical pass: both texts are assembled from the two
 * arrays' canonical JSON (keys sort as accountsCreated < hash < previousHash < transfersAccepted),
 * so each transfer is encoded once per batch instead of twice. Equal byte for byte to the rules'
 * functions (writer.test.ts checks it).
 */
export function sealEncoded(
  previousHash: string,
  body: LedgerBatchBody,
): { hash: string; data: LedgerEventData } {
  const accounts = canonicalJson(body.accountsCreated);
  const transfers = canonicalJson(body.transfersAccepted);
  const hash = chainHash(
    previousHash,
    Buffer.from(`{"accountsCreated":${accounts},"transfersAccepted":${transfers}}`, 'utf8'),
  );
  return {
    hash,
    data: {
      batch: `{"accountsCreated":${accounts},"hash":"${hash}","previousHash":"${previousHash}","transfersAccepted":${transfers}}`,
    },
  };
}

/** The stored text of a recorded ledger event, or a LedgerDecodeError naming what is wrong. */
export function storedBatchText(data: unknown): string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new LedgerDecodeError('event data must be an object');
  }
  const keys = Object.keys(data);
  const batch = (data as { batch?: unknown }).batch;
  if (keys.length !== 1 || typeof batch !== 'string') {
    throw new LedgerDecodeError('event data must be exactly { batch: string }');
  }
  return batch;
}

export function decodeLedgerEvent(data: unknown): LedgerBatchEvent {
  return decodeBatchEvent(storedBatchText(data));
}

/** Canonical JSON of one accepted transfer (the snapshot's idempotency index stores it). */
export function encodeTransfer(transfer: AcceptedTransfer): string {
  return canonicalJson(transfer);
}

const NO_HASH = '0'.repeat(64);

/** Strict decoding of `encodeTransfer`'s output, through the batch codec's own checks. */
export function decodeTransfer(text: string): AcceptedTransfer {
  const wrapped = `{"accountsCreated":[],"hash":"${NO_HASH}","previousHash":"${NO_HASH}","transfersAccepted":[${text}]}`;
  const decoded = decodeBatchEvent(wrapped).transfersAccepted;
  const transfer = decoded[0];
  if (decoded.length !== 1 || transfer === undefined) throw new LedgerDecodeError('not one transfer');
  return transfer;
}
