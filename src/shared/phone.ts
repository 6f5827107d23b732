import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Phone numbers, one module for identity and payments. Numbers are stored in E.164 and validated
 * with libphonenumber-js against each country's numbering plan (its full metadata: a number must
 * be one that can exist, not merely `+` and 8 to 15 digits). Cameroon is the default country:
 * `670 12 34 56`, `237670123456`, `00237670123456` and `+237 6 70 12 34 56` are one number.
 * Diaspora customers keep their own country's numbers for sign-in; only Cameroon mobiles
 * (`+2376…`) can hold a Mobile Money wallet.
 */
const DEFAULT_COUNTRY = 'CM';
/** Longer input is no phone number, whatever it holds; it is refused before any parsing. */
const MAX_INPUT_CHARS = 32;
/** Digits only (after the usual separators), with `+` or `00` before an international number. */
const DIALLABLE = /^(?:\+|00)?\d{6,17}$/;
const CAMEROON_MOBILE = /^\+2376\d{8}$/;

export type MobileMoneyOperator = 'MTN' | 'ORANGE';

/** Any reasonable spelling of a valid number → E.164, or undefined (letters, extensions, invalid). */
export function normalizePhone(input: string): string | undefined {
  if (input.length > MAX_INPUT_CHARS) return undefined;
  const compact = input.replace(/[\s().-]/g, '');
  if (!DIALLABLE.test(compact)) return undefined;
  const international = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
  // `237…` without a plus is the Cameroon country code when the rest is a Cameroon number.
  const candidate = /^237[26]\d{8}$/.test(international) ? `+${international}` : international;
  const parsed = parsePhoneNumberFromString(candidate, DEFAULT_COUNTRY);
  return parsed !== undefined && parsed.isValid() ? parsed.number : undefined;
}

/** A Cameroon mobile in any spelling → `+2376xxxxxxxx`, or undefined (fixed lines, other countries). */
export function normalizeCameroonMobile(input: string): string | undefined {
  const e164 = normalizePhone(input);
  return e164 !== undefined && CAMEROON_MOBILE.test(e164) ? e164 : undefined;
}

/**
 * The operator that owns a Cameroon mobile (the national numbering plan; libphonenumber-js knows
 * the plan's lines, not which operator holds which block):
 *   MTN     67x, 650–654, 680–683
 *   Orange  69x, 655–659, 685–689
 * Others (684, Nexttel 66x, Camtel 62x/64x) have no Mobile Money we support: undefined.
 */
export function detectOperator(phone: string): MobileMoneyOperator | undefined {
  const e164 = normalizeCameroonMobile(phone);
  if (e164 === undefined) return undefined;
  const block = e164.slice(5, 6);
  const third = Number(e164.slice(6, 7));
  switch (block) {
    case '7':
      return 'MTN';
    case '9':
      return 'ORANGE';
    case '5':
      return third <= 4 ? 'MTN' : 'ORANGE';
    case '8':
      return third <= 3 ? 'MTN' : third >= 5 ? 'ORANGE' : undefined;
    default:
      return undefined;
  }
}

/** `+2376****4567`: enough for a person to recognise their number in logs and errors, not to dial it. */
export function maskPhone(phone: string): string {
  return phone.length < 8 ? '****' : `${phone.slice(0, 5)}****${phone.slice(-4)}`;
}
