import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support (issue #22): a remedy left half done by a
// client that never retried is finished by a sweep. The Mobile Money payout's id is kept from the
// decision on (`planned_payout_id`: the sweep resumes the same payout a retry would), and
// `swept_at` claims a row for one sweeping instance at a time.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE support_remedies
      ADD COLUMN planned_payout_id uuid,
      ADD COLUMN swept_at timestamptz`.execute(db);
  await sql`
    CREATE INDEX support_remedies_unfinished_idx ON support_remedies (created_at)
      WHERE status = 'deciding'
        OR (refund_to = 'mobile_money' AND payout_id IS NULL AND payout_refusal IS NULL)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS support_remedies_unfinished_idx`.execute(db);
  await sql`ALTER TABLE support_remedies DROP COLUMN IF EXISTS planned_payout_id,
    DROP COLUMN IF EXISTS swept_at`.execute(db);
}
