import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparePositions, decodePosition, encodePosition } from './position.js';
import { createUpcasterRegistry } from './upcasting.js';
import { createWakeSignal } from './wake.js';

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

describe('positions', () => {
  it('round-trip and compare as strings exactly as the (major, minor) tuples compare', () => {
    fc.assert(
      fc.property(u64, u64, u64, u64, (a1, a2, b1, b2) => {
        const a = encodePosition(a1, a2);
        const b = encodePosition(b1, b2);
        expect(decodePosition(a)).toEqual({ major: a1, minor: a2 });
        const tuple = a1 === b1 ? Math.sign(Number(a2 - b2)) : Math.sign(Number(a1 - b1));
        expect(Math.sign(comparePositions(a, b))).toBe(tuple);
        expect(a < b ? -1 : a > b ? 1 : 0).toBe(tuple);
      }),
      { numRuns: 300 },
    );
    expect(comparePositions('start', encodePosition(0n, 0n))).toBeLessThan(0);
  });
});

describe('upcasters', () => {
  it('apply every step from the stored version and leave unknown types alone', () => {
    const registry = createUpcasterRegistry()
      .register('PriceSet', 1, (data) => ({ amountMinor: (data as { price: number }).price }))
      .register('PriceSet', 2, (data) => ({ ...(data as object), currency: 'XAF' }));
    expect(registry.upcast('PriceSet', 1, { price: 5 }, {})).toEqual({
      data: { amountMinor: 5, currency: 'XAF' },
      schemaVersion: 3,
    });
    expect(registry.upcast('PriceSet', 3, { amountMinor: 5, currency: 'XAF' }, {}).schemaVersion).toBe(3);
    expect(registry.upcast('Other', 1, { x: 1 }, {})).toEqual({ data: { x: 1 }, schemaVersion: 1 });
    expect(() => registry.register('PriceSet', 1, (data) => data)).toThrow(/twice/);
  });
});

describe('wake signal', () => {
  it('does not lose a wake-up that came between a read and the wait', async () => {
    const signal = createWakeSignal();
    const before = signal.version;
    signal.wake();
    expect(await signal.wait(10_000, undefined, before)).toBe('woken');
    expect(await signal.wait(5, undefined, signal.version)).toBe('timeout');
  });
});
