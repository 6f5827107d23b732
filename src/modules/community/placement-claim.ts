/**
 * The placement claim of a group cart or a bulk order in `placing` (docs/community.md, "Why the
 * last share answered 500"): true for the one caller that may place its order now (no claim, or
 * one past its time: its holder died). Timed by the database's clock, never by a sweep's `at`, so
 * a sweep run "later" cannot take a claim still being used. Released at once when a placement
 * throws.
 */
import { sql } from 'kysely';
import type { CommunityDb } from './tables.js';

export function placementClaims(db: CommunityDb, table: 'group_carts' | 'bulk_orders') {
  return {
    async claim(id: string, seconds: number): Promise<boolean> {
      const claimed = await sql<{ id: string }>`
        UPDATE ${sql.table(table)}
        SET placement_claimed_until = now() + make_interval(secs => ${seconds})
        WHERE id = ${id} AND status = 'placing'
          AND (placement_claimed_until IS NULL OR placement_claimed_until < now())
        RETURNING id`.execute(db);
      return claimed.rows.length > 0;
    },

    async release(id: string): Promise<void> {
      await sql`UPDATE ${sql.table(table)} SET placement_claimed_until = NULL WHERE id = ${id}`.execute(db);
    },
  };
}
