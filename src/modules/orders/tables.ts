import type { ColumnType, Generated, Kysely } from 'kysely';

/**
 * The orders context's tables. `order_carts` is state-stored (a migration creates it); the
 * others are the views the `orders` projection serves in `public` (projections/ creates them
 * per generation); only the projection writes them.
 */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface OrderCartsTable {
  id: Generated<string>;
  owner_kind: 'user' | 'token';
  /** The user id, or the SHA-256 of the anonymous cart token. */
  owner_key: string;
  restaurant_id: string | null;
  items: Json<unknown>;
  expires_at: Date | null;
  updated_at: Timestamp;
}

export interface OrdersViewTable {
  order_id: string;
  customer_id: string;
  customer_kind: string;
  restaurant_id: string;
  restaurant_owner_id: string;
  restaurant_name: string;
  driver_id: string | null;
  status: string;
  total_minor: bigint;
  subtotal_minor: bigint;
  discount_minor: bigint;
  item_count: number;
  lines: Json<unknown>;
  created_at: Date;
  placed_at: Date | null;
  delivered_at: Date | null;
  updated_at: Date;
  last_revision: bigint;
  /** A scheduled order's time (null: as soon as possible). */
  scheduled_for: Date | null;
  /** Where the delivery point lay at placement (issue #26); null on orders from before. */
  city_id: string | null;
  zone_id: string | null;
  delivery_fee_minor: bigint | null;
  surge_minor: bigint | null;
}

/** Paid orders per zone and local day (issue #26), with their delivery fees and surges. */
export interface OrderZoneDailyTable {
  city_id: string;
  zone_id: string;
  day: string;
  orders: number;
  delivery_fee_minor: bigint;
  surge_minor: bigint;
  /** Orders whose fee carried a surge. */
  surged_orders: number;
}

export interface OrderRestaurantDailyTable {
  restaurant_id: string;
  day: string;
  orders: number;
  delivered: number;
  revenue_minor: bigint;
  /** Refunds decided in disputes that day (OrderDisputeResolved), whatever day the order was delivered. */
  refunded_minor: bigint;
}

export interface OrderRestaurantHoursTable {
  restaurant_id: string;
  hour: number;
  orders: number;
}

export interface OrderItemSalesTable {
  restaurant_id: string;
  item_id: string;
  name: string;
  quantity: bigint;
  revenue_minor: bigint;
}

/** Stock taken at placement (tracked items only), settled exactly once by the stock reactor. */
export interface OrderStockReservationsTable {
  order_id: string;
  restaurant_id: string;
  lines: Json<{ itemId: string; quantity: number }[]>;
  reserved_at: Generated<Date>;
  settled_at: Date | null;
  outcome: 'restored' | 'consumed' | null;
}

export interface OrdersReactorCheckpointsTable {
  name: string;
  position: string;
  updated_at: Generated<Date>;
}

/** The database as this context sees it: its own tables only. */
export type OrdersDb = Kysely<OrderTables>;

export interface OrderTables {
  order_carts: OrderCartsTable;
  order_stock_reservations: OrderStockReservationsTable;
  orders_reactor_checkpoints: OrdersReactorCheckpointsTable;
  orders_view: OrdersViewTable;
  order_restaurant_daily: OrderRestaurantDailyTable;
  order_restaurant_hours: OrderRestaurantHoursTable;
  order_item_sales: OrderItemSalesTable;
  order_zone_daily: OrderZoneDailyTable;
}
