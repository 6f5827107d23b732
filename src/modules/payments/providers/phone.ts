import type { Operator } from './types.js';

/**
 * Cameroon Mobile Money numbers in their three spellings:
 * - E.164, ours everywhere: `+2376xxxxxxxx`
 * - CamPay `from`/`to`: `2376xxxxxxxx` (12 digits, no plus; ER101 otherwise)
 * - MTN MoMo MSISDN `partyId`: the same digits, country code first, no plus
 * Only mobiles (9 national digits starting with 6) can hold a wallet.
 */
const NATIONAL_MOBILE = /^6\d{8}$/;

/** Any reasonable spelling of a Cameroon mobile → `+2376xxxxxxxx`, or undefined. */
export function toE164(input: string): string | undefined {
  const compact = input.replace(/[\s().-]/g, '');
  let national: string;
  if (compact.startsWith('+237')) national = compact.slice(4);
  else if (compact.startsWith('00237')) national = compact.slice(5);
  else if (compact.startsWith('237') && compact.length === 12) national = compact.slice(3);
  else national = compact;
  return NATIONAL_MOBILE.test(national) ? `+237${national}` : undefined;
}

function nationalDigits(phoneE164: string): string {
  const e164 = toE164(phoneE164);
  if (e164 === undefined || e164 !== phoneE164) throw new RangeError('not an E.164 Cameroon mobile number');
  return e164.slice(4);
}

/** `+2376xxxxxxxx` → `2376xxxxxxxx` (CamPay). Throws RangeError on anything else. */
export function toCampayPhone(phoneE164: string): string {
  return `237${nationalDigits(phoneE164)}`;
}

/** `+2376xxxxxxxx` → `2376xxxxxxxx` (MTN MoMo MSISDN). Throws RangeError on anything else. */
export function toMsisdn(phoneE164: string): string {
  return `237${nationalDigits(phoneE164)}`;
}

/** A provider's spelling back to E.164; undefined when it is not a Cameroon mobile. */
export function fromProviderPhone(value: string): string | undefined {
  return toE164(value);
}

/**
 * The operator that owns a number (Cameroon's numbering plan for mobiles):
 *   MTN     67x, 650–654, 680–683
 *   Orange  69x, 655–659, 685–689
 * Others (684, Nexttel 66x, Camtel 62x/64x) have no Mobile Money we support: undefined.
 */
export function detectOperator(phone: string): Operator | undefined {
  const e164 = toE164(phone);
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

/** `+2376****4567`: enough for a person to recognise a number in logs and errors, not to dial it. */
export function maskPhone(phone: string): string {
  return phone.length < 8 ? '****' : `${phone.slice(0, 5)}****${phone.slice(-4)}`;
}
