/**
 * The dispatch context (issue #20, first slice): drivers' shifts (online / offline), their live
 * positions (validated, indexed, kept as a trail while an order is carried, told to the order's
 * customer and restaurant), and the routing port. docs/dispatch.md describes it and what is left.
 *
 * Public API for other contexts (by declaring `dispatch` in their needs):
 *   positions.lastPosition(driverId)     orders' DriverPositionPort (public tracking at PICKED_UP)
 *   index.nearby(center, radiusKm, n)    online drivers with a fresh position, nearest first
 *   routing.travel(from, to, vehicle)    distance and duration by road (the routing port)
 */
import { defineContext, need, tablesOf } from '../../platform/context.js';
import type { FilesService } from '../files/index.js';
import { DEMO_USERS, type Identity } from '../identity/index.js';
import type { CatalogOrdersApi } from '../catalog/index.js';
import type { CarriedOrder, DriverOrdersLookup, OrdersService, ZoneDeliveryLookup } from '../orders/index.js';
import type { DriverRatings } from './matching.js';
import type { DispatchOrders } from './offers.js';
import { registerOfferRoutes } from './offers-routes.js';
import { createMatching, withOffersPersonalData } from './offers-wiring.js';
import { createDeliveryProof } from './delivery-proof.js';
import { createGeofences } from './geofences.js';
import type { OffersTables } from './offers-tables.js';
import { ownTables } from '../../db/own-tables.js';
import { createPerformance, type DriverComplaintsPort, type DriverRatingPort } from './performance.js';
import { createEarningsRepository } from './earnings-repository.js';
import { createEarnings, type IncentiveLedger } from './earnings.js';
import { enqueueUnsettledDays, incentivesJob, incentivesSchedule } from './earnings-schedule.js';
import { createDailyRuns, latestDueDay } from './daily-runs.js';
import { createSpeedAlerts } from './speed-alerts.js';
import { createOnboardingRepository } from './onboarding-repository.js';
import { createOnboarding } from './onboarding.js';
import { doualaDay } from './onboarding-rules.js';
import { registerDriverRoutes } from './onboarding-routes.js';
import { createSafety } from './safety.js';
import type { PositionFix } from './fix-rules.js';
import { pushOffers } from './offer-push.js';
import type {
  DispatchAlertNotifier,
  DriverArrivalNotifier,
  DriverOfferNotifier,
  DriverReminderNotifier,
} from '../notify/index.js';
import { createMaintenance } from './maintenance.js';
import { createFeeReversals } from './fee-reversals.js';
import { registerFeeReversalRoutes } from './fee-reversal-routes.js';
import { createMaintenanceRepository } from './maintenance-repository.js';
import { registerMaintenanceRoutes } from './maintenance-routes.js';
import {
  createMemoryLocationIndex,
  createRedisLocationIndex,
  type DriverLocationIndex,
} from './location-index.js';
import { createDispatchMetrics, registerDriverAvailabilityMetrics } from './metrics.js';
import { driverLocationInbound, offerAnswerInbound } from './inbound.js';
import { dispatchPersonalData } from './personal-data.js';
import { createDispatchRepository } from './repository.js';
import { routingFromConfig } from './routing.js';
import { registerDispatchRoutes } from './routes.js';
import { createDispatchService, fixPolicyFromConfig } from './service.js';
import type { DispatchTables } from './tables.js';
import { createMemoryThrottle, createRedisThrottle } from './throttle.js';
import type { DriverMovementFraud } from '../admin/index.js';

export type { DispatchService, AvailabilityView, FixReceipt } from './service.js';
export type { DriverLocationIndex, IndexedDriver } from './location-index.js';
export { createMemoryLocationIndex, createRedisLocationIndex } from './location-index.js';
export type { RoutingPort, Travel } from './routing.js';
export { createHaversineRouting } from './routing.js';
export { createYandexRouting } from './yandex-routing.js';
export type { GeoPoint } from './geo.js';
export type { Vehicle } from './fix-rules.js';
export type { Onboarding, ApplicationView } from './onboarding.js';
export type { Earnings } from './earnings.js';
export type { Safety } from './safety.js';
export type { Performance } from './performance.js';
export type { DeliveryProof } from './delivery-proof.js';
export { SAFETY_STREAM_PREFIX } from './safety.js';
export { DOCUMENTS_STREAM_PREFIX } from './onboarding.js';
export type { OffersService, OfferListener } from './offers.js';
export type { EtaService } from './eta.js';

/** The reminder round's time, minutes after midnight in Douala (cron `0 6 * * *`). */
const REMINDER_DUE_MINUTE = 6 * 60;

export const dispatchContext = defineContext({
  name: 'dispatch',
  needs: {
    orders: need<{
      driverOrders: DriverOrdersLookup;
      orders: Pick<OrdersService, 'execute'> & DispatchOrders;
      // Delivery times and drivers per zone (issue #26), as `zoneDeliveryMinutes` on the service.
      zoneDeliveries: ZoneDeliveryLookup;
    }>(),
    identity: need<Pick<Identity, 'audit' | 'grantRole' | 'repository'>>(),
    files: need<Pick<FilesService, 'repository'>>(),
    ledger: need<IncentiveLedger>(),
    // Impossible-speed flags become fraud signals (issue #23).
    admin: need<{ fraud: DriverMovementFraud }>(),
    notify: need<
      DriverOfferNotifier & DriverArrivalNotifier & DriverReminderNotifier & DispatchAlertNotifier
    >(),
    catalog: need<{
      reviews: DriverRatingPort & DriverRatings;
      orders: Pick<CatalogOrdersApi, 'readOrderSnapshot' | 'deliveryTerms'>;
    }>(),
  },
  // Support needs nothing of dispatch; dispatch asks it, when a driver's performance is read, how
  // many of the driver's deliveries the customers complained about.
  later: { support: need<{ complaints: DriverComplaintsPort }>() },
  tables: tablesOf<DispatchTables>(),
  create(platform, { orders, identity, files, ledger, notify, catalog, admin }, later) {
    const { runtime } = platform;
    const { config } = runtime;
    const staleMs = config.DISPATCH_LOCATION_STALE_SECONDS * 1000;
    const redis = config.REDIS_URL === undefined ? undefined : runtime.redis;
    const index: DriverLocationIndex =
      redis === undefined
        ? createMemoryLocationIndex({ staleMs })
        : createRedisLocationIndex({ redis, prefix: config.REDIS_KEY_PREFIX, staleMs });
    const throttle =
      redis === undefined ? createMemoryThrottle() : createRedisThrottle(redis, config.REDIS_KEY_PREFIX);
    const metrics = createDispatchMetrics();
    const repository = createDispatchRepository(platform.db);
    const onboarding = createOnboarding({
      repository: createOnboardingRepository(platform.db),
      files: () => files.repository,
      identity,
    });
    const maintenance = createMaintenance({
      repository: createMaintenanceRepository(platform.db),
      application: (driverId) => onboarding.repository.find(driverId),
      identity,
    });
    const dailyRuns = createDailyRuns(platform.db);
    /**
     * The daily round: document reminders and expired drivers off shift, then maintenance
     * reminders, over `days` (by default today and every day a missed round skipped); each day
     * is recorded once both parts went through (daily-runs.ts).
     */
    const documentsRound = async (given?: readonly string[]) => {
      const today = doualaDay(Date.now());
      const days = given ?? [...new Set([...(await dailyRuns.daysToRun('reminders', today)), today])].sort();
      const documents = await onboarding.dailyRound(
        platform.eventStore,
        (driverId) => service.setAvailability(driverId, { online: false }),
        (reminder) => notify.driverReminder(reminder),
        days,
      );
      const vehicles = await maintenance.dailyRound((reminder) => notify.driverReminder(reminder), days);
      for (const day of days) await dailyRuns.complete('reminders', day);
      return { days, documents, maintenance: vehicles };
    };
    /**
     * The hourly catch-up (and an instance's first hour after a start): the reminder round of
     * every day due and not completed (from 06:00 Douala), and every unsettled past day's
     * incentives (from 01:30). Nothing to do: two reads.
     */
    const catchUp = async (at: Date) => {
      const reminderDays = await dailyRuns.daysToRun('reminders', latestDueDay(at, REMINDER_DUE_MINUTE));
      const reminders = reminderDays.length === 0 ? undefined : await documentsRound(reminderDays);
      const incentiveDays = await enqueueUnsettledDays(platform.jobs.queue, dailyRuns, at);
      return { reminders, incentiveDays };
    };
    const service = createDispatchService({
      repository,
      index,
      routing: routingFromConfig(config, (reason) => {
        metrics.routingFallbacks.inc();
        runtime.logger.warn({ reason }, 'routing API failed: the haversine estimate answered');
      }),
      bus: platform.realtime.bus,
      driverOrders: () => orders.driverOrders,
      throttle,
      metrics,
      logger: runtime.logger,
      policy: fixPolicyFromConfig(config),
      fanoutIntervalMs: config.DISPATCH_FANOUT_INTERVAL_MS,
      trailMaxPoints: config.DISPATCH_TRAIL_MAX_POINTS,
      shiftGate: (driverId, declared) => onboarding.shiftGate(driverId, declared),
      onFlagged: (flag) => admin.fraud.driverMovementFlagged(flag),
      onAcceptedFix: (driverId, fix, carried, usable) => {
        void matching.eta.positionChanged(driverId, fix, carried);
        // A fix too coarse to decide on marks no arrival and raises no speed alert.
        if (usable) void geofences.positionChanged(driverId, fix, carried);
        if (usable) void speedChecks(driverId, fix, carried);
      },
    });
    // Matching, offers and ETAs (offers-wiring.ts).
    const matching = createMatching({
      config,
      db: platform.db,
      eventStore: platform.eventStore,
      bus: platform.realtime.bus,
      logger: runtime.logger,
      index,
      routing: service.routing,
      throttle,
      dispatchRepository: repository,
      orders: () => ({ ...orders.orders, driverOrders: orders.driverOrders }),
      catalog: () => catalog,
      audit: (entry) => identity.audit(entry),
      eligibleAmong: (driverIds) => onboarding.eligibleAmong(driverIds),
      etaMoved: (moved) => notify.orderEta(moved),
    });
    const geofences = createGeofences({
      db: ownTables<Pick<OffersTables, 'dispatch_geofence_arrivals'>, DispatchTables>(platform.db),
      bus: platform.realtime.bus,
      logger: runtime.logger,
      radii: {
        restaurantMeters: config.DISPATCH_GEOFENCE_RESTAURANT_METERS,
        customerMeters: config.DISPATCH_GEOFENCE_CUSTOMER_METERS,
      },
      places: (orderId) => matching.offers.orderPlaces(orderId),
      push: (arrival) => notify.driverArrival(arrival),
    });
    pushOffers({ offers: matching.offers, orders: () => orders.orders, notify, logger: runtime.logger });
    const earningsRepository = createEarningsRepository(platform.db);
    const speedAlerts = createSpeedAlerts(platform.db);
    const earnings = createEarnings({
      repository: earningsRepository,
      ledger: () => ledger,
      identity,
    });
    /** Speed alerts pushed while driving: each carried order in PICKED_UP, against its trail. */
    const speedChecks = async (driverId: string, fix: PositionFix, carried: readonly CarriedOrder[]) => {
      const pickedUp = carried.filter((order) => order.status === 'PICKED_UP');
      if (pickedUp.length === 0) return;
      try {
        const { vehicle } = await service.availability(driverId);
        for (const order of pickedUp)
          await safety.speedCheck(driverId, vehicle, order.orderId, {
            latitude: fix.latitude,
            longitude: fix.longitude,
            recordedAt: new Date(fix.recordedAt),
          });
      } catch (error) {
        runtime.logger.warn({ err: error, driverId }, 'a speed check failed; the fix stands');
      }
    };
    const feeReversals = createFeeReversals({
      ledger: () => ledger,
      orders: () => orders.orders,
      earnings: earningsRepository,
      identity,
    });
    const safety = createSafety({
      db: platform.db,
      bus: platform.realtime.bus,
      eventStore: platform.eventStore,
      files: () => files.repository,
      identity,
      thresholds: {
        motorbike: config.DISPATCH_SPEED_ALERT_KMH_MOTORBIKE,
        car: config.DISPATCH_SPEED_ALERT_KMH_CAR,
        bicycle: config.DISPATCH_SPEED_ALERT_KMH_BICYCLE,
      },
      lastPosition: (driverId) => service.positions.lastPosition(driverId),
      emergencyNotice: (alert) => notify.driverEmergency(alert),
      throttle,
      stored: speedAlerts,
      speedWarning: (warning) => notify.driverSpeedWarning(warning),
    });
    const deliveryProof = createDeliveryProof({
      db: platform.db,
      files: () => files.repository,
      orders: () => orders.orders,
      policy: fixPolicyFromConfig(config),
      photoRequired: config.DISPATCH_DELIVERY_PHOTO_REQUIRED,
    });
    const performance = createPerformance({
      db: platform.db,
      earnings: earningsRepository,
      speedAlerts,
      ratings: () => catalog.reviews,
      complaints: () => later.support().complaints,
      deliveredOrders: (driverId, from, to, limit) =>
        orders.driverOrders.deliveredBy(driverId, from, to, limit),
      offers: matching.repository,
      onTimeGraceMinutes: config.DISPATCH_ON_TIME_GRACE_MINUTES,
    });
    return {
      service: {
        ...service,
        onboarding,
        maintenance,
        documentsRound,
        feeReversals,
        earnings,
        safety,
        deliveryProof,
        performance,
        offers: matching.offers,
        eta: matching.eta,
        geofences,
        speedAlerts,
        catchUp,
        incentivesSchedule: incentivesSchedule(platform.jobs.queue, dailyRuns),
        /** A zone's delivered orders of the last days: median and mean minutes, drivers (orders' projection). */
        zoneDeliveryMinutes: (cityId: string, zoneId: string, days?: number) =>
          orders.zoneDeliveries.zoneDeliveryMinutes(cityId, zoneId, days),
      },
      routes(app) {
        for (const metric of metrics.all) app.metricsRegistry.registerMetric(metric);
        registerDriverAvailabilityMetrics(app.metricsRegistry, runtime.database.db);
        registerDispatchRoutes(app, service);
        registerDriverRoutes(app, {
          dispatch: service,
          onboarding,
          earnings,
          safety,
          deliveryProof,
          performance,
          runtime,
        });
        registerMaintenanceRoutes(app, maintenance);
        registerFeeReversalRoutes(app, feeReversals, runtime.database.db);
        registerOfferRoutes(app, { offers: matching.offers, eta: matching.eta, db: runtime.database.db });
      },
      reactors: matching.reactors,
      inbound: [driverLocationInbound(service), ...offerAnswerInbound(matching.offers)],
      personalData: withOffersPersonalData(
        dispatchPersonalData(repository, index, {
          onboarding: onboarding.repository,
          safety,
          deliveryProof,
          maintenance: maintenance.repository,
          speedAlerts,
        }),
        matching.repository,
      ),
      // Daily at 06:00 Douala: expiry and maintenance reminders (notify) and expired drivers off shift.
      jobs: [incentivesJob(earnings, runtime.logger, dailyRuns)],
      schedules: [
        // Nightly at 01:30 Douala: yesterday's incentives (one instance by job id; idempotent by period).
        incentivesSchedule(platform.jobs.queue, dailyRuns),
        {
          name: 'dispatch-documents-daily',
          cron: '0 6 * * *',
          run: async () => {
            runtime.logger.info(await documentsRound(), 'dispatch: document expiry and maintenance round');
          },
        },
        {
          // Hourly: a reminder round or a settlement every instance missed (all down at the hour).
          name: 'dispatch-daily-catch-up',
          cron: '20 * * * *',
          run: async (at) => {
            const done = await catchUp(at);
            if (done.reminders !== undefined || done.incentiveDays.length > 0)
              runtime.logger.info(
                { reminderDays: done.reminders?.days ?? [], incentiveDays: done.incentiveDays },
                'dispatch: missed daily runs caught up',
              );
          },
        },
        {
          // Nightly: geofence arrivals older than the retention are forgotten (any instance; idempotent).
          name: 'dispatch-geofence-cleanup',
          cron: '10 3 * * *',
          run: async (at) => {
            const before = new Date(at.getTime() - config.DISPATCH_GEOFENCE_RETENTION_DAYS * 86_400_000);
            const deleted = await geofences.purge(before);
            runtime.logger.info({ deleted }, 'dispatch: old geofence arrivals forgotten');
          },
        },
      ],
      seed: {
        // The demo driver may go on shift: an approved application (no documents: a fixture).
        async run() {
          const demo = DEMO_USERS.find((user) => user.role === 'driver');
          const user = demo === undefined ? undefined : await identity.repository.findUserByPhone(demo.phone);
          if (user === undefined) return [];
          if ((await onboarding.repository.find(user.id))?.status === 'approved') return [];
          await onboarding.seedApproved(user.id);
          return [`dispatch: the demo driver ${demo!.phone} is approved to drive`];
        },
      },
    };
  },
});
