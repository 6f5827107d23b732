import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Restaurants' inventory (issue #27): ingredients with
// their stock in whole base units (grams, millilitres, pieces), recipes (an ingredient's quantity
// per portion of a dish), lots received with their expiry date, an append-only movement journal
// (the audit trail: every change of stock, by whom and why), and alerts (low stock, expiry).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE inventory_ingredients (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      restaurant_id uuid NOT NULL,
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
      unit text NOT NULL CHECK (unit IN ('g', 'ml', 'piece')),
      on_hand int8 NOT NULL DEFAULT 0,
      low_stock_threshold int8 NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0),
      lead_time_days int4 NOT NULL DEFAULT 2 CHECK (lead_time_days BETWEEN 0 AND 60),
      cover_days int4 NOT NULL DEFAULT 7 CHECK (cover_days BETWEEN 1 AND 60),
      archived_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX inventory_ingredients_name_idx ON inventory_ingredients (restaurant_id, lower(name)) WHERE archived_at IS NULL`.execute(
    db,
  );
  await sql`
    CREATE TABLE inventory_recipes (
      restaurant_id uuid NOT NULL,
      item_id uuid NOT NULL,
      ingredient_id uuid NOT NULL REFERENCES inventory_ingredients (id),
      quantity int8 NOT NULL CHECK (quantity > 0),
      PRIMARY KEY (item_id, ingredient_id)
    )`.execute(db);
  await sql`CREATE INDEX inventory_recipes_restaurant_idx ON inventory_recipes (restaurant_id, item_id)`.execute(
    db,
  );
  await sql`
    CREATE TABLE inventory_lots (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ingredient_id uuid NOT NULL REFERENCES inventory_ingredients (id),
      restaurant_id uuid NOT NULL,
      received int8 NOT NULL CHECK (received > 0),
      remaining int8 NOT NULL CHECK (remaining >= 0 AND remaining <= received),
      expires_on date,
      received_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX inventory_lots_open_idx ON inventory_lots (ingredient_id, expires_on NULLS LAST, received_at) WHERE remaining > 0`.execute(
    db,
  );
  await sql`
    CREATE TABLE inventory_movements (
      id bigserial PRIMARY KEY,
      restaurant_id uuid NOT NULL,
      ingredient_id uuid NOT NULL REFERENCES inventory_ingredients (id),
      kind text NOT NULL CHECK (kind IN ('receipt', 'consumption', 'return', 'wastage', 'count')),
      quantity int8 NOT NULL,
      on_hand_after int8 NOT NULL,
      reason text,
      note text,
      order_id uuid,
      lot_id uuid,
      actor_id uuid,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // An order consumes each ingredient once and gives it back at most once (the reactor may repeat).
  await sql`CREATE UNIQUE INDEX inventory_movements_order_idx ON inventory_movements (order_id, ingredient_id, kind) WHERE order_id IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX inventory_movements_restaurant_time_idx ON inventory_movements (restaurant_id, created_at)`.execute(
    db,
  );
  await sql`CREATE INDEX inventory_movements_ingredient_time_idx ON inventory_movements (ingredient_id, kind, created_at)`.execute(
    db,
  );
  await sql`
    CREATE TABLE inventory_alerts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      restaurant_id uuid NOT NULL,
      ingredient_id uuid NOT NULL REFERENCES inventory_ingredients (id),
      kind text NOT NULL CHECK (kind IN ('low_stock', 'expiry')),
      lot_id uuid REFERENCES inventory_lots (id),
      detail jsonb NOT NULL DEFAULT '{}',
      raised_at timestamptz NOT NULL DEFAULT now(),
      resolved_at timestamptz
    )`.execute(db);
  // One open alert per ingredient and kind (and lot, for expiry): raising it again is a no-op.
  await sql`CREATE UNIQUE INDEX inventory_alerts_open_idx ON inventory_alerts (ingredient_id, kind, coalesce(lot_id, '00000000-0000-0000-0000-000000000000'::uuid)) WHERE resolved_at IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX inventory_alerts_restaurant_idx ON inventory_alerts (restaurant_id, raised_at DESC)`.execute(
    db,
  );
  await sql`
    CREATE TABLE inventory_reactor_checkpoints (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'inventory_reactor_checkpoints',
    'inventory_alerts',
    'inventory_movements',
    'inventory_lots',
    'inventory_recipes',
    'inventory_ingredients',
  ])
    await db.schema.dropTable(table).ifExists().execute();
}
