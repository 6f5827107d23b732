import type { ColumnType, Generated, Kysely } from 'kysely';

/** Quantities are whole base units (grams, millilitres, pieces): int8, parsed to bigint. */
type Quantity = ColumnType<bigint, bigint | number, bigint | number>;
type Json<T> = ColumnType<T, string | undefined, string>;

export type IngredientUnit = 'g' | 'ml' | 'piece';
export type MovementKind = 'receipt' | 'consumption' | 'return' | 'wastage' | 'count';
export type AlertKind = 'low_stock' | 'expiry';

export interface InventoryIngredientsTable {
  id: Generated<string>;
  restaurant_id: string;
  name: string;
  unit: IngredientUnit;
  on_hand: ColumnType<bigint, bigint | number | undefined, bigint | number>;
  low_stock_threshold: ColumnType<bigint, bigint | number | undefined, bigint | number>;
  lead_time_days: Generated<number>;
  cover_days: Generated<number>;
  archived_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface InventoryRecipesTable {
  restaurant_id: string;
  item_id: string;
  ingredient_id: string;
  quantity: Quantity;
}

export interface InventoryLotsTable {
  id: Generated<string>;
  ingredient_id: string;
  restaurant_id: string;
  received: Quantity;
  remaining: Quantity;
  /** A calendar day, `YYYY-MM-DD` (the pg driver's date type is read as a string here). */
  expires_on: ColumnType<string | null, string | null | undefined, string | null>;
  received_at: Generated<Date>;
}

export interface InventoryMovementsTable {
  id: Generated<bigint>;
  restaurant_id: string;
  ingredient_id: string;
  kind: MovementKind;
  /** Signed: what the movement added to (or, negative, took from) the stock. */
  quantity: Quantity;
  on_hand_after: Quantity;
  reason: string | null;
  note: string | null;
  order_id: string | null;
  lot_id: string | null;
  actor_id: string | null;
  created_at: Generated<Date>;
}

export interface InventoryAlertsTable {
  id: Generated<string>;
  restaurant_id: string;
  ingredient_id: string;
  kind: AlertKind;
  lot_id: string | null;
  detail: Json<Record<string, unknown>>;
  raised_at: Generated<Date>;
  resolved_at: Date | null;
}

export interface InventoryReactorCheckpointsTable {
  name: string;
  position: string;
  updated_at: Generated<Date>;
}

export interface InventoryTables {
  inventory_ingredients: InventoryIngredientsTable;
  inventory_recipes: InventoryRecipesTable;
  inventory_lots: InventoryLotsTable;
  inventory_movements: InventoryMovementsTable;
  inventory_alerts: InventoryAlertsTable;
  inventory_reactor_checkpoints: InventoryReactorCheckpointsTable;
}

export type InventoryDb = Kysely<InventoryTables>;
