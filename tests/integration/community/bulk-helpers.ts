/**
 * A bulk order's world (docs/community.md, "Bulk orders"): the orders world paying through the
 * ledger, funded customers, the calls a customer's and a restaurant's phones make, and a second
 * "instance" of the bulk orders service over the same database and ledger.
 */
import type { InjectOptions } from 'fastify';
import type { Transfer } from '../../../ledger/rules/index.js';
import { bulkOrderEscrowId, customerWalletId } from '../../../ledger/rules/index.js';
import { ownTables } from '../../../src/db/own-tables.js';
import {
  createBulkOrders,
  createBulkOrdersRepository,
  type BulkOrders,
} from '../../../src/modules/community/index.js';
import type { CommunityTables } from '../../../src/modules/community/tables.js';
import type { Database } from '../../../src/services.js';
import { authHeader, type CreatedUser } from '../../helpers/auth.js';
import { fundedCustomer, loyaltyWorld } from '../loyalty/helpers.js';
import { idempotencyKey, NEAR, type OrderWorld } from '../orders/helpers.js';

export { fundedCustomer };

/** Short windows so that tests reach every rule: 2 h lead, the balance due 1 h before. */
export const BULK_ENV = {
  BULK_ORDER_MIN_LEAD_HOURS: '2',
  BULK_ORDER_BALANCE_HOURS_BEFORE: '1',
  BULK_ORDER_FREE_CANCEL_HOURS_BEFORE: '24',
  BULK_ORDER_LATE_CANCEL_REFUND_PERCENT: '50',
  BULK_ORDER_DEPOSIT_PERCENT: '30',
  BULK_ORDER_MIN_ITEMS: '20',
  BULK_ORDER_RESPONSE_HOURS: '12',
  BULK_ORDER_PLACE_MINUTES_BEFORE: '120',
};

export async function bulkWorld(env: Record<string, string> = {}): Promise<OrderWorld> {
  return loyaltyWorld({ JOB_WORKERS_ENABLED: 'false', ...BULK_ENV, ...env });
}

export const hoursAhead = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

export function bulkCalls(world: OrderWorld) {
  const inject = (options: InjectOptions) => world.testApp.app.inject(options);
  const as = (user: CreatedUser, extra: Record<string, string> = {}) => ({
    ...authHeader(user.accessToken),
    'accept-language': 'en',
    ...extra,
  });
  const services = () => world.testApp.services;
  const body = (extra: Record<string, unknown> = {}) => ({
    restaurantId: world.restaurantId,
    items: [{ itemId: world.ndoleId, quantity: 20 }],
    delivery: NEAR,
    scheduledFor: hoursAhead(30),
    note: 'Séminaire, 3e étage',
    ...extra,
  });
  return {
    inject,
    as,
    body,
    request: (user: CreatedUser, payload: unknown = body(), key = idempotencyKey(), extra = {}) =>
      inject({
        method: 'POST',
        url: '/v1/bulk-orders',
        headers: as(user, { 'idempotency-key': key, ...extra }),
        payload: payload as Record<string, unknown>,
      }),
    read: (user: CreatedUser, id: string) =>
      inject({ method: 'GET', url: `/v1/bulk-orders/${id}`, headers: as(user) }),
    mine: (user: CreatedUser, query = '') =>
      inject({ method: 'GET', url: `/v1/bulk-orders${query}`, headers: as(user) }),
    ofRestaurant: (user: CreatedUser, query = '', restaurantId = world.restaurantId) =>
      inject({
        method: 'GET',
        url: `/v1/restaurants/${restaurantId}/bulk-orders${query}`,
        headers: as(user),
      }),
    act: (user: CreatedUser, id: string, step: string, payload?: unknown, extra = {}) =>
      inject({
        method: 'POST',
        url: `/v1/bulk-orders/${id}/${step}`,
        headers: as(user, extra),
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      }),
    async balance(user: CreatedUser): Promise<bigint> {
      const account = await services().ledger.account(customerWalletId(user.userId, 'XAF'));
      return account === null ? 0n : account.creditsPosted - account.debitsPosted;
    },
    async escrow(id: string): Promise<bigint> {
      const account = await services().ledger.account(bulkOrderEscrowId(id, 'XAF'));
      return account === null ? 0n : account.creditsPosted - account.debitsPosted;
    },
  };
}

/**
 * Another instance's bulk orders over the same database and ledger; `crash` makes its process
 * "die" right after a transfer whose id starts with the given prefix has landed (the throw stands
 * for the death: the transfer is booked, nothing after it is).
 */
export function bulkInstance(world: OrderWorld, crash: { afterTransfer?: string } = {}): BulkOrders {
  const real = world.testApp.services;
  const config = real.runtime.config;
  const orders = real.orders.orders;
  return createBulkOrders({
    repository: createBulkOrdersRepository(ownTables<CommunityTables, Database>(real.db)),
    catalog: {
      restaurantCards: (ids) => real.catalog.community.restaurantCards(ids),
      restaurantOwnerId: (id) => real.catalog.orders.restaurantOwnerId(id),
    },
    orders: () => ({
      quote: (input, customerId) => orders.quote(input, customerId),
      async status(orderId) {
        const found = await orders.find(orderId);
        return found === undefined || found.state.status === 'NONE' ? undefined : found.state.status;
      },
      async place(input, customerId, orderId, expectedTotalMinor) {
        const placed = await orders.place(
          input,
          { kind: 'user', id: customerId },
          { actorId: customerId, actorRole: 'customer' },
          { orderId, resume: true, expectedTotalMinor },
        );
        return { status: placed.state.status };
      },
    }),
    wallets: () => ({ frozen: async () => false }),
    ledger: {
      async submit(transfers: readonly Transfer[]) {
        const outcomes = await real.ledger.submit(transfers);
        if (crash.afterTransfer !== undefined && transfers[0]!.id.startsWith(crash.afterTransfer))
          throw new Error(`crash: after ${transfers[0]!.id}, before its bookkeeping`);
        return outcomes;
      },
    },
    audit: async () => {},
    logger: real.runtime.logger,
    policy: {
      minLeadHours: config.BULK_ORDER_MIN_LEAD_HOURS,
      maxDays: config.ORDER_SCHEDULE_MAX_DAYS,
      minItems: config.BULK_ORDER_MIN_ITEMS,
      responseHours: config.BULK_ORDER_RESPONSE_HOURS,
      depositPercent: config.BULK_ORDER_DEPOSIT_PERCENT,
      balanceHoursBefore: config.BULK_ORDER_BALANCE_HOURS_BEFORE,
      freeCancelHoursBefore: config.BULK_ORDER_FREE_CANCEL_HOURS_BEFORE,
      lateCancelRefundPercent: config.BULK_ORDER_LATE_CANCEL_REFUND_PERCENT,
      placeMinutesBefore: config.BULK_ORDER_PLACE_MINUTES_BEFORE,
      scheduleMinLeadMinutes: config.ORDER_SCHEDULE_MIN_LEAD_MINUTES,
    },
  });
}

export { idempotencyKey };
