/** The phone functions the micro-benchmark times: parsing any spelling, and finding the operator. */
import { normalizePhone } from '../../src/modules/identity/phone.js';
import { detectOperator } from '../../src/modules/payments/providers/phone.js';

export const normalize = (input: string): string | undefined => normalizePhone(input);
export const operator = (input: string): string | undefined => detectOperator(input);
