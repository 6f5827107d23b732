/** The phone functions the micro-benchmark times: parsing any spelling, and finding the operator. */
import { detectOperator, normalizePhone } from '../../src/shared/phone.js';

export const normalize = (input: string): string | undefined => normalizePhone(input);
export const operator = (input: string): string | undefined => detectOperator(input);
