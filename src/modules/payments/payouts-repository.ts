/**
 * The SQL of payouts: the payout rows (each status change guarded by the status it leaves, so a
 * rejection and a worker cannot both win) and the payees' automatic-payout settings.
 */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { FieldCipher } from '../../platform/field-crypto.js';
import type { PaymentsDb, PayoutsTable, PayoutSettingsTable, PayoutStatus } from './tables.js';

/** The purpose (AAD) payout phones are encrypted under. */
export const PAYOUT_PHONE = 'payouts.phone';
/** The failure reason of a payout a hold stopped before it was sent (its money stays with the payee). */
export const PAYOUT_HELD_BACK = 'PAYOUT_HELD';
/** What an erased payout phone reads as (payments' personal-data hook writes it). */
export const REDACTED_PHONE = '[redacted]';

/** A stored payout phone in clear: ciphertext opened, the erased marker kept as it is. */
export function payoutPhone(fields: FieldCipher, stored: string): string {
  return stored === REDACTED_PHONE ? stored : fields.decrypt(PAYOUT_PHONE, stored);
}

export type PayoutRow = Selectable<PayoutsTable>;
export type PayoutSettingsRow = Selectable<PayoutSettingsTable>;

export type PayoutsRepository = ReturnType<typeof createPayoutsRepository>;

/**
 * Payout phones are stored encrypted (personal data at rest, docs/privacy.md): every row this
 * repository hands out has its phone in clear, and an inserted row's phone is encrypted here, so
 * the service and the job that sends money never see ciphertext.
 */
export function createPayoutsRepository(db: PaymentsDb, fields: FieldCipher) {
  const decoded = <Row extends PayoutRow | undefined>(row: Row): Row =>
    row === undefined ? row : ({ ...row, phone: payoutPhone(fields, row.phone) } as Row);
  /** Moves a payout from one of `from` to its new fields; the row after, or undefined if it was elsewhere. */
  const move = (
    payoutId: string,
    from: PayoutStatus[],
    fields: Updateable<PayoutsTable> & { updated_at: Date },
  ) =>
    db
      .updateTable('payouts')
      .set(fields)
      .where('payout_id', '=', payoutId)
      .where('status', 'in', from)
      .returningAll()
      .executeTakeFirst()
      .then(decoded);

  return {
    get(payoutId: string): Promise<PayoutRow | undefined> {
      return db
        .selectFrom('payouts')
        .selectAll()
        .where('payout_id', '=', payoutId)
        .executeTakeFirst()
        .then(decoded);
    },

    insert(row: Insertable<PayoutsTable>): Promise<PayoutRow> {
      return db
        .insertInto('payouts')
        .values({ ...row, phone: fields.encrypt(PAYOUT_PHONE, row.phone) })
        .returningAll()
        .executeTakeFirstOrThrow()
        .then(decoded);
    },

    async remove(payoutId: string): Promise<void> {
      await db.deleteFrom('payouts').where('payout_id', '=', payoutId).execute();
    },

    approve: (payoutId: string, adminId: string, at: Date) =>
      move(payoutId, ['REQUESTED'], {
        status: 'APPROVED',
        approved_by: adminId,
        approved_at: at,
        updated_at: at,
      }),

    reject: (payoutId: string, reason: string, at: Date) =>
      move(payoutId, ['REQUESTED', 'APPROVED'], {
        status: 'REJECTED',
        failure_reason: reason,
        updated_at: at,
      }),

    /** To PROCESSING (only from APPROVED or PROCESSING: a rejection wins), counting the attempt. */
    startProcessing(payoutId: string, provider: string, at: Date): Promise<PayoutRow | undefined> {
      return db
        .updateTable('payouts')
        .set((eb) => ({ status: 'PROCESSING', provider, attempts: eb('attempts', '+', 1), updated_at: at }))
        .where('payout_id', '=', payoutId)
        .where('status', 'in', ['APPROVED', 'PROCESSING'])
        .returningAll()
        .executeTakeFirst()
        .then(decoded);
    },

    /** Back to PROCESSING from review (finance's answer), with the reference finance found if any. */
    async reopenReview(payoutId: string, at: Date, providerReference?: string): Promise<void> {
      await db
        .updateTable('payouts')
        .set({
          status: 'PROCESSING',
          updated_at: at,
          ...(providerReference === undefined ? {} : { provider_reference: providerReference }),
        })
        .where('payout_id', '=', payoutId)
        .where('status', '=', 'NEEDS_REVIEW')
        .execute();
    },

    async markFailed(payoutId: string, reason: string, at: Date): Promise<void> {
      await db
        .updateTable('payouts')
        .set({ status: 'FAILED', failure_reason: reason, updated_at: at })
        .where('payout_id', '=', payoutId)
        .execute();
    },

    /**
     * A payout a hold stops before anything left: FAILED (`PAYOUT_HELD`), only while nothing was
     * sent; false if a worker sent it meanwhile.
     */
    async holdBack(payoutId: string, at: Date): Promise<boolean> {
      const marked = await db
        .updateTable('payouts')
        .set({ status: 'FAILED', failure_reason: PAYOUT_HELD_BACK, updated_at: at })
        .where('payout_id', '=', payoutId)
        .where('status', 'in', ['APPROVED', 'PROCESSING'])
        .where('sent_at', 'is', null)
        .where('provider_reference', 'is', null)
        .executeTakeFirst();
      return marked.numUpdatedRows === 1n;
    },

    async markSucceeded(payoutId: string, feeMinor: bigint, at: Date): Promise<void> {
      await db
        .updateTable('payouts')
        .set({ status: 'SUCCEEDED', fee_minor: feeMinor, updated_at: at })
        .where('payout_id', '=', payoutId)
        .execute();
    },

    async markForReview(payoutId: string, reason: string, at: Date): Promise<void> {
      await db
        .updateTable('payouts')
        .set({ status: 'NEEDS_REVIEW', review_reason: reason, updated_at: at })
        .where('payout_id', '=', payoutId)
        .where('status', '=', 'PROCESSING')
        .execute();
    },

    /** Counts a send of a PROCESSING payout still at `sends`; false if another worker moved first. */
    async markSent(payoutId: string, sends: number, at: Date): Promise<boolean> {
      const marked = await db
        .updateTable('payouts')
        .set((eb) => ({ sent_at: at, sends: eb('sends', '+', 1), updated_at: at }))
        .where('payout_id', '=', payoutId)
        .where('status', '=', 'PROCESSING')
        .where('sends', '=', sends)
        .executeTakeFirst();
      return marked.numUpdatedRows === 1n;
    },

    async recordReference(payoutId: string, reference: string, at: Date): Promise<void> {
      await db
        .updateTable('payouts')
        .set({ provider_reference: reference, updated_at: at })
        .where('payout_id', '=', payoutId)
        .execute();
    },

    /** A provider's payout by its reference, or by our id when given (a crash lost the provider's). */
    findByReference(provider: string, providerReference: string, ours?: string) {
      return db
        .selectFrom('payouts')
        .select(['payout_id', 'status'])
        .where('provider', '=', provider)
        .where((eb) =>
          ours !== undefined
            ? eb.or([eb('provider_reference', '=', providerReference), eb('payout_id', '=', ours)])
            : eb('provider_reference', '=', providerReference),
        )
        .executeTakeFirst();
    },

    /** Payouts in one status, oldest change first (the queue an admin works through), after a cursor. */
    byStatus(status: PayoutStatus, limit: number, after?: { t: string; i: string }): Promise<PayoutRow[]> {
      let query = db.selectFrom('payouts').selectAll().where('status', '=', status);
      if (after !== undefined)
        query = query.where((eb) =>
          eb.or([
            eb('updated_at', '>', new Date(after.t)),
            eb.and([eb('updated_at', '=', new Date(after.t)), eb('payout_id', '>', after.i)]),
          ]),
        );
      return query
        .orderBy('updated_at')
        .orderBy('payout_id')
        .limit(limit)
        .execute()
        .then((rows) => rows.map(decoded));
    },

    list(kind: PayoutsTable['payee_kind'], payeeId: string, limit: number): Promise<PayoutRow[]> {
      return db
        .selectFrom('payouts')
        .selectAll()
        .where('payee_kind', '=', kind)
        .where('payee_id', '=', payeeId)
        .orderBy('created_at', 'desc')
        .limit(limit)
        .execute()
        .then((rows) => rows.map(decoded));
    },

    async saveSettings(
      settings: {
        kind: PayoutSettingsTable['payee_kind'];
        payeeId: string;
        autoEnabled: boolean;
        minimumMinor: bigint;
        by: string;
      },
      at: Date,
    ): Promise<void> {
      await db
        .insertInto('payout_settings')
        .values({
          payee_kind: settings.kind,
          payee_id: settings.payeeId,
          auto_enabled: settings.autoEnabled,
          minimum_minor: settings.minimumMinor,
          updated_by: settings.by,
        })
        .onConflict((conflict) =>
          conflict.columns(['payee_kind', 'payee_id']).doUpdateSet({
            auto_enabled: settings.autoEnabled,
            minimum_minor: settings.minimumMinor,
            updated_by: settings.by,
            updated_at: at,
          }),
        )
        .execute();
    },

    automaticPayees(limit: number): Promise<PayoutSettingsRow[]> {
      return db
        .selectFrom('payout_settings')
        .selectAll()
        .where('auto_enabled', '=', true)
        .limit(limit)
        .execute();
    },
  };
}
