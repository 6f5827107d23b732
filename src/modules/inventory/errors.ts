import { domainErrors } from '../../shared/errors.js';

/** The inventory context's refusals, free of HTTP (src/http/errors.ts maps them). */
export const inventoryErrors = domainErrors('inventory');
