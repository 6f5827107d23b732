import { describe, expect, it } from 'vitest';
import { detectOperator, fromProviderPhone, toCampayPhone, toE164, toMsisdn } from './phone.js';

describe('phone normalisation', () => {
  it.each([
    ['+237677123456', '+237677123456'],
    ['237677123456', '+237677123456'],
    ['677123456', '+237677123456'],
    ['00237 677 12 34 56', '+237677123456'],
    ['+237 (699) 12-34-56', '+237699123456'],
    ['677-12-34-56', '+237677123456'],
  ])('reads %s as %s', (input, expected) => {
    expect(toE164(input)).toBe(expected);
  });

  it.each([
    ['+237233123456', 'a fixed line'],
    ['+23767712345', 'too short'],
    ['+2376771234567', 'too long'],
    ['+33612345678', 'a French mobile'],
    ['2376771234567', '13 digits'],
    ['', 'empty'],
    ['six-seven-seven', 'letters'],
  ])('refuses %s (%s)', (input) => {
    expect(toE164(input)).toBeUndefined();
  });

  it('spells E.164 as CamPay and MTN want it, and back', () => {
    expect(toCampayPhone('+237677123456')).toBe('237677123456');
    expect(toMsisdn('+237677123456')).toBe('237677123456');
    expect(fromProviderPhone('237699000001')).toBe('+237699000001');
  });

  it('refuses to spell a number that is not already E.164', () => {
    expect(() => toCampayPhone('677123456')).toThrow(RangeError);
    expect(() => toMsisdn('+33612345678')).toThrow(RangeError);
  });
});

describe('operator detection', () => {
  it.each([
    ['+237670000000', 'MTN'],
    ['+237679999999', 'MTN'],
    ['+237680000000', 'MTN'],
    ['+237683999999', 'MTN'],
    ['+237684000000', undefined],
    ['+237685000000', 'ORANGE'],
    ['+237689999999', 'ORANGE'],
    ['+237650000000', 'MTN'],
    ['+237654999999', 'MTN'],
    ['+237655000000', 'ORANGE'],
    ['+237659999999', 'ORANGE'],
    ['+237690000000', 'ORANGE'],
    ['+237699999999', 'ORANGE'],
    ['237677123456', 'MTN'],
    ['699123456', 'ORANGE'],
  ] as const)('%s belongs to %s', (phone, operator) => {
    expect(detectOperator(phone)).toBe(operator);
  });

  it.each([
    ['+237660000000', 'Nexttel 66x'],
    ['+237620000000', 'Camtel 62x'],
    ['+237640000000', '64x'],
    ['+237233000000', 'a fixed line'],
    ['garbage', 'not a number'],
  ])('%s (%s) has no supported operator', (phone) => {
    expect(detectOperator(phone)).toBeUndefined();
  });
});
