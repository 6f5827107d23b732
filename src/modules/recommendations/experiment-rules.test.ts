import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignVariant, difference, variantsProblem, wilson } from './experiment-rules.js';

describe('experiment assignment', () => {
  it('gives one person the same variant every time, and spreads people by weight', () => {
    const variants = [
      { name: 'model', weight: 3 },
      { name: 'popularity', weight: 1 },
    ];
    const counts = { model: 0, popularity: 0 } as Record<string, number>;
    for (let index = 0; index < 20_000; index += 1) {
      const subject = `user-${index}`;
      const variant = assignVariant('reco', subject, variants);
      expect(assignVariant('reco', subject, variants)).toBe(variant);
      counts[variant]! += 1;
    }
    // 75 % expected; 20 000 draws put 3 standard deviations at ±0.9 %.
    expect(counts.model! / 20_000).toBeGreaterThan(0.74);
    expect(counts.model! / 20_000).toBeLessThan(0.76);
  });

  it('assigns independently across experiments', () => {
    const variants = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
    ];
    let same = 0;
    for (let index = 0; index < 10_000; index += 1) {
      if (assignVariant('one', `u${index}`, variants) === assignVariant('two', `u${index}`, variants))
        same += 1;
    }
    expect(same / 10_000).toBeGreaterThan(0.47);
    expect(same / 10_000).toBeLessThan(0.53);
  });

  it('always returns one of the variants', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 2, maxLength: 5 }),
        (experiment, subject, weights) => {
          const variants = weights.map((weight, index) => ({ name: `v${index}`, weight }));
          expect(variants.map((v) => v.name)).toContain(assignVariant(experiment, subject, variants));
        },
      ),
    );
  });
});

describe('experiment variants', () => {
  it('refuses too few, duplicate, badly named or badly weighted variants, and names outside the served ones', () => {
    expect(variantsProblem([{ name: 'a', weight: 1 }])).toMatch(/2 to 5/);
    expect(
      variantsProblem([
        { name: 'a', weight: 1 },
        { name: 'a', weight: 1 },
      ]),
    ).toMatch(/twice/);
    expect(
      variantsProblem([
        { name: 'A', weight: 1 },
        { name: 'b', weight: 1 },
      ]),
    ).toMatch(/must match/);
    expect(
      variantsProblem([
        { name: 'a', weight: 0 },
        { name: 'b', weight: 1 },
      ]),
    ).toMatch(/weight/);
    expect(
      variantsProblem(
        [
          { name: 'model', weight: 1 },
          { name: 'other', weight: 1 },
        ],
        ['model', 'popularity'],
      ),
    ).toMatch(/not one this experiment can serve/);
    expect(
      variantsProblem([
        { name: 'model', weight: 1 },
        { name: 'popularity', weight: 1 },
      ]),
    ).toBeNull();
  });
});

describe('experiment statistics', () => {
  it('gives the Wilson interval of known cases', () => {
    // 10 of 100: 0.0552 to 0.1744 (Newcombe 1998, table I style figures).
    const interval = wilson(10, 100)!;
    expect(interval.low).toBeCloseTo(0.0552, 3);
    expect(interval.high).toBeCloseTo(0.1744, 3);
    expect(wilson(0, 10)!.low).toBe(0);
    expect(wilson(10, 10)!.high).toBeCloseTo(1, 12);
    expect(wilson(0, 0)).toBeNull();
  });

  it('holds its rate inside the interval for every count, rounding included', () => {
    // 0 of 3, 6, 7, 12… left the low bound a few 1e-17 above 0 before it was held to the rate.
    for (let trials = 1; trials <= 200; trials += 1)
      for (let successes = 0; successes <= trials; successes += 1) {
        const interval = wilson(successes, trials)!;
        const rate = successes / trials;
        expect(interval.low).toBeLessThanOrEqual(rate);
        expect(interval.high).toBeGreaterThanOrEqual(rate);
        expect(interval.low).toBeGreaterThanOrEqual(0);
        expect(interval.high).toBeLessThanOrEqual(1);
      }
  });

  it('the difference interval contains the estimate, and excludes 0 only for a clear difference', () => {
    const clear = difference({ conversions: 300, exposed: 1000 }, { conversions: 200, exposed: 1000 })!;
    expect(clear.estimate).toBeCloseTo(0.1, 10);
    expect(clear.interval.low).toBeGreaterThan(0);
    expect(clear.interval.high).toBeGreaterThan(clear.estimate);
    const unclear = difference({ conversions: 21, exposed: 100 }, { conversions: 20, exposed: 100 })!;
    expect(unclear.interval.low).toBeLessThan(0);
    expect(unclear.interval.high).toBeGreaterThan(0);
    expect(difference({ conversions: 0, exposed: 0 }, { conversions: 1, exposed: 2 })).toBeNull();
  });
});
