/** The SQL of drivers' applications (onboarding.ts). */
import { sql, type Transaction } from 'kysely';
import type { DispatchDb, DispatchTables, DriverApplicationsTable } from './tables.js';

export interface ApplicationRow {
  user_id: string;
  status: DriverApplicationsTable['status'];
  vehicle: DriverApplicationsTable['vehicle'];
  plate: string | null;
  licence_expires_on: string;
  insurance_expires_on: string | null;
  documents: Record<string, string>;
  background_check: 'not_started' | 'clear' | 'flagged';
  reason: string | null;
  reviewed_by: string | null;
  reviewed_at: Date | null;
  submitted_at: Date;
}

export interface ApplicationInput {
  userId: string;
  vehicle: DriverApplicationsTable['vehicle'];
  plate: string | null;
  licenceExpiresOn: string;
  insuranceExpiresOn: string | null;
  documents: Record<string, string>;
}

type Executor = DispatchDb | Transaction<DispatchTables>;

// Dates as text: node-postgres would turn a `date` into a local midnight.
const columns = [
  'user_id',
  'status',
  'vehicle',
  'plate',
  sql<string>`licence_expires_on::text`.as('licence_expires_on'),
  sql<string | null>`insurance_expires_on::text`.as('insurance_expires_on'),
  sql<Record<string, string>>`documents`.as('documents'),
  'background_check',
  'reason',
  'reviewed_by',
  'reviewed_at',
  'submitted_at',
] as const;

export function createOnboardingRepository(db: DispatchDb) {
  return {
    db,
    async find(userId: string, executor: Executor = db): Promise<ApplicationRow | undefined> {
      return executor
        .selectFrom('driver_applications')
        .select(columns)
        .where('user_id', '=', userId)
        .executeTakeFirst() as Promise<ApplicationRow | undefined>;
    },

    /** The applications of several users at once (matching asks for its candidates), at most 100. */
    async findMany(userIds: readonly string[]): Promise<ApplicationRow[]> {
      if (userIds.length === 0) return [];
      if (userIds.length > 100) throw new Error('findMany takes at most 100 users');
      return db
        .selectFrom('driver_applications')
        .select(columns)
        .where('user_id', 'in', userIds)
        .execute() as Promise<ApplicationRow[]>;
    },

    async lock(trx: Transaction<DispatchTables>, userId: string): Promise<ApplicationRow | undefined> {
      return trx
        .selectFrom('driver_applications')
        .select(columns)
        .where('user_id', '=', userId)
        .forUpdate()
        .executeTakeFirst() as Promise<ApplicationRow | undefined>;
    },

    /** Submits (or resubmits) an application: pending again, the last review's reason cleared. */
    async submit(trx: Executor, input: ApplicationInput, at: Date): Promise<void> {
      const values = {
        status: 'pending' as const,
        vehicle: input.vehicle,
        plate: input.plate,
        licence_expires_on: input.licenceExpiresOn,
        insurance_expires_on: input.insuranceExpiresOn,
        documents: JSON.stringify(input.documents),
        reason: null,
        reviewed_by: null,
        reviewed_at: null,
        submitted_at: at,
        updated_at: at,
      };
      await trx
        .insertInto('driver_applications')
        .values({ user_id: input.userId, ...values })
        .onConflict((conflict) => conflict.column('user_id').doUpdateSet(values))
        .execute();
    },

    async review(
      trx: Executor,
      userId: string,
      change: { status: ApplicationRow['status']; reason: string | null; reviewedBy: string | null },
      at: Date,
    ): Promise<void> {
      await trx
        .updateTable('driver_applications')
        .set({
          status: change.status,
          reason: change.reason,
          reviewed_by: change.reviewedBy,
          reviewed_at: at,
          updated_at: at,
        })
        .where('user_id', '=', userId)
        .execute();
    },

    async setBackgroundCheck(
      trx: Executor,
      userId: string,
      status: ApplicationRow['background_check'],
      at: Date,
    ): Promise<void> {
      await trx
        .updateTable('driver_applications')
        .set({ background_check: status, updated_at: at })
        .where('user_id', '=', userId)
        .execute();
    },

    /** The review queue in one status, oldest first; the cursor is the last row's (submitted_at, user_id). */
    async queue(
      status: ApplicationRow['status'],
      after: { submittedAt: Date; userId: string } | undefined,
      limit: number,
    ): Promise<ApplicationRow[]> {
      let query = db.selectFrom('driver_applications').select(columns).where('status', '=', status);
      if (after !== undefined)
        query = query.where((eb) =>
          eb.or([
            eb('submitted_at', '>', after.submittedAt),
            eb.and([eb('submitted_at', '=', after.submittedAt), eb('user_id', '>', after.userId)]),
          ]),
        );
      return query.orderBy('submitted_at').orderBy('user_id').limit(limit).execute() as Promise<
        ApplicationRow[]
      >;
    },

    /** Approved drivers whose licence or insurance ends on one of these days (reminders). */
    async expiringOn(days: readonly string[]): Promise<ApplicationRow[]> {
      if (days.length === 0) return [];
      return db
        .selectFrom('driver_applications')
        .select(columns)
        .where('status', '=', 'approved')
        .where((eb) =>
          eb.or([
            eb(sql`licence_expires_on::text`, 'in', days),
            eb(sql`insurance_expires_on::text`, 'in', days),
          ]),
        )
        .limit(10_000)
        .execute() as Promise<ApplicationRow[]>;
    },

    /** Drivers on shift whose approval no longer holds on `today` (expired licence or insurance). */
    async expiredOnShift(today: string): Promise<string[]> {
      const rows = await db
        .selectFrom('driver_applications')
        .innerJoin('driver_availability', 'driver_availability.driver_id', 'driver_applications.user_id')
        .select('driver_applications.user_id')
        .where('driver_availability.online', '=', true)
        .where((eb) =>
          eb.or([
            eb(sql`licence_expires_on::text`, '<', today),
            eb(sql`insurance_expires_on::text`, '<', today),
            eb('driver_applications.status', '!=', 'approved'),
          ]),
        )
        .limit(10_000)
        .execute();
      return rows.map((row) => row.user_id);
    },

    async erase(userId: string): Promise<number> {
      const result = await db
        .deleteFrom('driver_applications')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type OnboardingRepository = ReturnType<typeof createOnboardingRepository>;
