/**
 * The `recommendations` projection: what the ranker needs of each order, from the order events
 * (the same stream the orders projection reads, and the shape the synthetic generator writes in
 * ml/): the customer, restaurant, dishes, the delivery's location cell and the placement time.
 * `OrderCreated` adds the row, `OrderPaymentCaptured` marks it placed, `OrderReadyForPickup` sets
 * its ready time and `OrderRejected`/`OrderCancelled` its end (the kitchen's load and history, for
 * the preparation-time model); other events are not read.
 */
import { sql } from 'kysely';
import type { ProjectionContext, ProjectionDefinition } from '../../../projections/types.js';
import type { RecordedEvent } from '../../eventstore/index.js';
import { ORDER_STREAM_PREFIX, type OrderCreatedData } from '../orders/index.js';
import { cellOf } from './features.js';

export const RECOMMENDATIONS_PROJECTION = 'recommendations';

async function setup({ db, schema }: ProjectionContext): Promise<void> {
  const table = sql.id(schema, 'reco_orders');
  await sql`CREATE TABLE ${table} (order_id uuid PRIMARY KEY, customer_id text NOT NULL,
    restaurant_id uuid NOT NULL, lines jsonb NOT NULL, cell text, created_at timestamptz NOT NULL,
    placed_at timestamptz, stated_prep_minutes integer, ready_at timestamptz, closed_at timestamptz)`.execute(
    db,
  );
  await sql`CREATE INDEX ON ${table} (placed_at, order_id) WHERE placed_at IS NOT NULL`.execute(db);
  await sql`CREATE INDEX ON ${table} (customer_id)`.execute(db);
}

/** The delivery's cell, or null when the address is sealed or erased (it is then not an object). */
export function deliveryCell(delivery: unknown): string | null {
  if (typeof delivery !== 'object' || delivery === null) return null;
  const { latitude, longitude } = delivery as { latitude?: unknown; longitude?: unknown };
  if (typeof latitude !== 'number' || typeof longitude !== 'number') return null;
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return null;
  return cellOf(latitude, longitude);
}

async function handle(event: RecordedEvent, { db, schema }: ProjectionContext): Promise<void> {
  const table = sql.id(schema, 'reco_orders');
  const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
  if (event.type === 'OrderCreated') {
    const data = event.data as OrderCreatedData;
    const lines = data.lines.map((line) => ({ itemId: line.itemId, quantity: line.quantity }));
    const stated = data.preparationEstimate?.statedMinutes ?? data.estimatedPreparationMinutes;
    await sql`INSERT INTO ${table} (order_id, customer_id, restaurant_id, lines, cell, created_at,
      stated_prep_minutes) VALUES (${orderId}, ${data.customer.id}, ${data.restaurantId},
      ${JSON.stringify(lines)}::jsonb, ${deliveryCell(data.delivery)}, ${data.at},
      ${Number.isSafeInteger(stated) ? stated : null}) ON CONFLICT (order_id) DO NOTHING`.execute(db);
  } else if (event.type === 'OrderPaymentCaptured') {
    const data = event.data as { at: string };
    await sql`UPDATE ${table} SET placed_at = ${data.at} WHERE order_id = ${orderId} AND placed_at IS NULL`.execute(
      db,
    );
  } else if (event.type === 'OrderReadyForPickup') {
    const data = event.data as { at: string };
    await sql`UPDATE ${table} SET ready_at = ${data.at} WHERE order_id = ${orderId} AND ready_at IS NULL`.execute(
      db,
    );
  } else if (event.type === 'OrderRejected' || event.type === 'OrderCancelled') {
    const data = event.data as { at: string };
    await sql`UPDATE ${table} SET closed_at = ${data.at} WHERE order_id = ${orderId} AND closed_at IS NULL`.execute(
      db,
    );
  }
}

export const recommendationsProjection: ProjectionDefinition = {
  name: RECOMMENDATIONS_PROJECTION,
  // 2: the kitchen's columns (stated time, ready, ended) for the preparation-time model.
  version: 2,
  tables: ['reco_orders'],
  filter: {
    streamPrefixes: [ORDER_STREAM_PREFIX],
    eventTypes: [
      'OrderCreated',
      'OrderPaymentCaptured',
      'OrderReadyForPickup',
      'OrderRejected',
      'OrderCancelled',
    ],
  },
  setup,
  handle,
};
