import type { PaymentsDb } from './tables.js';
import type { FieldCipher } from '../../platform/field-crypto.js';
import { PAYOUT_PHONE, REDACTED_PHONE } from './payouts.js';
import { AUTO_TOPUP_PHONE } from './wallet-service.js';

/**
 * Personal data at rest, payments' boot step (issue #15 item 14): payout phones and auto top-up
 * phones written in clear before encryption, or under an older key of the ring, are (re-)encrypted
 * under the current key. Batches of `BATCH` rows, SKIP LOCKED; idempotent (a second run finds
 * nothing). The erased marker `[redacted]` is left as it is.
 */
const BATCH = 500;

export async function encryptPaymentsAtRest(
  db: PaymentsDb,
  fields: FieldCipher,
): Promise<{ encrypted: number }> {
  const current = `pii1.${fields.currentKeyId}.%`;
  const clear = (purpose: string, value: string) =>
    fields.isCiphertext(value) ? fields.decrypt(purpose, value) : value;
  let encrypted = 0;
  for (;;) {
    const count = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('payouts')
        .select(['payout_id', 'phone'])
        .where('phone', 'not like', current)
        .where('phone', '<>', REDACTED_PHONE)
        .limit(BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of rows)
        await trx
          .updateTable('payouts')
          .set({ phone: fields.encrypt(PAYOUT_PHONE, clear(PAYOUT_PHONE, row.phone)) })
          .where('payout_id', '=', row.payout_id)
          .execute();
      return rows.length;
    });
    encrypted += count;
    if (count < BATCH) break;
  }
  for (;;) {
    const count = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('wallets')
        .select(['user_id', 'currency', 'auto_topup_phone'])
        .where('auto_topup_phone', 'is not', null)
        .where('auto_topup_phone', 'not like', current)
        .limit(BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of rows)
        await trx
          .updateTable('wallets')
          .set({
            auto_topup_phone: fields.encrypt(
              AUTO_TOPUP_PHONE,
              clear(AUTO_TOPUP_PHONE, row.auto_topup_phone!),
            ),
          })
          .where('user_id', '=', row.user_id)
          .where('currency', '=', row.currency)
          .execute();
      return rows.length;
    });
    encrypted += count;
    if (count < BATCH) break;
  }
  return { encrypted };
}
