/**
 * `GET /v1/sync/orders?since=<cursor>&fields=…` (docs/orders.md "Delta sync of orders"): the
 * caller's own orders whose state changed since the app's cursor, a new cursor and an ETag, in the
 * shape of `GET /v1/sync/menus/{id}`.
 */
import Type from 'typebox';
import { HttpProblem } from '../../../http/problem.js';
import {
  deltaEntityTag,
  encodeSyncCursor,
  entityTagMatches,
  readFieldSelection,
  readSyncCursor,
} from '../../../shared/delta-sync.js';
import type { OrdersContext } from '../index.js';
import { SummarySchema } from '../schemas.js';
import { buildOrdersDelta, ORDER_SYNC_FIELDS, ORDERS_CURSOR_OVERLAP_MS, ORDERS_SYNC_LIMIT } from '../sync.js';
import { errors, HISTORY, principalOf, tags, type OrderApp } from './shared.js';

const { customerId: _customer, ...summaryFields } = SummarySchema.properties;
const SyncedOrder = Type.Object(
  { ...Type.Partial(Type.Object(summaryFields)).properties, id: Type.String() },
  { additionalProperties: false },
);

const OrdersDeltaResponse = Type.Object(
  {
    cursor: Type.String({ description: 'send it as `since` next time' }),
    reset: Type.Optional(
      Type.Boolean({
        description: 'true: replace the cached orders with these (most recently changed first)',
      }),
    ),
    more: Type.Optional(
      Type.Boolean({ description: 'older orders exist beyond this answer: GET /v1/orders pages them' }),
    ),
    items: Type.Optional(Type.Array(SyncedOrder, { maxItems: ORDERS_SYNC_LIMIT })),
  },
  { additionalProperties: false },
);

export function registerOrderSyncRoutes(app: OrderApp, context: OrdersContext): void {
  const { repository } = context;
  app.get('/v1/sync/orders', {
    config: { access: HISTORY },
    schema: {
      tags,
      summary: "What changed on the caller's orders since a cursor; ETag/304",
      querystring: Type.Object(
        {
          since: Type.Optional(Type.String({ maxLength: 200, description: 'the cursor of the last sync' })),
          fields: Type.Optional(
            Type.String({
              maxLength: 200,
              description: `order fields, comma-separated: ${ORDER_SYNC_FIELDS.join(', ')}`,
            }),
          ),
        },
        { additionalProperties: false },
      ),
      response: { 200: OrdersDeltaResponse, 304: Type.Null(), ...errors },
    },
    handler: async (request, reply) => {
      const customerId = principalOf(request).userId;
      const selection = readFieldSelection(request.query.fields, ORDER_SYNC_FIELDS);
      if (selection.kind === 'invalid')
        throw new HttpProblem(
          400,
          'sync_fields_invalid',
          `Unknown or no fields: ${selection.unknown.join(', ')}.`,
        );
      // The clock first: a change projected after it is at or after the next cursor.
      const clock = (await repository.syncClock()).getTime();
      const cursor = readSyncCursor(request.query.since, {
        kind: 'orders',
        ownerId: customerId,
        nowMs: clock,
        toleranceMs: ORDERS_CURSOR_OVERLAP_MS,
      });
      if (cursor.kind === 'invalid') throw new HttpProblem(400, 'sync_cursor_invalid', `${cursor.reason}.`);
      const reset = cursor.kind !== 'since';
      const changed = await repository.changedForCustomer(
        customerId,
        new Date(reset ? 0 : cursor.sinceMs),
        ORDERS_SYNC_LIMIT,
      );
      const next = encodeSyncCursor('orders', customerId, clock - ORDERS_CURSOR_OVERLAP_MS);
      const body = buildOrdersDelta(changed, reset, selection, next);
      const etag = deltaEntityTag(body);
      reply.header('etag', etag).header('cache-control', 'private, max-age=0, must-revalidate');
      if (entityTagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
      return body as never;
    },
  });
}
