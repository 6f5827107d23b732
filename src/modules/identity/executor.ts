import type { Transaction } from 'kysely';
import type { FieldCipher } from '../../platform/field-crypto.js';
import type { IdentityDb, IdentityTables } from './tables.js';

/** Where the identity repository's SQL runs: the pool, or a transaction the caller holds. */
export type Executor = IdentityDb | Transaction<IdentityTables>;

const NAME_TERMS_MAX = 8;

/** Blind indexes of the users table (keyed HMAC of the normalised value). */
export function userIndexes(fields: FieldCipher) {
  return {
    phone: (phone: string) => fields.blindIndex('phone', phone.trim()),
    email: (email: string) => fields.blindIndex('email', email.trim().toLowerCase()),
    nameTerms: (name: string | null): string[] =>
      name === null
        ? []
        : [
            ...new Set(
              name
                .toLowerCase()
                .normalize('NFC')
                .split(/[^\p{L}\p{N}]+/u)
                .filter((word) => word.length >= 2),
            ),
          ]
            .slice(0, NAME_TERMS_MAX)
            .map((word) => fields.blindIndex('name-term', word)),
  };
}
