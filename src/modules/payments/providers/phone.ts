import {
  detectOperator as operatorOf,
  maskPhone as mask,
  normalizeCameroonMobile,
} from '../../../shared/phone.js';
import type { Operator } from './types.js';

/**
 * Cameroon Mobile Money numbers in their three spellings (parsing, validation, the operator
 * table and masking are the shared phone module's, src/shared/phone.ts):
 * - E.164, ours everywhere: `+2376xxxxxxxx`
 * - CamPay `from`/`to`: `2376xxxxxxxx` (12 digits, no plus; ER101 otherwise)
 * - MTN MoMo MSISDN `partyId`: the same digits, country code first, no plus
 * Only mobiles (9 national digits starting with 6) can hold a wallet.
 */

/** Any reasonable spelling of a valid Cameroon mobile → `+2376xxxxxxxx`, or undefined. */
export function toE164(input: string): string | undefined {
  return normalizeCameroonMobile(input);
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

/** The operator that owns a number: MTN 67x, 650–654, 680–683; Orange 69x, 655–659, 685–689. */
export function detectOperator(phone: string): Operator | undefined {
  return operatorOf(phone);
}

/** `+2376****4567`: enough for a person to recognise a number in logs and errors, not to dial it. */
export const maskPhone = mask;
