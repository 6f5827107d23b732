/**
 * Loyalty points (issue #21, docs/loyalty.md): earned on orders that ended for good (completed
 * past the dispute window, or resolved keeping part of the food), held on the ledger in PTS,
 * tiered by the points of the last 12 months, expired by a daily job. `GET /v1/loyalty`.
 */
import { defineContext, need, tablesOf, type Reactor } from '../../platform/context.js';
import type { Catalog, CatalogOrdersApi } from '../catalog/index.js';
import type { Identity } from '../identity/index.js';
import type { OrdersRepository } from '../orders/index.js';
import type { ReferralFraud } from '../admin/index.js';
import { registerCouponExportRoute, registerCouponRoutes } from './coupon-routes.js';
import { COUPON_REACTOR, createCoupons, type Coupons, type CouponsOptions } from './coupons.js';
import { registerPromotionRoutes } from './promotion-routes.js';
import { createPromotions, PROMOTION_REACTOR } from './promotions.js';
import { createFreeDeliveries, type FreeDeliveries } from './free-deliveries.js';
import { createRedemption, REDEMPTION_REACTOR } from './redemption.js';
import { registerReferralRoutes } from './referral-routes.js';
import { createReferrals } from './referrals.js';
import { registerLapsedHoldRoutes } from './lapsed-hold-routes.js';
import { registerLoyaltyRoutes } from './routes.js';
import { AWARD_REACTOR, createLoyalty, type LoyaltyLedger } from './service.js';
import type { LoyaltyTables } from './tables.js';

export { createLoyalty, AWARD_REACTOR, type Loyalty, type AwardOutcome } from './service.js';
export { REDEMPTION_REACTOR, type RedemptionOutcome } from './redemption.js';
export { createReferrals, referralTransferId, type Referrals, type ReferralOutcome } from './referrals.js';
export { COUPON_REACTOR, type Coupons } from './coupons.js';
export { awardTransferId, expiryTransferId, pointsFor, earningBaseMinor, tierOf } from './rules.js';

const EXPIRY_QUEUE = 'loyalty-expiry';
const DAY_MS = 86_400_000;
/** How often coupon reservations of orders never placed are looked for. */
const STRANDED_COUPON_SWEEP_MS = 5 * 60_000;

/**
 * The coupon reactor and, beside it, the sweep of reservations (coupons' and tier free
 * deliveries') whose order was never appended.
 */
function couponWork(
  coupons: Coupons,
  freeDeliveries: FreeDeliveries,
  logger: { error(object: object, message: string): void },
): Reactor {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: COUPON_REACTOR,
    async start() {
      await coupons.start();
      timer = setInterval(() => {
        void coupons
          .sweepStranded()
          .catch((error: unknown) => logger.error({ err: error }, 'stranded coupon sweep failed'));
        void freeDeliveries
          .sweepStranded()
          .catch((error: unknown) => logger.error({ err: error }, 'stranded free delivery sweep failed'));
      }, STRANDED_COUPON_SWEEP_MS);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await coupons.stop();
    },
  };
}

export const loyaltyContext = defineContext({
  name: 'loyalty',
  needs: {
    ledger: need<LoyaltyLedger>(),
    // Coupons and promotions: whose restaurant it is and which dishes are on its menu (catalog), and the audit log for their changes (identity);
    // referrals: the referrer's phone (identity's users, decrypted by its repository).
    catalog: need<
      Pick<Catalog, 'menuCache' | 'useMenuPromotions'> & {
        orders: Pick<CatalogOrdersApi, 'restaurantOwnerId' | 'stockLevels' | 'liveItems'>;
      }
    >(),
    identity: need<Pick<Identity, 'audit' | 'repository'>>(),
  },
  // The campaigns' new customers: which orders were their customer's first (orders' view), asked
  // only when a campaign's figures are read. `later` keeps loyalty's place among the contexts
  // (and in the erasure order) where it was.
  // Referral abuse: each rewarded referral is reported to fraud detection (admin's), from the award
  // reactor only, so a later need too.
  later: {
    orders: need<{ repository: Pick<OrdersRepository, 'firstOrders'> }>(),
    admin: need<{ fraud: ReferralFraud }>(),
  },
  tables: tablesOf<LoyaltyTables>(),
  create(platform, { ledger, catalog, identity }, later) {
    const { runtime } = platform;
    const { config } = runtime;
    const referrals = createReferrals({
      db: platform.db,
      ledger,
      logger: runtime.logger.child({ component: 'referrals' }),
      rewards: {
        kind: config.LOYALTY_REFERRAL_REWARD,
        referrer: BigInt(config.LOYALTY_REFERRAL_REFERRER_REWARD),
        referee: BigInt(config.LOYALTY_REFERRAL_REFEREE_REWARD),
        monthlyCap: config.LOYALTY_REFERRAL_MONTHLY_CAP,
      },
      phoneOf: async (userId) => (await identity.repository.findUserById(userId))?.phone ?? null,
      devicesOf: (userId) => identity.repository.deviceHashesOf(userId),
      publicBaseUrl: config.PUBLIC_BASE_URL,
      reportCredited: (report) => later.admin().fraud.referralCredited(report),
    });
    const loyalty = createLoyalty({
      onCompleted: (input) =>
        referrals.onOrderCompleted({
          orderId: input.orderId,
          refereeId: input.userId,
          paymentPhone: input.paymentPhone,
          delivery: input.delivery,
          at: input.at,
        }),
      db: platform.db,
      eventStore: platform.eventStore,
      ledger,
      logger: runtime.logger.child({ component: 'loyalty' }),
      expiryDays: config.LOYALTY_POINTS_EXPIRY_DAYS,
      tiers: {
        silverPoints: BigInt(config.LOYALTY_SILVER_POINTS),
        goldPoints: BigInt(config.LOYALTY_GOLD_POINTS),
        multipliers: {
          bronze: config.LOYALTY_MULTIPLIER_BRONZE,
          silver: config.LOYALTY_MULTIPLIER_SILVER,
          gold: config.LOYALTY_MULTIPLIER_GOLD,
        },
      },
    });
    const freeDeliveries = createFreeDeliveries({
      db: platform.db,
      tierAt: (userId, at) => loyalty.tierAt(userId, at),
      eventStore: platform.eventStore,
      logger: runtime.logger.child({ component: 'loyalty' }),
      allowance: {
        bronze: config.LOYALTY_FREE_DELIVERIES_BRONZE,
        silver: config.LOYALTY_FREE_DELIVERIES_SILVER,
        gold: config.LOYALTY_FREE_DELIVERIES_GOLD,
      },
    });
    const redemption = createRedemption({
      db: platform.db,
      eventStore: platform.eventStore,
      ledger,
      logger: runtime.logger.child({ component: 'loyalty' }),
      freeDeliveries,
      holdTimeoutSeconds: config.LOYALTY_POINTS_HOLD_SECONDS,
    });
    const couponOptions: CouponsOptions = {
      db: platform.db,
      eventStore: platform.eventStore,
      logger: runtime.logger.child({ component: 'coupons' }),
      restaurantOwner: (restaurantId) => catalog.orders.restaurantOwnerId(restaurantId),
      audit: (entry) => identity.audit(entry),
      firstOrders: (orderIds) => later.orders().repository.firstOrders(orderIds),
    };
    const coupons = createCoupons(couponOptions);
    const promotions = createPromotions({
      ...couponOptions,
      menuItems: (restaurantId, itemIds) => catalog.orders.liveItems(restaurantId, itemIds),
      menuChanged: (restaurantId) => catalog.menuCache.invalidate(restaurantId),
    });
    // The menu shows the restaurant's promotions with their end times (rendered into its cache).
    catalog.useMenuPromotions(promotions.menuPromotions);
    // Orders' coupon hook: codes (coupons) and the automatic promotions, one discount per order.
    const couponPort = { ...coupons.port, automatic: promotions.automatic };
    return {
      service: {
        ...loyalty,
        referrals,
        points: redemption.points,
        redemption,
        freeDeliveries,
        coupons: couponPort,
        couponAdmin: coupons,
        promotions,
      },
      routes(app) {
        registerLoyaltyRoutes(app, loyalty);
        registerLapsedHoldRoutes(app, platform.db);
        registerReferralRoutes(app, referrals);
        registerCouponRoutes(app, { coupons, runtime });
        registerCouponExportRoute(app, platform.db);
        registerPromotionRoutes(app, { promotions, runtime });
      },
      personalData: {
        export: async (userId) => ({ referrals: await referrals.personalData.export(userId) }),
        erase: (userId) => referrals.personalData.erase(userId),
      },
      reactors: [
        couponWork(coupons, freeDeliveries, runtime.logger),
        { name: PROMOTION_REACTOR, start: promotions.start, stop: promotions.stop },
        { name: AWARD_REACTOR, start: loyalty.start, stop: loyalty.stop },
        { name: REDEMPTION_REACTOR, start: redemption.start, stop: redemption.stop },
      ],
      jobs: [
        {
          queue: EXPIRY_QUEUE,
          concurrency: 1,
          attempts: 3,
          async handler(data: { at: string }) {
            const counts = await loyalty.expirePoints(new Date(data.at));
            if (counts.expired > 0 || counts.failed > 0)
              runtime.logger.info(
                { expired: counts.expired, points: Number(counts.points), failed: counts.failed },
                'loyalty points expired',
              );
          },
        },
      ],
      // Daily, after midnight UTC; one run per day whatever the instances (job id per day).
      schedules: [
        {
          name: 'loyalty-points-expiry',
          cron: '20 0 * * *',
          run: async (at) => {
            const day = Math.floor(at.getTime() / DAY_MS);
            await platform.jobs.queue.enqueue(
              EXPIRY_QUEUE,
              { at: new Date(day * DAY_MS).toISOString() },
              { jobId: `loyalty-expiry-${day}` },
            );
          },
        },
      ],
    };
  },
});
