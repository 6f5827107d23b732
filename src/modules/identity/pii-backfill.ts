import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { IdentityDb } from './tables.js';
import type { FieldCipher } from '../../platform/field-crypto.js';
import { ADDRESS_COORDINATES, ADDRESS_FIELDS, USER_FIELDS, userIndexes } from './repository.js';

/**
 * Personal data at rest, the boot step (issue #15 item 14). Migrations cannot encrypt (they are
 * frozen and know no keys), so identity does it when it starts, before the app serves: every
 * users row whose phone, e-mail or name is plaintext (and every address whose personal fields are), or ciphertext under an older key of the
 * ring (rotation), is (re-)encrypted under the current key with its blind indexes set. Batches
 * of `BATCH` rows, each in its own transaction, rows locked with SKIP LOCKED so that instances
 * starting together share the work. Idempotent: a second run finds nothing to do.
 */
const BATCH = 500;

export async function encryptUsersAtRest(
  db: IdentityDb,
  fields: FieldCipher,
  logger?: Logger,
): Promise<{ encrypted: number }> {
  const current = `pii1.${fields.currentKeyId}.%`;
  const index = userIndexes(fields);
  const stale = (column: 'phone' | 'email' | 'name') =>
    sql<boolean>`(${sql.ref(column)} IS NOT NULL AND ${sql.ref(column)} NOT LIKE ${current})`;
  /** Plaintext from before encryption, or ciphertext under an older key. */
  const clear = (purpose: string, value: string | null) =>
    value === null || !fields.isCiphertext(value) ? value : fields.decrypt(purpose, value);
  let encrypted = 0;
  for (;;) {
    const done = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('users')
        .select(['id', 'phone', 'email', 'name'])
        .where((eb) =>
          eb.or([eb(stale('phone'), '=', true), eb(stale('email'), '=', true), eb(stale('name'), '=', true)]),
        )
        .limit(BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of rows) {
        const phone = clear(USER_FIELDS.phone, row.phone);
        const email = clear(USER_FIELDS.email, row.email);
        const name = clear(USER_FIELDS.name, row.name);
        await trx
          .updateTable('users')
          .set({
            phone: fields.encrypt(USER_FIELDS.phone, phone),
            email: fields.encrypt(USER_FIELDS.email, email),
            name: fields.encrypt(USER_FIELDS.name, name),
            phone_bidx: phone === null ? null : index.phone(phone),
            email_bidx: email === null ? null : index.email(email),
            name_terms: index.nameTerms(name),
          })
          .where('id', '=', row.id)
          .execute();
      }
      encrypted += rows.length;
      return rows.length < BATCH;
    });
    if (done) break;
  }
  if (encrypted > 0) logger?.info({ encrypted }, 'personal data at rest: users rows encrypted');
  return { encrypted };
}

/** The same for user_addresses: street lines, district, landmark, instructions, coordinates. */
export async function encryptAddressesAtRest(
  db: IdentityDb,
  fields: FieldCipher,
): Promise<{ encrypted: number }> {
  const current = `pii1.${fields.currentKeyId}.%`;
  const columns = [...ADDRESS_FIELDS, ...ADDRESS_COORDINATES];
  const clear = (purpose: string, value: string | null) =>
    value === null || !fields.isCiphertext(value) ? value : fields.decrypt(purpose, value);
  let encrypted = 0;
  for (;;) {
    const done = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('user_addresses')
        .select(['id', ...columns])
        .where((eb) =>
          eb.or(
            columns.map((column) =>
              eb(
                sql<boolean>`(${sql.ref(column)} IS NOT NULL AND ${sql.ref(column)} NOT LIKE ${current})`,
                '=',
                true,
              ),
            ),
          ),
        )
        .limit(BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of rows) {
        const changes: Record<string, string | null> = {};
        for (const column of columns) {
          const purpose = `user_addresses.${column}`;
          changes[column] = fields.encrypt(purpose, clear(purpose, row[column]));
        }
        await trx.updateTable('user_addresses').set(changes).where('id', '=', row.id).execute();
      }
      encrypted += rows.length;
      return rows.length < BATCH;
    });
    if (done) break;
  }
  return { encrypted };
}
