import { domainErrors } from '../../shared/errors.js';

/** The USSD context's refusals, free of HTTP (src/http/errors.ts maps them). */
export const ussdErrors = domainErrors('ussd');
