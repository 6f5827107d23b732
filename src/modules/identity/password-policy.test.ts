import { describe, expect, it } from 'vitest';
import { checkPassword, COMMON_PASSWORDS, isCommonPassword } from './password-policy.js';

describe('password policy', () => {
  it('accepts a long mixed password', () => {
    expect(checkPassword('Ndole-Et-Plantain-42')).toEqual([]);
  });
  it('refuses short, simple and common passwords with a reason each', () => {
    expect(checkPassword('Ab1!')).toContain('too_short');
    expect(checkPassword('alllowercase')).toContain('too_simple');
    expect(checkPassword('Password123!')).toContain('common_password');
    expect(checkPassword('Azerty2024!')).toContain('common_password');
  });
  it('ships a list of common passwords and matches it case-insensitively', () => {
    expect(COMMON_PASSWORDS.size).toBeGreaterThan(300);
    expect(isCommonPassword('MotDePasse')).toBe(true);
    expect(isCommonPassword('Ndole-Et-Plantain-42')).toBe(false);
  });
  it('refuses a password that contains the phone number', () => {
    expect(checkPassword('Xy!677123456', { phone: '+237677123456' })).toContain('contains_phone');
  });
});
