import { describe, expect, it } from 'vitest';
import {
  deltaEntityTag,
  encodeSyncCursor,
  entityTagMatches,
  readFieldSelection,
  readSyncCursor,
  selectFields,
  SYNC_WINDOW_MS,
} from './delta-sync.js';

const OWNER = '11111111-1111-4111-8111-111111111111';
const NOW = Date.UTC(2026, 11, 6, 8, 0, 0);
const expected = { kind: 'orders' as const, ownerId: OWNER, nowMs: NOW, toleranceMs: 5_000 };

describe('sync cursors', () => {
  it('given a cursor this server gave, reads back its instant', () => {
    expect(readSyncCursor(encodeSyncCursor('orders', OWNER, NOW - 1_000), expected)).toEqual({
      kind: 'since',
      sinceMs: NOW - 1_000,
    });
  });
  it('given no cursor or one older than the window, answers a reset', () => {
    expect(readSyncCursor(undefined, expected)).toEqual({ kind: 'none' });
    expect(readSyncCursor(encodeSyncCursor('orders', OWNER, NOW - SYNC_WINDOW_MS - 1), expected)).toEqual({
      kind: 'expired',
    });
  });
  it('refuses another owner’s, another kind’s, a future, a forged and a garbage cursor', () => {
    for (const text of [
      encodeSyncCursor('orders', '22222222-2222-4222-8222-222222222222', NOW),
      encodeSyncCursor('addresses', OWNER, NOW),
      encodeSyncCursor('orders', OWNER, NOW + 60_000),
      Buffer.from(`s1.orders.${OWNER}.12.3`).toString('base64url'),
      Buffer.from(`s0.orders.${OWNER}.12`).toString('base64url'),
      'not a cursor',
      '',
      'A'.repeat(201),
    ])
      expect(readSyncCursor(text, expected).kind).toBe('invalid');
  });
});

describe('field selection', () => {
  const allowed = ['status', 'totalMinor'] as const;
  it('keeps the id and the chosen fields only', () => {
    const selection = readFieldSelection(' status ,', allowed);
    expect(selection).toEqual({ kind: 'some', fields: new Set(['status']) });
    expect(selectFields({ id: 'a', status: 'PLACED', totalMinor: 5 }, selection)).toEqual({
      id: 'a',
      status: 'PLACED',
    });
    expect(selectFields({ id: 'a', status: 'PLACED' }, readFieldSelection(undefined, allowed))).toEqual({
      id: 'a',
      status: 'PLACED',
    });
  });
  it('names the unknown fields and refuses an empty selection', () => {
    expect(readFieldSelection('status,pin', allowed)).toEqual({ kind: 'invalid', unknown: ['pin'] });
    expect(readFieldSelection(',,', allowed)).toEqual({ kind: 'invalid', unknown: [] });
  });
});

describe('entity tags', () => {
  it('ignore the cursor, so the same content is 304 whatever the clock', () => {
    const tag = deltaEntityTag({ cursor: 'a', items: [1] });
    expect(deltaEntityTag({ cursor: 'b', items: [1] })).toBe(tag);
    expect(deltaEntityTag({ cursor: 'a', items: [2] })).not.toBe(tag);
    expect(entityTagMatches(`"x", ${tag.slice(2)}`, tag)).toBe(true);
    expect(entityTagMatches('*', tag)).toBe(true);
    expect(entityTagMatches(undefined, tag)).toBe(false);
  });
});
