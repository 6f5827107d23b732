import { domainErrors } from '../../shared/errors.js';

/** The projections context's refusals, free of HTTP: the edge (src/http/errors.ts) maps them to problem+json. */
export const projectionsErrors = domainErrors('projections');
