import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Group carts' and bulk orders' placement claims
// (docs/community.md, "Why the last share answered 500"): the one caller that places a cart's or
// a request's order holds the claim until it is done, or until the time here passes (a process
// that died while placing); any other caller (the member whose share completed the cart, a sweep
// of any instance) leaves it alone. orders.place must not run twice at once for one order id.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE group_carts ADD COLUMN placement_claimed_until timestamptz`.execute(db);
  await sql`ALTER TABLE bulk_orders ADD COLUMN placement_claimed_until timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE bulk_orders DROP COLUMN placement_claimed_until`.execute(db);
  await sql`ALTER TABLE group_carts DROP COLUMN placement_claimed_until`.execute(db);
}
