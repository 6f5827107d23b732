/**
 * The community context (issue #27, docs/community.md): favourites of restaurants and dishes with
 * the quick reorder from them, and shared links with their public preview page.
 *
 * It needs the catalog (the public face of restaurants and dishes) and orders (the customer's
 * cart and their past orders). Nothing needs it.
 */
import { defineContext, need, tablesOf } from '../../platform/context.js';
import type { Catalog } from '../catalog/index.js';
import { CartError, normalizeCart, type OrdersContext } from '../orders/index.js';
import { registerAchievementRoutes } from './achievement-routes.js';
import {
  ACHIEVEMENTS_REACTOR,
  createAchievements,
  type Achievements,
  type AchievementsLedger,
} from './achievements.js';
import { communityErrors } from './errors.js';
import { createFavourites, type CommunityOrdersPort, type Favourites } from './favourites.js';
import { createFavouritesRepository } from './repository.js';
import { registerFavouriteRoutes } from './routes.js';
import { registerShareRoutes } from './share-routes.js';
import { createSharePreviews, type SharePreviews } from './share-service.js';
import type { CommunityTables } from './tables.js';

export type { Favourites } from './favourites.js';
export type { SharePreviews } from './share-service.js';
export { SHARE_PAGE_MAX_BYTES } from './share.js';

export type { Achievements } from './achievements.js';

export interface Community {
  favourites: Favourites;
  share: SharePreviews;
  /** Profiles, badges, leaderboards and the monthly challenge (rewards in loyalty points). */
  achievements: Achievements;
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
    catalog: need<Pick<Catalog, 'community'>>(),
    orders: need<OrdersNeed>(),
    // The monthly challenge's reward: points from the points issuance, booked on the ledger.
    ledger: need<AchievementsLedger>(),
  },
  tables: tablesOf<CommunityTables>(),
  create({ runtime, db, eventStore }, { catalog, orders, ledger }) {
    const repository = createFavouritesRepository(db);
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
    const community: Community = {
      favourites: createFavourites({ repository, catalog: catalog.community, orders: () => port }),
      share: createSharePreviews(catalog.community, runtime.config.PUBLIC_BASE_URL),
      achievements,
    };
    return {
      service: community,
      routes(app) {
        registerFavouriteRoutes(app, community.favourites);
        registerAchievementRoutes(app, achievements);
        registerShareRoutes(app, community.share, {
          baseUrl: runtime.config.PUBLIC_BASE_URL,
          siteName: runtime.config.SHARE_SITE_NAME,
        });
      },
      personalData: {
        async export(subjectId) {
          const favourites = await repository.list(subjectId);
          const achieved = await achievements.personalData.export(subjectId);
          return favourites.length === 0 && achieved === null
            ? null
            : {
                favourites: favourites.map((row) => ({
                  kind: row.kind,
                  id: row.targetId,
                  at: row.createdAt.toISOString(),
                })),
                ...(achieved === null ? {} : { community: achieved }),
              };
        },
        async erase(subjectId) {
          return {
            favourites: await repository.erase(subjectId),
            ...(await achievements.personalData.erase(subjectId)),
          };
        },
      },
      reactors: [{ name: ACHIEVEMENTS_REACTOR, start: achievements.start, stop: achievements.stop }],
    };
  },
});
