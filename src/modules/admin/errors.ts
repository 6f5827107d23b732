import { domainErrors } from '../../shared/errors.js';

/** The admin context's refusals, free of HTTP: the edge (src/http/errors.ts) maps them to problem+json. */
export const adminErrors = domainErrors('admin');
