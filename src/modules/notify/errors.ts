import { domainErrors } from '../../shared/errors.js';

/** The notify context's refusals, free of HTTP (src/http/errors.ts maps them). */
export const notifyErrors = domainErrors('notify');
