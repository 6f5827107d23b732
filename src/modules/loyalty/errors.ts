import { domainErrors } from '../../shared/errors.js';

/** The loyalty context's refusals, free of HTTP (src/http/errors.ts maps them). */
export const loyaltyErrors = domainErrors('loyalty');
