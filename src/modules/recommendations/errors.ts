import { domainErrors } from '../../shared/errors.js';

/** The recommendations context's refusals, free of HTTP (src/http/errors.ts maps them). */
export const recommendationsErrors = domainErrors('recommendations');
