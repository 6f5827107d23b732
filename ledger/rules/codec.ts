import { LedgerDecodeError } from './errors.js';
import { canonicalJson, rememberBodyBytes } from './hash.js';
import {
  ACCOUNT_KINDS,
  CURRENCIES,
  TRANSFER_CODES,
  type Account,
  type AcceptedTransfer,
  type LedgerBatchEvent,
  type TransferFlags,
} from './types.js';

/**
 * Stored form of a batch event: its canonical JSON (bigint as decimal strings). Decoding is
 * strict and checks that the text is exactly the canonical encoding of what it decoded to, so
 * that every stored byte is covered: a changed byte either fails to decode or changes the event,
 * and a changed event fails the hash chain.
 */

export function encodeBatchEvent(event: LedgerBatchEvent): string {
  return canonicalJson({
    accountsCreated: event.accountsCreated,
    transfersAccepted: event.transfersAccepted,
    previousHash: event.previousHash,
    hash: event.hash,
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeBatchEvent(stored: string | Uint8Array): LedgerBatchEvent {
  let text: string;
  let parsed: unknown;
  try {
    text = typeof stored === 'string' ? stored : utf8.decode(stored);
    parsed = JSON.parse(text);
  } catch (error) {
    throw new LedgerDecodeError(`not UTF-8 JSON: ${(error as Error).message}`);
  }
  const record = asRecord(parsed, 'event', ['accountsCreated', 'transfersAccepted', 'previousHash', 'hash']);
  const event: LedgerBatchEvent = {
    accountsCreated: asArray(record.accountsCreated, 'accountsCreated').map(decodeAccount),
    transfersAccepted: asArray(record.transfersAccepted, 'transfersAccepted').map(decodeTransfer),
    previousHash: asString(record.previousHash, 'previousHash'),
    hash: asString(record.hash, 'hash'),
  };
  if (encodeBatchEvent(event) !== text) throw new LedgerDecodeError('event is not in canonical form');
  // The text is canonical, so the hashed body is the text without its top-level hash members
  // (accounts have no `hash` key and strings escape their quotes, so the first match is them).
  const members = `,"hash":${JSON.stringify(event.hash)},"previousHash":${JSON.stringify(event.previousHash)}`;
  const at = text.indexOf(`${members},"transfersAccepted":`);
  if (at >= 0)
    rememberBodyBytes(event, Buffer.from(text.slice(0, at) + text.slice(at + members.length), 'utf8'));
  return event;
}

const ACCOUNT_KEYS = [
  'id',
  'currency',
  'kind',
  'flags',
  'debitsPending',
  'debitsPosted',
  'creditsPending',
  'creditsPosted',
  'closed',
];
const TRANSFER_KEYS = [
  'id',
  'debitAccountId',
  'creditAccountId',
  'amountMinor',
  'currency',
  'code',
  'flags',
  'pendingId',
  'timeoutSeconds',
  'userData',
  'timestamp',
];
const TRANSFER_FLAG_KEYS = [
  'linked',
  'pending',
  'postPending',
  'voidPending',
  'closingDebit',
  'closingCredit',
];

function decodeAccount(value: unknown, index: number): Account {
  const where = `accountsCreated[${index}]`;
  const record = asRecord(value, where, ACCOUNT_KEYS);
  const flags = asRecord(record.flags, `${where}.flags`, [
    'debitsMustNotExceedCredits',
    'creditsMustNotExceedDebits',
  ]);
  return {
    id: asString(record.id, `${where}.id`),
    currency: oneOf(record.currency, CURRENCIES, `${where}.currency`),
    kind: oneOf(record.kind, ACCOUNT_KINDS, `${where}.kind`),
    flags: {
      debitsMustNotExceedCredits: asBoolean(flags.debitsMustNotExceedCredits, `${where}.flags`),
      creditsMustNotExceedDebits: asBoolean(flags.creditsMustNotExceedDebits, `${where}.flags`),
    },
    debitsPending: asBigint(record.debitsPending, `${where}.debitsPending`),
    debitsPosted: asBigint(record.debitsPosted, `${where}.debitsPosted`),
    creditsPending: asBigint(record.creditsPending, `${where}.creditsPending`),
    creditsPosted: asBigint(record.creditsPosted, `${where}.creditsPosted`),
    ...(record.closed === undefined ? {} : { closed: asBoolean(record.closed, `${where}.closed`) }),
  };
}

function decodeTransfer(value: unknown, index: number): AcceptedTransfer {
  const where = `transfersAccepted[${index}]`;
  const record = asRecord(value, where, TRANSFER_KEYS);
  const flagRecord = asRecord(record.flags, `${where}.flags`, TRANSFER_FLAG_KEYS);
  const flags: Record<string, boolean> = {};
  for (const [name, flag] of Object.entries(flagRecord))
    flags[name] = asBoolean(flag, `${where}.flags.${name}`);
  const userData =
    record.userData === undefined ? undefined : asRecord(record.userData, `${where}.userData`, null);
  if (userData !== undefined) {
    for (const [key, entry] of Object.entries(userData)) asString(entry, `${where}.userData.${key}`);
  }
  const timeoutSeconds = record.timeoutSeconds;
  if (timeoutSeconds !== undefined && !Number.isSafeInteger(timeoutSeconds)) {
    throw new LedgerDecodeError(`${where}.timeoutSeconds must be an integer`);
  }
  return {
    id: asString(record.id, `${where}.id`),
    debitAccountId: asString(record.debitAccountId, `${where}.debitAccountId`),
    creditAccountId: asString(record.creditAccountId, `${where}.creditAccountId`),
    amountMinor: asBigint(record.amountMinor, `${where}.amountMinor`),
    currency: oneOf(record.currency, CURRENCIES, `${where}.currency`),
    code: oneOf(record.code, TRANSFER_CODES, `${where}.code`),
    flags: flags as TransferFlags,
    ...(record.pendingId === undefined
      ? {}
      : { pendingId: asString(record.pendingId, `${where}.pendingId`) }),
    ...(timeoutSeconds === undefined ? {} : { timeoutSeconds: timeoutSeconds as number }),
    ...(userData === undefined ? {} : { userData: userData as Record<string, string> }),
    timestamp: asBigint(record.timestamp, `${where}.timestamp`),
  };
}

function asRecord(
  value: unknown,
  where: string,
  allowedKeys: readonly string[] | null,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LedgerDecodeError(`${where} must be an object`);
  }
  if (allowedKeys !== null) {
    for (const key of Object.keys(value)) {
      if (!allowedKeys.includes(key)) throw new LedgerDecodeError(`${where} has unknown field ${key}`);
    }
  }
  return value as Record<string, unknown>;
}

function asArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new LedgerDecodeError(`${where} must be an array`);
  return value;
}

function asString(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new LedgerDecodeError(`${where} must be a string`);
  return value;
}

function asBoolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new LedgerDecodeError(`${where} must be a boolean`);
  return value;
}

const BIGINT_PATTERN = /^-?(0|[1-9][0-9]*)$/;

function asBigint(value: unknown, where: string): bigint {
  if (typeof value !== 'string' || !BIGINT_PATTERN.test(value)) {
    throw new LedgerDecodeError(`${where} must be an integer as a decimal string`);
  }
  return BigInt(value);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], where: string): T {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) throw new LedgerDecodeError(`${where} is not one of ${allowed.join(', ')}`);
  return match;
}
