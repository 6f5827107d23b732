import { domainErrors } from '../../shared/errors.js';

/** The files context's refusals, free of HTTP: the edge (src/http/errors.ts) maps them to problem+json. */
export const filesErrors = domainErrors('files');
