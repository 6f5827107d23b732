import { describe, expect, it } from 'vitest';
import { createIdFilter } from '../../ledger/writer/id-filter.js';

describe('accepted-id filter', () => {
  it('never rules out an id it was given, and rules out most others', () => {
    const filter = createIdFilter(1 << 20);
    const added = Array.from({ length: 20_000 }, (_, index) => `settle:order-${index}:restaurant_share`);
    for (const id of added) filter.add(id);
    expect(added.every((id) => filter.mightContain(id))).toBe(true);
    const others = Array.from({ length: 20_000 }, (_, index) => `pay:order-${index}`);
    const falsePositives = others.filter((id) => filter.mightContain(id)).length;
    expect(falsePositives).toBeLessThan(200); // ~52 bits per id, 7 hashes: well under 1 %
    expect(filter.size).toBe(20_000);
  });
});
