/**
 * The admin context (issue #23, docs/admin.md): the platform's run-time configuration and bulk
 * operations for admins. Feature flags (per role, a percentage of users by stable hashing, per
 * city) with an evaluation API other contexts may use (`featureFlags.isEnabled`); maintenance mode
 * (read-only for non-staff with a message; staff, sign-in and providers' webhooks go on) applied by
 * a hook over every route, the same on every instance within ADMIN_SETTINGS_CACHE_MS; and bulk
 * user actions (suspend, reinstate, log out) with a dry run and a result per user; fraud detection
 * over failed payments (a checkpointed reactor, cases for review, alerts on /ws/admin). Every change
 * is in identity's audit log.
 *
 * It needs identity's `admin` (suspension ends every session and revokes every token at once),
 * `repository` (user lookups) and `audit`.
 */
import { defineContext, need, tablesOf } from '../../platform/context.js';
import { fieldCipherOf } from '../../platform/field-crypto.js';
import { createFraudDetection } from './fraud.js';
import { createFraudSummaries, FRAUD_SUMMARY_QUEUE } from './fraud-summaries.js';
import { registerFraudSummaryRoutes } from './fraud-summary-routes.js';
import { createGemini } from '../../platform/gemini/index.js';
import type { Identity } from '../identity/index.js';
import type { AdminIdentityPort } from './ports.js';
import { maintenanceHook, registerAdminRoutes } from './routes.js';
import { createAdminService, type AdminService } from './service.js';
import { createRetention, fraudSignalsRetention, RETENTION_QUEUE } from './retention.js';
import { createLiveDashboard, LIVE_QUEUE } from './live.js';
import { createWithdrawalHolds } from './withdrawal-holds.js';
import type { CatalogCommunityApi, CatalogOrdersApi, City } from '../catalog/index.js';
import { analyticsProjection, createAnalytics } from './analytics.js';
import { createInsights, insightsProjection } from './insights.js';
import { createPartnerships } from './partnerships.js';
import { createPromoSlots } from './promo-slots.js';
import {
  createNewsletters,
  NEWSLETTER_QUEUE,
  unsubscribeTokens,
  type NewsletterNotifier,
} from './newsletters.js';

import type { AdminTables } from './tables.js';

export type { AdminService, FeatureFlags } from './service.js';
export type { FraudDetection, FraudCaseView } from './fraud.js';
import type { FraudDetection } from './fraud.js';
/** What dispatch reports of its impossible-speed flags (a declared need of dispatch's). */
export type DriverMovementFraud = Pick<FraudDetection, 'driverMovementFlagged'>;
/** What loyalty reports of the referrals it rewards (a declared need of loyalty's). */
export type ReferralFraud = Pick<FraudDetection, 'referralCredited'>;
export type { ReferralCredited } from './fraud.js';
export type { NewsletterMessage, NewsletterNotifier, Newsletters } from './newsletters.js';
export type { WithdrawalHolds, WithdrawalHoldView, Payee } from './withdrawal-holds.js';
export { FRAUD_RULES, type FraudRule } from './fraud-rules.js';
import type { LongThreshold } from './fraud-rules.js';
export type { AdminIdentityPort } from './ports.js';
export { evaluateFlag, bucketOf, type FeatureFlag, type FlagSubject } from './rules.js';

/** When the live dashboard raises an alert on `system-alerts` (docs/admin.md "Live dashboard"). */
const LIVE_ALERT_THRESHOLDS = {
  projectionLagSeconds: 60,
  payoutOldestHours: 48,
  paymentSuccessRateMin: 0.7,
  errorRateMax: 0.05,
};

export const adminContext = defineContext({
  name: 'admin',
  needs: {
    identity: need<Pick<Identity, 'admin' | 'audit' | 'repository' | 'onDeviceSession'>>(),
    // Whether a restaurant exists, before an admin holds its payouts.
    // The city boxes the analytics group orders by.
    catalog: need<{
      orders: Pick<CatalogOrdersApi, 'restaurantOwnerId'>;
      cities: { all(): Promise<City[]> };
      // Promotional slots: whether a restaurant is active and in the slot's city; the feed's cards.
      community: Pick<CatalogCommunityApi, 'restaurantCards'>;
    }>(),
  },
  // Newsletters send through notify, which is built after payments (which needs admin): a later
  // need, read when the sending job runs.
  later: { notify: need<NewsletterNotifier>() },
  projections: [analyticsProjection, insightsProjection],
  tables: tablesOf<AdminTables>(),
  create(
    { runtime, db, eventStore, realtime, jobs, retention: retentionKinds },
    { identity, catalog },
    later,
  ) {
    const { config } = runtime;
    const port: AdminIdentityPort = {
      async findUser(userId) {
        const user = await identity.repository.findUserById(userId);
        return user === undefined ? undefined : { id: user.id, status: user.status, roles: user.roles };
      },
      suspend: (userId, reason, actor) => identity.admin.suspend(userId, reason, actor),
      reinstate: (userId, actor) => identity.admin.reactivate(userId, actor),
      logout: (userId, actor) => identity.admin.forceLogout(userId, actor),
      audit: identity.audit,
    };
    const admin: AdminService = createAdminService({
      db,
      identity: port,
      settingsCacheMs: config.ADMIN_SETTINGS_CACHE_MS,
      logger: runtime.logger,
    });
    const cipher = fieldCipherOf(config);
    const window = config.FRAUD_VELOCITY_WINDOW_MINUTES;
    const fraud = createFraudDetection({
      db,
      eventStore,
      bus: realtime.bus,
      audit: identity.audit,
      thresholds: {
        failed_payments_per_phone: { count: config.FRAUD_FAILED_PAYMENTS_PER_PHONE, windowMinutes: window },
        failed_payments_per_account: {
          count: config.FRAUD_FAILED_PAYMENTS_PER_ACCOUNT,
          windowMinutes: window,
        },
        topups_per_account: { count: config.FRAUD_TOPUPS_PER_ACCOUNT, windowMinutes: window },
        orders_per_account: { count: config.FRAUD_ORDERS_PER_ACCOUNT, windowMinutes: window },
        accounts_per_phone: { count: config.FRAUD_ACCOUNTS_PER_PHONE, windowMinutes: window },
        cancels_per_account: { count: config.FRAUD_CANCELS_PER_ACCOUNT, windowMinutes: window },
        dispute_rate: {
          minCount: config.FRAUD_RATE_MIN_COUNT,
          rate: config.FRAUD_DISPUTE_RATE_PERCENT / 100,
          windowDays: config.FRAUD_RATE_WINDOW_DAYS,
        },
        refund_rate: {
          minCount: config.FRAUD_RATE_MIN_COUNT,
          rate: config.FRAUD_REFUND_RATE_PERCENT / 100,
          windowDays: config.FRAUD_RATE_WINDOW_DAYS,
        },
        coupon_accounts_per_phone: {
          count: config.FRAUD_COUPON_ACCOUNTS_PER_PHONE,
          windowDays: config.FRAUD_RATE_WINDOW_DAYS,
        },
        coupon_accounts_per_address: {
          count: config.FRAUD_COUPON_ACCOUNTS_PER_ADDRESS,
          windowDays: config.FRAUD_RATE_WINDOW_DAYS,
        },
        impossible_movement: { count: config.FRAUD_IMPOSSIBLE_MOVES_PER_DRIVER, windowMinutes: window },
        driver_customer_collusion: {
          count: config.FRAUD_COLLUSION_COUNT,
          windowDays: config.FRAUD_RATE_WINDOW_DAYS,
        },
        ...(Object.fromEntries(
          (['referrals_per_device', 'referrals_per_phone', 'referrals_per_address'] as const).map((rule) => [
            rule,
            { count: config.FRAUD_REFERRALS_PER_SOURCE, windowDays: config.FRAUD_REFERRAL_WINDOW_DAYS },
          ]),
        ) as Record<'referrals_per_device' | 'referrals_per_phone' | 'referrals_per_address', LongThreshold>),
        accounts_per_device: {
          count: config.FRAUD_ACCOUNTS_PER_DEVICE,
          windowDays: config.FRAUD_RATE_WINDOW_DAYS,
        },
        orders_per_device: {
          count: config.FRAUD_ORDERS_PER_DEVICE,
          windowMinutes: config.FRAUD_ORDERS_PER_DEVICE_WINDOW_MINUTES,
        },
      },
      holdScore: config.FRAUD_PAYOUT_HOLD_SCORE,
      // Orders per device: the devices a customer signed in on (identity's keyed hashes).
      devicesOf: (userId, limit) => identity.repository.deviceHashesOf(userId, limit),
      phoneIndex: (phone) => cipher.blindIndex('fraud-phone', phone),
      subjectIndex: (kind, value) => cipher.blindIndex(`fraud-${kind}`, value),
      logger: runtime.logger,
    });
    const fraudSummaries = createFraudSummaries({
      db,
      model: createGemini({ config, db: runtime.database.db }).model('fraud_summaries'),
      audit: identity.audit,
      bus: realtime.bus,
      logger: runtime.logger,
    });
    const withdrawalHolds = createWithdrawalHolds({
      db,
      audit: identity.audit,
      bus: realtime.bus,
      logger: runtime.logger,
      async payeeExists(kind, payeeId) {
        if (kind === 'restaurant') return (await catalog.orders.restaurantOwnerId(payeeId)) !== undefined;
        const user = await identity.repository.findUserById(payeeId);
        return user !== undefined && (kind === 'customer' || user.roles.includes('driver'));
      },
      fraudHeld: (personId) => fraud.payoutHolds.isHeld(personId),
    });
    const insights = createInsights({ db });
    const analytics = createAnalytics({
      db,
      cities: async () =>
        (await catalog.cities.all()).map((city) => ({
          id: city.id,
          name: city.name.en,
          bounds: city.bounds,
        })),
    });
    // Many accounts per device: every session started on a device the apps named.
    identity.onDeviceSession((session) => fraud.deviceSignedIn(session));
    const partnerships = createPartnerships({ db, audit: identity.audit, fields: cipher });
    const promoSlots = createPromoSlots({
      db,
      audit: identity.audit,
      restaurantCards: (ids) => catalog.community.restaurantCards(ids),
      cityExists: async (cityId) => (await catalog.cities.all()).some((city) => city.id === cityId),
    });
    const newsletters = createNewsletters({
      db,
      audit: identity.audit,
      audience: {
        page: (query, afterId, limit) =>
          identity.repository.marketingAudience({
            ...query,
            ...(afterId === undefined ? {} : { afterId }),
            limit,
          }),
        count: (query) => identity.repository.countMarketingAudience(query),
        unsubscribe: (userId) => identity.repository.unsubscribeMarketing(userId),
      },
      send: (messages) => later.notify().newsletter(messages),
      tokens: unsubscribeTokens((userId) => cipher.blindIndex('newsletter-unsubscribe', userId)),
      publicBaseUrl: config.PUBLIC_BASE_URL,
      batchSize: config.NEWSLETTER_BATCH_SIZE,
      logger: runtime.logger.child({ component: 'newsletters' }),
    });
    // The kinds are every context's (filled once all are built); read when the policy is used.
    const retention = createRetention({
      db,
      kinds: retentionKinds,
      audit: identity.audit,
      logger: runtime.logger,
    });
    const liveSeconds = config.ADMIN_LIVE_INTERVAL_SECONDS;
    const live = createLiveDashboard({
      db,
      bus: realtime.bus,
      thresholds: LIVE_ALERT_THRESHOLDS,
      logger: runtime.logger,
    });
    return {
      service: {
        ...admin,
        fraud,
        fraudSummaries,
        retention,
        live,
        withdrawalHolds,
        analytics,
        insights,
        partnerships,
        promoSlots,
        newsletters,
      },
      async httpHooks(app) {
        await app.register(maintenanceHook, { admin });
      },
      routes(app) {
        live.attach(app.metricsRegistry);
        registerFraudSummaryRoutes(app, fraudSummaries);
        registerAdminRoutes(app, {
          admin,
          fraud,
          retention,
          live,
          withdrawalHolds,
          analytics,
          insights,
          partnerships,
          promoSlots,
          newsletters,
          audit: identity.audit,
          runtime,
        });
      },
      reactors: [fraud.reactor],
      personalData: fraud.personalData,
      // Signals serve the longest window that counts them (the rate rules' days, the velocity minutes).
      retention: [
        fraudSignalsRetention(
          db,
          Math.max(
            window,
            config.FRAUD_ORDERS_PER_DEVICE_WINDOW_MINUTES,
            Math.max(config.FRAUD_RATE_WINDOW_DAYS, config.FRAUD_REFERRAL_WINDOW_DAYS) * 1_440,
          ),
        ),
      ],
      jobs: [
        {
          // The week's summary: once per week (a row per week); a failed run is retried, and the
          // model's failure is not one (the template answers).
          queue: FRAUD_SUMMARY_QUEUE,
          concurrency: 1,
          attempts: 5,
          backoffMs: 60_000,
          handler: async (data: { at: string }) => void (await fraudSummaries.run(new Date(data.at))),
        },
        {
          queue: RETENTION_QUEUE,
          concurrency: 1,
          attempts: 3,
          backoffMs: 60_000,
          handler: async (data: { at: string }) => void (await retention.apply(new Date(data.at))),
        },
        {
          // Sends due newsletters; a run that fails is retried, and the next minute's goes on
          // from each campaign's place anyway.
          queue: NEWSLETTER_QUEUE,
          concurrency: 1,
          attempts: 3,
          backoffMs: 10_000,
          handler: async (data: { at: string }) => void (await newsletters.runDue(new Date(data.at))),
        },
        {
          // A missed tick is not retried: the next one is 10 s away.
          queue: LIVE_QUEUE,
          concurrency: 1,
          attempts: 1,
          handler: async (data: { at: string }) => {
            if (live.attached()) await live.tick(new Date(data.at));
          },
        },
      ],
      // Retention nightly (01:40 Douala time), one run per day whatever the instances (job id per day).
      schedules: [
        // The weekly fraud summary, Mondays 06:30 Douala time, of the week that just ended: one
        // run per week whatever the instances (job id per week, and one row per week).
        {
          name: 'admin-fraud-summary-weekly',
          cron: '30 6 * * 1',
          run: async (at) => {
            const week = Math.floor(at.getTime() / (7 * 86_400_000));
            await jobs.queue.enqueue(
              FRAUD_SUMMARY_QUEUE,
              { at: at.toISOString() },
              { jobId: `admin-fraud-summary-${week}` },
            );
          },
        },
        {
          name: 'admin-retention-nightly',
          cron: '40 1 * * *',
          run: async (at) => {
            const day = Math.floor(at.getTime() / 86_400_000);
            await jobs.queue.enqueue(
              RETENTION_QUEUE,
              { at: at.toISOString() },
              { jobId: `admin-retention-${day}` },
            );
          },
        },
        // Newsletters every minute, one run per minute whatever the instances (job id per minute).
        {
          name: 'admin-newsletters',
          cron: '* * * * *',
          run: async (at) => {
            const minute = Math.floor(at.getTime() / 60_000);
            await jobs.queue.enqueue(
              NEWSLETTER_QUEUE,
              { at: new Date(minute * 60_000).toISOString() },
              { jobId: `admin-newsletters-${minute}` },
            );
          },
        },
        // The live dashboard every ADMIN_LIVE_INTERVAL_SECONDS; one tick per slot whatever the
        // instances (job id per slot).
        ...(liveSeconds === 0
          ? []
          : [
              {
                name: 'admin-live-dashboard',
                cron: `*/${liveSeconds} * * * * *`,
                run: async (at: Date) => {
                  const slot = Math.floor(at.getTime() / (liveSeconds * 1_000));
                  await jobs.queue.enqueue(
                    LIVE_QUEUE,
                    { at: new Date(slot * liveSeconds * 1_000).toISOString() },
                    { jobId: `admin-live-${slot}` },
                  );
                },
              },
            ]),
      ],
    };
  },
});
