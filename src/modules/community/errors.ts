import { domainErrors } from '../../shared/errors.js';

/** The community context's refusals, free of HTTP (src/http/errors.ts maps them). */
export const communityErrors = domainErrors('community');
