/**
 * Delta sync of a customer's orders (issue #25, docs/orders.md "Delta sync of orders"): the app
 * keeps its recent orders and asks only for those whose state changed since its cursor. Pure: the
 * changed summaries go in, the answer comes out.
 */
import type { FieldSelection } from '../../shared/delta-sync.js';
import { selectFields } from '../../shared/delta-sync.js';
import type { OrderSummary } from './repository.js';

/**
 * The orders view is a projection: a row's `updated_at` is the event's time (the app server's
 * clock), written when the projection applies it (normally well under a second later). The cursor
 * points this far before the database clock so that an event projected up to a minute late, or
 * stamped by a clock a little behind, is still sent: a change may come twice (the app upserts by
 * id), it is not missed while the projection keeps up within this margin.
 */
export const ORDERS_CURSOR_OVERLAP_MS = 60_000;
/** A reset (or more changes than this) sends at most this many orders, most recently changed first. */
export const ORDERS_SYNC_LIMIT = 100;

export const ORDER_SYNC_FIELDS = [
  'status',
  'restaurantId',
  'restaurantName',
  'driverId',
  'totalMinor',
  'itemCount',
  'createdAt',
  'updatedAt',
] as const;
export type OrderSyncField = (typeof ORDER_SYNC_FIELDS)[number];

/**
 * `changed` holds at most ORDERS_SYNC_LIMIT + 1 summaries, most recently changed first. A reset
 * (no cursor, an expired one, or more changes than the limit) says `reset: true`: the app replaces
 * its cached list with these, and `more: true` tells it older orders exist (GET /v1/orders pages
 * them). Orders never leave a customer's history, so there are no tombstones.
 */
export function buildOrdersDelta(
  changed: readonly OrderSummary[],
  reset: boolean,
  selection: FieldSelection<OrderSyncField>,
  cursor: string,
): Record<string, unknown> {
  const overflow = changed.length > ORDERS_SYNC_LIMIT;
  const items = changed
    .slice(0, ORDERS_SYNC_LIMIT)
    .map(({ customerId: _customer, ...order }) => selectFields(order, selection));
  const body: Record<string, unknown> = { cursor };
  if (reset || overflow) body.reset = true;
  if (overflow) body.more = true;
  if (items.length > 0) body.items = items;
  return body;
}
