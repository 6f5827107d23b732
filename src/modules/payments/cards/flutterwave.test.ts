import { describe, expect, it } from 'vitest';
import { createFlutterwaveProvider, toMajor, toMinor } from './flutterwave.js';

describe('Flutterwave amounts', () => {
  it('turns minor units into decimal amounts and back exactly', () => {
    expect(toMajor(2_501n, 'USD')).toBe(25.01);
    expect(toMinor(25.01, 'USD')).toBe(2_501n);
    expect(toMinor('0.10', 'USD')).toBe(10n);
    expect(toMinor(655, 'XAF')).toBe(655n);
  });

  it('refuses amounts it cannot read exactly', () => {
    expect(toMinor(25.015, 'USD')).toBeNull();
    expect(toMinor(-1, 'USD')).toBeNull();
    expect(toMinor('abc', 'USD')).toBeNull();
    expect(toMinor(null, 'USD')).toBeNull();
    expect(toMinor(1.5, 'XAF')).toBeNull();
  });
});

describe('Flutterwave webhook authenticity (verif-hash)', () => {
  const provider = createFlutterwaveProvider({
    baseUrl: 'http://127.0.0.1:1',
    secretKey: 'FLWSECK_TEST-x',
    webhookHash: 'the-dashboard-secret-hash',
    timeoutMs: 1_000,
  });

  it('accepts only the configured hash', () => {
    expect(provider.webhookAuthentic({ 'verif-hash': 'the-dashboard-secret-hash' })).toBe(true);
    expect(provider.webhookAuthentic({ 'verif-hash': 'the-dashboard-secret-hasH' })).toBe(false);
    expect(provider.webhookAuthentic({ 'verif-hash': '' })).toBe(false);
    expect(provider.webhookAuthentic({})).toBe(false);
    expect(provider.webhookAuthentic({ 'verif-hash': ['the-dashboard-secret-hash'] })).toBe(false);
  });

  it('reports an unreachable provider as unavailable (nothing known), not as a refusal', async () => {
    await expect(provider.verifyByReference('cf-x')).rejects.toMatchObject({
      name: 'CardProviderUnavailable',
    });
  });
});
