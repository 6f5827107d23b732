import type { ColumnType, Kysely } from 'kysely';

/**
 * The recommendations context's read model, served in `public` by its projection (projections/
 * creates it per generation; only the projection writes it, erasure aside): one row per order with
 * what the ranker reads. The delivery is kept as its location cell (about 2 km), never the address.
 */
type Json<T> = ColumnType<T, string, string>;

export interface RecoOrdersTable {
  order_id: string;
  customer_id: string;
  restaurant_id: string;
  lines: Json<{ itemId: string; quantity: number }[]>;
  cell: string | null;
  created_at: Date;
  /** Set when the payment is captured (the order counts from then on). */
  placed_at: Date | null;
}

export interface RecommendationTables {
  reco_orders: RecoOrdersTable;
}

export type RecommendationsDb = Kysely<RecommendationTables>;
