import { describe, expect, it } from 'vitest';
import { detectOperator, maskPhone, normalizeCameroonMobile, normalizePhone } from './phone.js';

describe('one phone module: libphonenumber-js validation, Cameroon by default', () => {
  it.each([
    ['+237 6 70 12 34 56', '+237670123456'],
    ['670123456', '+237670123456'],
    ['237670123456', '+237670123456'],
    ['00237670123456', '+237670123456'],
    ['(+237) 699-12-34-56', '+237699123456'],
    ['+237 222 12 34 56', '+237222123456'], // a Yaoundé fixed line
    ['+33 6 12 34 56 78', '+33612345678'], // a diaspora customer's French mobile
    ['+1 202 555 0142', '+12025550142'],
  ])('reads %s as %s', (input, expected) => {
    expect(normalizePhone(input)).toBe(expected);
  });

  it.each([
    ['+123456789', 'E.164-shaped but no country issues it (the old pattern let it through)'],
    ['+237600000000', 'no Cameroon line starts 60'],
    ['+237212345678', 'no Cameroon fixed line starts 21'],
    ['+2376701234567', 'one digit too many'],
    ['+23767012345', 'one digit short'],
    ['+237670123456 ext. 12', 'an extension'],
    ['1-800-FLOWERS', 'letters'],
    ['', 'empty'],
    [`+237${'6'.repeat(40)}`, 'far too long'],
  ])('refuses %s (%s)', (input) => {
    expect(normalizePhone(input)).toBeUndefined();
  });

  it('takes only Cameroon mobiles for Mobile Money', () => {
    expect(normalizeCameroonMobile('677 12 34 56')).toBe('+237677123456');
    expect(normalizeCameroonMobile('+237222123456')).toBeUndefined();
    expect(normalizeCameroonMobile('+33612345678')).toBeUndefined();
  });

  it('keeps the operator table: MTN 67x, 650–654, 680–683; Orange 69x, 655–659, 685–689', () => {
    expect(detectOperator('+237654999999')).toBe('MTN');
    expect(detectOperator('+237655000000')).toBe('ORANGE');
    expect(detectOperator('+237683000000')).toBe('MTN');
    expect(detectOperator('+237684000000')).toBeUndefined();
    expect(detectOperator('+237685000000')).toBe('ORANGE');
    expect(detectOperator('+237660000000')).toBeUndefined();
    expect(detectOperator('699123456')).toBe('ORANGE');
  });

  it('masks a number so a person recognises it but cannot dial it', () => {
    expect(maskPhone('+237670123456')).toBe('+2376****3456');
    expect(maskPhone('+2376')).toBe('****');
  });
});
