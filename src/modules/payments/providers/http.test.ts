import { describe, expect, it } from 'vitest';
import { ProviderUnavailable } from './errors.js';
import { callProvider, field, parseAmountMinor } from './http.js';
import { createTokenCache } from './token-cache.js';

describe('provider amounts', () => {
  it.each([
    ['100', 100n],
    ['100.00', 100n],
    [' 25 ', 25n],
    ['0', 0n],
  ])('reads %j as %s francs', (input, expected) => {
    expect(parseAmountMinor(input)).toBe(expected);
  });

  it.each(['100.5', '1e3', 'abc', '', '10.01'])('refuses %j', (input) => {
    expect(parseAmountMinor(input)).toBeUndefined();
  });

  it('reads numbers and strings out of untyped JSON, nothing else', () => {
    expect(field({ amount: 100 }, 'amount')).toBe('100');
    expect(field({ amount: '100' }, 'amount')).toBe('100');
    expect(field({ amount: null }, 'amount')).toBeUndefined();
    expect(field('text', 'amount')).toBeUndefined();
  });
});

describe('callProvider', () => {
  it('retries an idempotent read on 5xx at most twice, then reports the outage', async () => {
    let calls = 0;
    const failing = (async () => {
      calls += 1;
      return new Response('oops', { status: 503 });
    }) as typeof fetch;
    const error = await callProvider('campay', { method: 'GET', url: 'http://x/', timeoutMs: 100, retries: 5 }, failing).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as ProviderUnavailable).code).toBe('HTTP_503');
    expect(calls).toBe(3);
  });

  it('never retries a call without retries, and classifies network errors', async () => {
    let calls = 0;
    const broken = (async () => {
      calls += 1;
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await expect(
      callProvider('mtn_momo', { method: 'POST', url: 'http://x/', timeoutMs: 100, retries: 0 }, broken),
    ).rejects.toMatchObject({ code: 'NETWORK' });
    expect(calls).toBe(1);
  });

  it('hands 4xx answers back for the adapter to read', async () => {
    const refusing = (async () => Response.json({ error_code: 'ER101' }, { status: 400 })) as typeof fetch;
    const answer = await callProvider('campay', { method: 'POST', url: 'http://x/', timeoutMs: 100, retries: 0 }, refusing);
    expect(answer).toMatchObject({ status: 400, body: { error_code: 'ER101' } });
  });
});

describe('token cache', () => {
  it('shares one request among concurrent callers and refreshes a tenth of the lifetime before expiry', async () => {
    let nowMs = 0;
    let issued = 0;
    const cache = createTokenCache(async () => ({ token: `t${(issued += 1)}`, expiresInSeconds: 100 }), () => nowMs);
    expect(await Promise.all([cache.get(), cache.get()])).toEqual(['t1', 't1']);
    nowMs = 89_999;
    expect(await cache.get()).toBe('t1');
    nowMs = 90_000;
    expect(await cache.get()).toBe('t2');
    cache.invalidate('t1'); // stale invalidation: ignored
    expect(await cache.get()).toBe('t2');
    cache.invalidate('t2');
    expect(await cache.get()).toBe('t3');
  });

  it('a failed token request is not cached', async () => {
    let attempts = 0;
    const cache = createTokenCache(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('down');
      return { token: 'ok', expiresInSeconds: 60 };
    });
    await expect(cache.get()).rejects.toThrow('down');
    expect(await cache.get()).toBe('ok');
  });
});
