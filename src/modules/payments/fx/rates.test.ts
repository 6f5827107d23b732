import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlutterwaveSimulator, FLUTTERWAVE_SIMULATOR_CREDENTIALS } from '../simulators/flutterwave.js';
import { configuredRateSource, conversionTerms, EUR_XAF_PEG, flutterwaveRateSource } from './rates.js';

describe('conversion terms', () => {
  it('splits $25.00 at 605.25 with a 1.5 % spread into whole francs that add up to the bridge', () => {
    const terms = conversionTerms(2_500n, 'USD', 'XAF', new Decimal('605.25'), 150);
    // 25 × 605.25 = 15 131.25 XAF; spread 226.96875
    expect(terms.exactMinor).toBe('15131.25');
    expect(terms.toMinor).toBe(14_904n); // ⌊15 131.25 − 226.968 75⌋
    expect(terms.spreadMinor).toBe(226n);
    expect(terms.bridgeMinor).toBe(15_131n);
    expect(terms.roundingMinor).toBe(1n);
  });

  it('for any amount, rate and spread: bridge = to + spread + rounding, rounding 0-2, the customer never above the exact terms', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10_000_000_000n }),
        fc
          .integer({ min: 100_000, max: 100_000_000 })
          .map((micro) => new Decimal(micro).div(1_000_000).mul(100)),
        fc.integer({ min: 0, max: 1_000 }),
        (fromMinor, rate, spreadBps) => {
          const terms = conversionTerms(fromMinor, 'USD', 'XAF', rate, spreadBps);
          const exact = new Decimal(fromMinor.toString()).mul(rate).div(100);
          expect(terms.bridgeMinor).toBe(terms.toMinor + terms.spreadMinor + terms.roundingMinor);
          expect(terms.roundingMinor >= 0n && terms.roundingMinor <= 2n).toBe(true);
          const spreadExact = exact.mul(spreadBps).div(10_000);
          expect(new Decimal(terms.toMinor.toString()).lte(exact.minus(spreadExact))).toBe(true);
          expect(new Decimal(terms.toMinor.toString()).gt(exact.minus(spreadExact).minus(1))).toBe(true);
          expect(new Decimal(terms.bridgeMinor.toString()).minus(exact).abs().lte(0.5)).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('EUR card funding terms (issue #28)', () => {
  it('for any EUR amount at the peg and any spread: the same exact split, every part whole, the customer never above the terms', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 100_000_000n }),
        fc.integer({ min: 0, max: 1_000 }),
        (fromMinor, spreadBps) => {
          const terms = conversionTerms(fromMinor, 'EUR', 'XAF', EUR_XAF_PEG, spreadBps);
          // cents × 655.957 / 100 francs, computed here with integers only: 655 957 / 100 000 per cent.
          const exactTimes100k = fromMinor * 655_957n; // francs × 100 000
          expect(terms.exactMinor).toBe(new Decimal(exactTimes100k.toString()).div(100_000).toFixed());
          expect(terms.bridgeMinor).toBe(terms.toMinor + terms.spreadMinor + terms.roundingMinor);
          expect(terms.roundingMinor >= 0n && terms.roundingMinor <= 2n).toBe(true);
          // spread = ⌊exact × bps / 10 000⌋ and to = ⌊exact − exact × bps / 10 000⌋, in integers.
          const scale = 100_000n * 10_000n;
          const spreadScaled = exactTimes100k * BigInt(spreadBps);
          expect(terms.spreadMinor).toBe(spreadScaled / scale);
          expect(terms.toMinor).toBe((exactTimes100k * 10_000n - spreadScaled) / scale);
          // half-even rounding of the bridge, in integers
          const whole = exactTimes100k / 100_000n;
          const rest = exactTimes100k % 100_000n;
          const bridge = rest > 50_000n || (rest === 50_000n && whole % 2n === 1n) ? whole + 1n : whole;
          expect(terms.bridgeMinor).toBe(bridge);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('rate sources', () => {
  const simulator = createFlutterwaveSimulator({ ...FLUTTERWAVE_SIMULATOR_CREDENTIALS });
  let baseUrl = '';
  beforeAll(async () => {
    baseUrl = await simulator.listen(0);
  });
  afterAll(async () => simulator.close());

  it('configured: the configured USD rate, EUR at the legal peg', async () => {
    const source = configuredRateSource({ usdXaf: '600.5' });
    expect((await source.rate('USD', 'XAF')).rate.toFixed()).toBe('600.5');
    const eur = await source.rate('EUR', 'XAF');
    expect(eur.rate.eq(EUR_XAF_PEG)).toBe(true);
    expect(eur.source).toBe('peg');
    expect(() => configuredRateSource({ usdXaf: '0' })).toThrow(RangeError);
  });

  it("flutterwave: derives XAF per USD from the transfer-rates answer's two amounts, and caches it", async () => {
    simulator.setRate('USD', '612.3456');
    const source = flutterwaveRateSource({
      baseUrl,
      secretKey: FLUTTERWAVE_SIMULATOR_CREDENTIALS.secretKey,
      timeoutMs: 2_000,
      cacheMs: 60_000,
    });
    const first = await source.rate('USD', 'XAF');
    expect(first.rate.toFixed()).toBe('612.3456');
    expect(first.source).toBe('flutterwave');
    simulator.setRate('USD', '700');
    expect((await source.rate('USD', 'XAF')).rate.toFixed()).toBe('612.3456');
    simulator.setRate('USD', '605.25');
  });

  it('flutterwave: an outage, garbage, a wrong key or an unreachable host is FxRateUnavailable, never a rate', async () => {
    const make = (overrides: { baseUrl?: string; secretKey?: string } = {}) =>
      flutterwaveRateSource({
        baseUrl: overrides.baseUrl ?? baseUrl,
        secretKey: overrides.secretKey ?? FLUTTERWAVE_SIMULATOR_CREDENTIALS.secretKey,
        timeoutMs: 2_000,
        cacheMs: 0,
      });
    for (const mode of ['http_503', 'garbage'] as const) {
      simulator.setOutage(mode);
      await expect(make().rate('USD', 'XAF')).rejects.toMatchObject({ name: 'FxRateUnavailable' });
    }
    simulator.setOutage('none');
    await expect(make({ secretKey: 'wrong' }).rate('USD', 'XAF')).rejects.toMatchObject({
      name: 'FxRateUnavailable',
    });
    await expect(make({ baseUrl: 'http://127.0.0.1:1' }).rate('USD', 'XAF')).rejects.toMatchObject({
      name: 'FxRateUnavailable',
    });
    simulator.setRate('USD', '0.0001');
    await expect(make().rate('USD', 'XAF')).rejects.toMatchObject({ name: 'FxRateUnavailable' });
    simulator.setRate('USD', '605.25');
    expect((await make().rate('USD', 'XAF')).rate.toFixed()).toBe('605.25');
  });
});
