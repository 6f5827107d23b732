import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';
import { testEnvironment } from '../../helpers/app.js';

function refused(overrides: Record<string, string>): string[] {
  try {
    loadConfig(testEnvironment(overrides));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).variables;
  }
  return [];
}

describe('loyalty configuration', () => {
  it('takes the defaults and valid values', () => {
    const config = loadConfig(testEnvironment({ LOYALTY_MULTIPLIER_GOLD: '2.5' }));
    expect(config.LOYALTY_POINTS_EXPIRY_DAYS).toBe(365);
    expect(config.LOYALTY_MULTIPLIER_SILVER).toBe('1.25');
    expect(config.LOYALTY_MULTIPLIER_GOLD).toBe('2.5');
  });

  it('refuses tiers that do not climb, multipliers that are no decimal from 1 to 9.99, and a zero expiry', () => {
    expect(refused({ LOYALTY_SILVER_POINTS: '500', LOYALTY_GOLD_POINTS: '500' })).toEqual([
      'LOYALTY_GOLD_POINTS',
    ]);
    expect(refused({ LOYALTY_MULTIPLIER_BRONZE: '0.5' })).toEqual(['LOYALTY_MULTIPLIER_BRONZE']);
    expect(refused({ LOYALTY_MULTIPLIER_SILVER: '1.255' })).toEqual(['LOYALTY_MULTIPLIER_SILVER']);
    expect(refused({ LOYALTY_MULTIPLIER_GOLD: 'NaN' })).toEqual(['LOYALTY_MULTIPLIER_GOLD']);
    expect(refused({ LOYALTY_POINTS_EXPIRY_DAYS: '0' })).toEqual(['LOYALTY_POINTS_EXPIRY_DAYS']);
  });
});
