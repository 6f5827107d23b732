import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. An Idempotency-Key claim is a lease: a request that
// claimed a key and never answered (its process stopped) no longer holds the key for 24 hours;
// once the lease runs out a retry takes the key over and runs the idempotent work again. The
// token says which attempt holds the key, so a late attempt cannot free or answer for a newer one.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE idempotency_keys
              ADD COLUMN lease_expires_at timestamptz NOT NULL DEFAULT now(),
              ADD COLUMN claim_token uuid`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE idempotency_keys DROP COLUMN lease_expires_at, DROP COLUMN claim_token`.execute(db);
}
