import { describe, expect, it } from 'vitest';
import { decodeBatchEvent, encodeBatchEvent } from './codec.js';
import { LedgerDecodeError } from './errors.js';
import { GENESIS_HASH, batchBodyBytes, canonicalJson, chainHash, sealBatch } from './hash.js';
import type { AcceptedTransfer, LedgerBatchBody } from './types.js';
import { newAccount, sealAll } from './testing/fixtures.js';

const ACCEPTED: AcceptedTransfer = {
  id: 't1',
  debitAccountId: 'a',
  creditAccountId: 'b',
  amountMinor: 1_500n,
  currency: 'XAF',
  code: 'topup',
  flags: { pending: true },
  timeoutSeconds: 900,
  userData: { paymentId: 'p1', orderId: 'o1' },
  timestamp: 1_767_225_600_000_000_000n,
};
const BODY: LedgerBatchBody = {
  accountsCreated: [
    { ...newAccount('a'), debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n },
  ],
  transfersAccepted: [ACCEPTED],
};

describe('canonical bytes', () => {
  it('sorts keys, leaves out undefined members and writes bigint as decimal strings', () => {
    expect(canonicalJson({ b: 2n, a: [true, null, 'x'], c: undefined, d: { z: 1, y: -3n } })).toBe(
      '{"a":[true,null,"x"],"b":"2","d":{"y":"-3","z":1}}',
    );
  });

  it('gives the same bytes whatever order the properties were built in', () => {
    const reordered = Object.fromEntries(Object.entries(ACCEPTED).reverse()) as unknown as AcceptedTransfer;
    expect(batchBodyBytes({ ...BODY, transfersAccepted: [reordered] })).toEqual(batchBodyBytes(BODY));
  });

  it('refuses numbers that JSON cannot carry exactly', () => {
    expect(() => canonicalJson({ rate: 0.15 })).toThrow(LedgerDecodeError);
    expect(() => canonicalJson(2 ** 60)).toThrow(LedgerDecodeError);
  });
});

describe('hash chain', () => {
  it('hashes SHA-256 of the previous hash as 32 raw bytes followed by the body bytes', () => {
    expect(chainHash(GENESIS_HASH, new TextEncoder().encode('abc'))).toBe(
      '365aa7d8f7f9402c4b9434502b4cc89ddb09fe50d7cd95b493b834c62d5a5370',
    );
  });

  it('refuses a previous hash that is not 64 lowercase hex digits', () => {
    expect(() => chainHash('ABC', new Uint8Array())).toThrow(LedgerDecodeError);
    expect(() => chainHash(GENESIS_HASH.toUpperCase().replace(/0$/, 'A'), new Uint8Array())).toThrow(
      LedgerDecodeError,
    );
  });

  it('links each sealed event to the one before it, starting from 64 zeros', () => {
    const [first, second] = sealAll([BODY, { accountsCreated: [], transfersAccepted: [] }]);
    expect(first?.previousHash).toBe(GENESIS_HASH);
    expect(second?.previousHash).toBe(first?.hash);
    expect(second?.hash).toBe(
      chainHash(first?.hash ?? '', batchBodyBytes({ accountsCreated: [], transfersAccepted: [] })),
    );
  });
});

describe('stored event codec', () => {
  const event = sealBatch(GENESIS_HASH, BODY);

  it('decodes what it encodes', () => {
    expect(decodeBatchEvent(encodeBatchEvent(event))).toEqual(event);
    expect(decodeBatchEvent(new TextEncoder().encode(encodeBatchEvent(event)))).toEqual(event);
  });

  it('refuses text that is not exactly the canonical encoding', () => {
    const text = encodeBatchEvent(event);
    const variants = [
      text.replace('{', '{ '),
      text.replace('"amountMinor":"1500"', '"amountMinor":"01500"'),
      text.replace('"amountMinor":"1500"', '"amountMinor":1500'),
      text.replace('"code":"topup"', '"code":"gift"'),
      text.replace('"id":"t1"', '"id":"t1","extra":"x"'),
      text.slice(0, -1),
    ];
    for (const variant of variants)
      expect(() => decodeBatchEvent(variant), variant).toThrow(LedgerDecodeError);
    expect(() => decodeBatchEvent(new Uint8Array([0xff, 0xfe]))).toThrow(LedgerDecodeError);
  });
});
