/**
 * The community context (issue #27, docs/community.md): favourites of restaurants and dishes with
 * the quick reorder from them, shared links with their public preview page, and group orders.
 *
 * It needs the catalog (the public face of restaurants and dishes), orders (the customer's cart,
 * their past orders, the quote and placement of a group's order), the ledger (a group cart's
 * escrow), payments (a wallet's state, a Mobile Money top-up for a share), identity (the audit
 * log) and notify (group and bulk order notices). Nothing needs it.
 */
import { defineContext, need, tablesOf } from '../../platform/context.js';
import type { Catalog } from '../catalog/index.js';
import type { Identity } from '../identity/index.js';
import { CartError, normalizeCart, type OrdersContext } from '../orders/index.js';
import { paymentIdOf } from '../payments/index.js';
import { registerAchievementRoutes } from './achievement-routes.js';
import {
  createBulkOrders,
  type BulkCollectionView,
  type BulkOrders,
  type BulkOrdersPort,
  type BulkPaymentsPort,
} from './bulk-orders.js';
import { createBulkOrdersRepository } from './bulk-repository.js';
import { registerBulkOrderRoutes } from './bulk-routes.js';
import { ACHIEVEMENTS_REACTOR, createAchievements, type Achievements } from './achievements.js';
import { communityErrors } from './errors.js';
import { createFavourites, type CommunityOrdersPort, type Favourites } from './favourites.js';
import {
  createGroupCarts,
  type GroupCarts,
  type GroupLedgerPort,
  type GroupOrdersPort,
  type GroupWalletsPort,
} from './group-carts.js';
import { createGroupCartsRepository } from './group-repository.js';
import { registerGroupCartRoutes } from './group-routes.js';
import type { CommunityNotifier } from './notices.js';
import { createRecipeRepository } from './recipe-repository.js';
import { registerRecipeRoutes } from './recipe-routes.js';
import { createRecipes, type Recipes } from './recipes.js';
import { createFavouritesRepository } from './repository.js';
import { registerFavouriteRoutes } from './routes.js';
import { registerShareRoutes } from './share-routes.js';
import { createSharePreviews, type SharePreviews } from './share-service.js';
import type { CommunityTables } from './tables.js';

export type { Favourites } from './favourites.js';
export type { CommunityNotifier } from './notices.js';
export type { SharePreviews } from './share-service.js';
export { createGroupCarts, type GroupCarts } from './group-carts.js';
export { createBulkOrders, type BulkOrders, type BulkPolicy } from './bulk-orders.js';
export { createBulkOrdersRepository } from './bulk-repository.js';
export { bulkTransferIds, depositOf, cancellationRefund } from './bulk-rules.js';
export { createGroupCartsRepository } from './group-repository.js';
export {
  GROUP_MAX_MEMBERS,
  GROUP_MAX_LINES,
  refundTransferId,
  releaseTransferId,
  shareTransferId,
} from './group-rules.js';
export { SHARE_PAGE_MAX_BYTES } from './share.js';

export type { Achievements } from './achievements.js';
export type { Recipes } from './recipes.js';

export interface Community {
  favourites: Favourites;
  share: SharePreviews;
  /** Profiles, badges, leaderboards and the monthly challenge (rewards in loyalty points). */
  achievements: Achievements;
  groups: GroupCarts;
  /** Bulk orders for offices and events: a deposit in escrow, the restaurant's confirmation. */
  bulk: BulkOrders;
  /** Recipes restaurants share, customers' comments and ratings, support's moderation. */
  recipes: Recipes;
}

/** What group orders use of payments' wallets: a wallet's state and a Mobile Money top-up. */
interface WalletsNeed {
  summary(userId: string, currency: 'XAF'): Promise<{ status: 'active' | 'frozen' }>;
  topUp(
    userId: string,
    amountMinor: bigint,
    phone: string,
    idempotencyKey: string,
  ): Promise<{ paymentId: string; ussdCode: string | null }>;
}

/** A payment attempt as payments answers it. */
type AttemptView = Omit<BulkCollectionView, 'amountMinor'> & { amountMinor: bigint };

/** What bulk orders use of payments' Mobile Money attempts (a collection into the request's escrow). */
interface PaymentsNeed {
  initiate(input: {
    userId: string;
    purpose: { kind: 'bulk_order'; bulkOrderId: string; part: 'deposit' | 'balance' };
    amountMinor: bigint;
    currency: 'XAF';
    phone: string;
    operator?: 'MTN' | 'ORANGE';
    idempotencyKey: string;
    description: string;
  }): Promise<AttemptView>;
  view(paymentId: string): Promise<AttemptView | undefined>;
  refresh(paymentId: string): Promise<unknown>;
  settle(paymentId: string): Promise<void>;
}

function bulkPaymentsPort(payments: PaymentsNeed): BulkPaymentsPort {
  const collectionOf = (found: AttemptView): BulkCollectionView => ({
    paymentId: found.paymentId,
    status: found.status,
    amountMinor: Number(found.amountMinor),
    provider: found.provider,
    ussdCode: found.ussdCode,
    failureReason: found.failureReason,
    afterExpiry: found.afterExpiry,
  });
  return {
    paymentIdOf,
    async collect(input) {
      return collectionOf(
        await payments.initiate({
          userId: input.userId,
          purpose: { kind: 'bulk_order', bulkOrderId: input.bulkOrderId, part: input.part },
          amountMinor: input.amountMinor,
          currency: 'XAF',
          phone: input.phone,
          ...(input.operator === undefined ? {} : { operator: input.operator }),
          idempotencyKey: input.idempotencyKey,
          description: input.part === 'deposit' ? 'Bulk order deposit' : 'Bulk order balance',
        }),
      );
    },
    async view(paymentId) {
      const found = await payments.view(paymentId);
      return found === undefined ? undefined : collectionOf(found);
    },
    refresh: (paymentId) => payments.refresh(paymentId),
    settle: (paymentId) => payments.settle(paymentId),
  };
}

function groupOrdersPort(orders: OrdersNeed): GroupOrdersPort {
  return {
    quote: (input, customerId) => orders.orders.quote(input, customerId),
    async status(orderId) {
      const found = await orders.orders.find(orderId);
      return found === undefined || found.state.status === 'NONE' ? undefined : found.state.status;
    },
    async place(input, customerId, orderId) {
      const placed = await orders.orders.place(
        input,
        { kind: 'user', id: customerId },
        { actorId: customerId, actorRole: 'customer', groupOrder: true },
        { orderId, resume: true },
      );
      return { status: placed.state.status };
    },
  };
}

function bulkOrdersPort(orders: OrdersNeed): BulkOrdersPort {
  const group = groupOrdersPort(orders);
  return {
    quote: group.quote,
    status: group.status,
    async place(input, customerId, orderId, expectedTotalMinor) {
      const placed = await orders.orders.place(
        input,
        { kind: 'user', id: customerId },
        { actorId: customerId, actorRole: 'customer' },
        { orderId, resume: true, expectedTotalMinor },
      );
      return { status: placed.state.status };
    },
  };
}

function groupWalletsPort(wallets: WalletsNeed): GroupWalletsPort {
  return {
    frozen: async (userId) => (await wallets.summary(userId, 'XAF')).status === 'frozen',
    topUp: (userId, amountMinor, phone, key) => wallets.topUp(userId, amountMinor, phone, key),
  };
}

type OrdersNeed = Pick<OrdersContext, 'orders' | 'repository' | 'carts'>;

/** Orders' cart and history as community's port; the cart's refusals become community's. */
function ordersPort(orders: OrdersNeed): CommunityOrdersPort {
  const normalized = (
    restaurantId: string,
    lines: { itemId: string; quantity: number; optionIds: string[] }[],
  ) => {
    try {
      return normalizeCart({ restaurantId, items: lines });
    } catch (error) {
      if (error instanceof CartError) throw communityErrors.of('unprocessable', error.code, error.message);
      throw error;
    }
  };
  return {
    readCart: (userId) => orders.carts.read({ kind: 'user', userId }),
    async writeCart(userId, restaurantId, lines) {
      const written = await orders.carts.write({ kind: 'user', userId }, normalized(restaurantId, lines));
      return { restaurantId: written.restaurantId, items: written.items };
    },
    async lastOrderLines(userId, restaurantId) {
      const page = await orders.repository.list(
        { customerId: userId, restaurantIds: [restaurantId] },
        { limit: 1 },
      );
      const summary = page.items[0];
      if (summary === undefined) return undefined;
      const found = await orders.orders.find(summary.id);
      const order = found?.state.order;
      if (order === undefined || order === null) return undefined;
      const lines = order.lines.map((line) => ({
        itemId: line.itemId,
        quantity: line.quantity,
        optionIds: line.modifiers.map((modifier) => modifier.optionId),
      }));
      return { orderId: summary.id, lines: normalized(restaurantId, lines).items };
    },
  };
}

export const communityContext = defineContext({
  name: 'community',
  needs: {
    catalog: need<Pick<Catalog, 'community' | 'orders'>>(),
    orders: need<OrdersNeed>(),
    // The monthly challenge's reward (points) and group carts' escrows, booked on the ledger.
    ledger: need<GroupLedgerPort>(),
    payments: need<{ wallets: WalletsNeed; payments: PaymentsNeed }>(),
    // Bulk orders' requests, answers and cancellations, and recipes' moderation, in the audit log.
    identity: need<Pick<Identity, 'audit'>>(),
    // Group carts' and bulk orders' notices (push, SMS, the in-app centre), named after the fact.
    notify: need<CommunityNotifier>(),
  },
  tables: tablesOf<CommunityTables>(),
  create({ runtime, db, eventStore }, { catalog, orders, ledger, payments, identity, notify }) {
    const repository = createFavouritesRepository(db);
    const groupRepository = createGroupCartsRepository(db);
    const port = ordersPort(orders);
    const achievements = createAchievements({
      db,
      eventStore,
      ledger,
      logger: runtime.logger.child({ component: 'community-achievements' }),
      async restaurantOf(restaurantId) {
        const [card] = await catalog.community.restaurantCards([restaurantId]);
        return card === undefined ? undefined : { city: card.city, cuisines: card.cuisines };
      },
      challenge: {
        orders: runtime.config.COMMUNITY_CHALLENGE_ORDERS,
        points: BigInt(runtime.config.COMMUNITY_CHALLENGE_POINTS),
      },
    });
    const groupOrders = groupOrdersPort(orders);
    const groupWallets = groupWalletsPort(payments.wallets);
    const config = runtime.config;
    const bulkOrders = bulkOrdersPort(orders);
    const bulkRepository = createBulkOrdersRepository(db);
    const bulkPayments = bulkPaymentsPort(payments.payments);
    const bulk = createBulkOrders({
      repository: bulkRepository,
      catalog: {
        restaurantCards: (ids) => catalog.community.restaurantCards(ids),
        restaurantOwnerId: (restaurantId) => catalog.orders.restaurantOwnerId(restaurantId),
      },
      orders: () => bulkOrders,
      wallets: () => groupWallets,
      payments: () => bulkPayments,
      ledger,
      audit: (entry) =>
        identity.audit({
          action: entry.action,
          actor: entry.actorId === null ? { kind: 'system' } : { kind: 'user', userId: entry.actorId },
          resource: entry.resource,
          newValue: entry.newValue,
        }),
      logger: runtime.logger.child({ component: 'bulk-orders' }),
      notifier: notify,
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
    const recipes = createRecipes({
      repository: createRecipeRepository(db),
      catalog: {
        restaurantExists: async (id) => (await catalog.community.restaurantCards([id])).length > 0,
        restaurantOwnerId: (id) => catalog.orders.restaurantOwnerId(id),
        async dishRestaurants(ids) {
          const cards = await catalog.community.dishCards(ids);
          return new Map(cards.map((card) => [card.id, card.restaurantId]));
        },
      },
      orders: () => ({
        // The catalog reviews' rule (a received order), without its 30-day window.
        async hasReceivedFrom(customerId, restaurantId) {
          const found = await orders.repository.list(
            { customerId, restaurantIds: [restaurantId], statuses: ['DELIVERED', 'COMPLETED'] },
            { limit: 1 },
          );
          return found.items.length > 0;
        },
      }),
      audit: (entry, transaction) =>
        identity.audit(
          {
            action: entry.action,
            actor: { kind: 'user', userId: entry.actorId },
            subjectUserId: entry.subjectUserId ?? null,
            resource: entry.resource,
            newValue: entry.newValue,
          },
          transaction,
        ),
    });
    const community: Community = {
      bulk,
      recipes,
      favourites: createFavourites({ repository, catalog: catalog.community, orders: () => port }),
      share: createSharePreviews(catalog.community, runtime.config.PUBLIC_BASE_URL),
      achievements,
      groups: createGroupCarts({
        repository: groupRepository,
        catalog: catalog.community,
        orders: () => groupOrders,
        wallets: () => groupWallets,
        ledger,
        logger: runtime.logger.child({ component: 'group-orders' }),
        ttlMinutes: runtime.config.GROUP_CART_TTL_MINUTES,
        maxOpenPerHost: runtime.config.GROUP_CARTS_MAX_OPEN_PER_HOST,
        publicBaseUrl: runtime.config.PUBLIC_BASE_URL,
        notifier: notify,
      }),
    };
    return {
      service: community,
      routes(app) {
        registerFavouriteRoutes(app, community.favourites);
        registerAchievementRoutes(app, achievements);
        registerGroupCartRoutes(app, community.groups, runtime.database.db);
        registerBulkOrderRoutes(app, bulk, runtime.database.db);
        registerRecipeRoutes(app, recipes, runtime.database.db);
        registerShareRoutes(app, community.share, {
          baseUrl: runtime.config.PUBLIC_BASE_URL,
          siteName: runtime.config.SHARE_SITE_NAME,
        });
      },
      // Every minute on every instance (each step is safe to run twice): expiries and their
      // refunds, carts a stopped process left paid or placing, Mobile Money shares arrived.
      schedules: [
        {
          name: 'community-group-carts-sweep',
          cron: '* * * * *',
          run: async (at: Date) => {
            await community.groups.sweep(at);
          },
        },
        // Bulk orders: unanswered requests expire (deposit back), unpaid balances cancel, paid
        // ones are placed at their time, and what a stopped process left half done is finished.
        {
          name: 'community-bulk-orders-sweep',
          cron: '* * * * *',
          run: async (at: Date) => {
            await bulk.sweep(at);
          },
        },
      ],
      personalData: {
        async export(subjectId) {
          const favourites = await repository.list(subjectId);
          const achieved = await achievements.personalData.export(subjectId);
          const groups = await groupRepository.ofPerson(subjectId);
          const bulkOrders = await bulkRepository.ofPerson(subjectId);
          const recipeData = await recipes.personalData.export(subjectId);
          if (
            recipeData === null &&
            favourites.length === 0 &&
            achieved === null &&
            groups.memberships.length === 0 &&
            groups.owed.length === 0 &&
            bulkOrders.length === 0
          )
            return null;
          return {
            favourites: favourites.map((row) => ({
              kind: row.kind,
              id: row.targetId,
              at: row.createdAt.toISOString(),
            })),
            ...(achieved === null ? {} : { community: achieved }),
            groupCarts: groups.memberships.map((row) => ({
              id: row.id,
              status: row.status,
              host: row.host_id === subjectId,
              lines: row.lines,
              joinedAt: row.joined_at.toISOString(),
            })),
            groupShares: groups.owed.map((row) => ({
              cartId: row.cart_id,
              kind: row.kind,
              amountMinor: Number(row.amount_minor),
              status: row.status,
            })),
            ...(recipeData === null ? {} : { recipes: recipeData }),
            bulkOrders: bulkOrders.map((row) => ({
              id: row.id,
              restaurantId: row.restaurantId,
              status: row.status,
              scheduledFor: row.scheduledFor.toISOString(),
              lines: row.lines,
              delivery: row.delivery,
              note: row.note,
              totalMinor: Number(row.totalMinor),
              depositMinor: Number(row.depositMinor),
              depositRefundMinor: row.depositRefundMinor === null ? null : Number(row.depositRefundMinor),
            })),
          };
        },
        async erase(subjectId) {
          return {
            favourites: await repository.erase(subjectId),
            ...(await achievements.personalData.erase(subjectId)),
            groupCartLines: await groupRepository.eraseLines(subjectId),
            bulkOrderTexts: await bulkRepository.eraseTexts(subjectId),
            ...(await recipes.personalData.erase(subjectId)),
          };
        },
      },
      reactors: [{ name: ACHIEVEMENTS_REACTOR, start: achievements.start, stop: achievements.stop }],
    };
  },
});
