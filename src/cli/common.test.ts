import { describe, expect, it } from 'vitest';
import { formatMinor, progress } from './common.js';

describe('formatMinor', () => {
  it('writes francs grouped by thousands and cents exactly, whatever the size', () => {
    expect(formatMinor(0n, 'XAF')).toBe('0 XAF');
    expect(formatMinor(1_234_500n, 'XAF')).toBe('1 234 500 XAF');
    expect(formatMinor(-1_234n, 'USD')).toBe('-12.34 USD');
    expect(formatMinor(5n, 'USD')).toBe('0.05 USD');
    expect(formatMinor(9_007_199_254_740_993n, 'XAF')).toBe('9 007 199 254 740 993 XAF');
  });
});

describe('progress of a long run', () => {
  function sink(isTTY: boolean) {
    const written: string[] = [];
    return { isTTY, written, write: (chunk: string) => written.push(chunk) > 0 };
  }

  it('draws a live line with the rate on a terminal, then one summary line', () => {
    let clock = 0;
    const live = sink(true);
    const out = sink(false);
    const meter = progress('verify: read', 'events', {
      live: live as never,
      out: out as never,
      now: () => clock,
    });
    expect(meter.live).toBe(true);
    clock = 1_000;
    meter.update(2_000, 4_000);
    clock = 1_050; // within 100 ms of the last draw: not redrawn
    meter.update(2_100);
    clock = 2_000;
    meter.update(4_000);
    meter.finish();
    expect(live.written[0]).toBe('\rverify: read: 2,000 of 4,000 events, 2,000 events/s\x1b[K');
    expect(live.written).toHaveLength(3);
    expect(live.written[2]).toBe('\r\x1b[K');
    expect(out.written).toEqual(['verify: read: 4,000 events in 2.0 s (2,000 events/s)\n']);
  });

  it('prints only the summary line when stderr is not a terminal (logs, CI)', () => {
    let clock = 0;
    const live = sink(false);
    const out = sink(false);
    const meter = progress('rebuild orders', 'events', {
      live: live as never,
      out: out as never,
      now: () => clock,
    });
    expect(meter.live).toBe(false);
    clock = 500;
    meter.update(100);
    meter.finish('swapped');
    expect(live.written).toEqual([]);
    expect(out.written).toEqual(['rebuild orders: 100 events in 0.5 s (200 events/s); swapped\n']);
  });
});
