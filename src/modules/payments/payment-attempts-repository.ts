/**
 * The SQL of payment attempts: the read-model rows beside the payment streams (payment_attempts),
 * which webhooks, the sweep and the routes query. A row heals itself: a newer revision always
 * wins, and settled_at, once given, stays.
 */
import { sql, type Insertable } from 'kysely';
import { createGroupRunner } from '../../db/group-runner.js';
import type { PaymentTables, PaymentsDb } from './tables.js';

export type PaymentAttemptRow = Insertable<PaymentTables['payment_attempts']>;

/** Where an attempt is at its provider (null while no provider has answered). */
export interface AttemptReference {
  payment_id: string;
  provider: string | null;
  provider_reference: string | null;
  operator: string;
}

export type PaymentAttemptsRepository = ReturnType<typeof createPaymentAttemptsRepository>;

export function createPaymentAttemptsRepository(db: PaymentsDb) {
  /**
   * Concurrent saves leave together in one statement (group commit); a group that fails (two
   * saves of one payment in it) is written row by row.
   */
  async function upsertRows(rows: PaymentAttemptRow[]): Promise<void> {
    await db
      .insertInto('payment_attempts')
      .values(rows)
      .onConflict((conflict) =>
        conflict.column('payment_id').doUpdateSet((eb) => ({
          provider: eb.ref('excluded.provider'),
          provider_reference: eb.ref('excluded.provider_reference'),
          status: eb.ref('excluded.status'),
          received_minor: eb.ref('excluded.received_minor'),
          fee_minor: eb.ref('excluded.fee_minor'),
          failure_reason: eb.ref('excluded.failure_reason'),
          after_expiry: eb.ref('excluded.after_expiry'),
          revision: eb.ref('excluded.revision'),
          updated_at: eb.ref('excluded.updated_at'),
          settled_at: sql`coalesce(excluded.settled_at, payment_attempts.settled_at)`,
        })).where(sql<boolean>`payment_attempts.revision < excluded.revision
            OR (payment_attempts.revision = excluded.revision AND payment_attempts.settled_at IS NULL AND excluded.settled_at IS NOT NULL)`),
      )
      .execute();
  }
  const rowWriter = createGroupRunner<PaymentAttemptRow, void>({
    runOne: (row) => upsertRows([row]),
    runMany: async (rows) => {
      await upsertRows(rows);
      return rows.map(() => undefined);
    },
  });

  /** Attempt ids of one status older than a bound, oldest first: a sweep's batch. */
  const idsOf = async (query: Promise<{ payment_id: string }[]>) =>
    (await query).map((row) => row.payment_id);

  return {
    save: (row: PaymentAttemptRow): Promise<void> => rowWriter.run(row),

    async markSettled(paymentId: string, at: Date): Promise<void> {
      await db
        .updateTable('payment_attempts')
        .set({ settled_at: at })
        .where('payment_id', '=', paymentId)
        .execute();
    },

    referenceOf(paymentId: string): Promise<AttemptReference | undefined> {
      return db
        .selectFrom('payment_attempts')
        .select(['payment_id', 'provider', 'provider_reference', 'operator'])
        .where('payment_id', '=', paymentId)
        .executeTakeFirst();
    },

    findByReference(provider: string, providerReference: string) {
      return db
        .selectFrom('payment_attempts')
        .select(['payment_id', 'provider', 'provider_reference', 'operator'])
        .where('provider', '=', provider)
        .where('provider_reference', '=', providerReference)
        .executeTakeFirst();
    },

    /** PENDING attempts with no provider reference, created at or before `before`, oldest first. */
    unlocated: (before: Date, limit: number): Promise<{ payment_id: string; created_at: Date }[]> =>
      db
        .selectFrom('payment_attempts')
        .select(['payment_id', 'created_at'])
        .where('status', '=', 'PENDING')
        .where('provider_reference', 'is', null)
        .where('created_at', '<=', before)
        .orderBy('created_at')
        .limit(limit)
        .execute(),

    /**
     * PENDING attempts whose provider reference is known, unchanged since `before`: their outcome
     * is re-read by the sweep (a process killed after recording the reference and before queueing
     * its poll, with the webhook lost meanwhile, left nothing else to read it).
     */
    silent: (before: Date, limit: number) =>
      idsOf(
        db
          .selectFrom('payment_attempts')
          .select('payment_id')
          .where('status', '=', 'PENDING')
          .where('provider_reference', 'is not', null)
          .where('updated_at', '<=', before)
          .orderBy('updated_at')
          .limit(limit)
          .execute(),
      ),

    /** When an attempt's success was booked (null: not yet, or no such row). */
    async settledAt(paymentId: string): Promise<Date | null> {
      const row = await db
        .selectFrom('payment_attempts')
        .select('settled_at')
        .where('payment_id', '=', paymentId)
        .executeTakeFirst();
      return row?.settled_at ?? null;
    },

    /** PENDING attempts past their expiry. */
    stale: (at: Date, limit: number) =>
      idsOf(
        db
          .selectFrom('payment_attempts')
          .select('payment_id')
          .where('status', '=', 'PENDING')
          .where('expires_at', '<=', at)
          .orderBy('expires_at')
          .limit(limit)
          .execute(),
      ),

    /**
     * Attempts a late success may still reach, created after `since`: expired ones, and those
     * that failed with one of `unansweredReasons` before any provider answered.
     */
    lateCandidates: (since: Date, unansweredReasons: string[], limit: number) =>
      idsOf(
        db
          .selectFrom('payment_attempts')
          .select('payment_id')
          .where((eb) =>
            eb.or([
              eb('status', '=', 'EXPIRED'),
              eb.and([
                eb('status', '=', 'FAILED'),
                eb('provider_reference', 'is', null),
                eb('failure_reason', 'in', unansweredReasons),
              ]),
            ]),
          )
          .where('created_at', '>', since)
          .orderBy('updated_at')
          .limit(limit)
          .execute(),
      ),

    /** SUCCEEDED attempts not booked yet, last updated before `before`. */
    unsettled: (before: Date, limit: number) =>
      idsOf(
        db
          .selectFrom('payment_attempts')
          .select('payment_id')
          .where('status', '=', 'SUCCEEDED')
          .where('settled_at', 'is', null)
          .where('updated_at', '<', before)
          .limit(limit)
          .execute(),
      ),
  };
}
