/**
 * The USSD context (issue #25, docs/ussd.md): ordering from a feature phone through a USSD
 * aggregator's callback. A pure session machine (machine.ts) with screens of at most 182
 * characters in French or English; sessions in Redis (in-process without it) that resume at the
 * same step when the customer dials again within USSD_RESUME_SECONDS; a PIN set over USSD (argon2,
 * like passwords) for numbers the network vouches for; reorder, recent restaurants and their
 * dishes by pages, quantity, address, wallet or Mobile Money, and the order through the orders
 * service with its idempotency and limits; the order number and delivery PIN by SMS.
 *
 * It needs identity (users, addresses and the address service, the hasher, audit), orders (the
 * service and the customer's list), catalog (the public menu, cities and zones) and notifications
 * (SMS). Nothing needs it.
 */
import { createHmac } from 'node:crypto';
import { defineContext, need, tablesOf } from '../../platform/context.js';
import { permissionsForRoles } from '../../shared/principal.js';
import type { Catalog } from '../catalog/index.js';
import type { Favourites } from '../community/index.js';
import type { Identity } from '../identity/index.js';
import type { Notifications } from '../notifications/index.js';
import type { OrdersContext } from '../orders/index.js';
import { africasTalking } from './aggregator.js';
import { createOrderSms, ORDER_SMS_QUEUE } from './order-sms.js';
import { createUssdRepository } from './repository.js';
import { registerTwilioSmsCommandRoute, registerUssdRoutes } from './routes.js';
import { createUssdService, type UssdService } from './service.js';
import { createMemoryUssdStore, createRedisUssdStore } from './session-store.js';
import type { UssdTables } from './tables.js';

export type { UssdService } from './service.js';
export { createOrderSms, ORDER_SMS_QUEUE, type OrderSms } from './order-sms.js';
export type { UssdAggregator, UssdRequest } from './aggregator.js';

/** Restaurants listed for a neighbourhood over USSD: 12 pages of four at most. */
const ZONE_RESTAURANTS_SCANNED = 48;
/** Callbacks one phone number may make per minute (a person types a few). */
const CALLBACKS_PER_PHONE_PER_MINUTE = 30;

export const ussdContext = defineContext({
  name: 'ussd',
  needs: {
    identity: need<Pick<Identity, 'repository' | 'hasher' | 'audit' | 'limitKey' | 'hashKey' | 'profile'>>(),
    orders: need<Pick<OrdersContext, 'orders' | 'repository'>>(),
    catalog: need<Pick<Catalog, 'menu' | 'cities' | 'search'>>(),
    notifications: need<Pick<Notifications, 'sms' | 'deliver'>>(),
  },
  // The customer's favourite restaurants, listed first (community's favourites). `later` keeps
  // USSD's place among the contexts (community needs nothing of USSD).
  later: { community: need<{ favourites: Pick<Favourites, 'list'> }>() },
  tables: tablesOf<UssdTables>(),
  create({ runtime, db, jobs }, { identity, orders, catalog, notifications }, later) {
    const { config } = runtime;
    const store =
      runtime.redis === undefined
        ? createMemoryUssdStore()
        : createRedisUssdStore(runtime.redis, config.REDIS_KEY_PREFIX);
    const repository = createUssdRepository(db);
    const orderSms = createOrderSms({
      db,
      orders: () => ({ find: (orderId) => orders.orders.find(orderId) }),
      users: { findUserById: (id) => identity.repository.findUserById(id) },
      sms: { deliver: (message) => notifications.deliver(message) },
      queue: jobs.queue,
      logger: runtime.logger,
    });
    const service: UssdService = createUssdService({
      store,
      repository,
      identity: {
        repository: {
          findUserByPhone: (phone) => identity.repository.findUserByPhone(phone),
          insertUser: (user) => identity.repository.insertUser(user),
          updateUser: (id, changes) => identity.repository.updateUser(id, changes),
          listAddresses: (userId, limit) => identity.repository.listAddresses(userId, limit),
          // The app's address service (the limit of 20 in its transaction), as the customer.
          addAddress: (userId, address) =>
            identity.profile.addAddress(
              {
                kind: 'user',
                userId,
                sessionId: 'ussd',
                roles: ['customer'],
                permissions: permissionsForRoles(['customer']),
              },
              address,
            ),
          rememberSmsOptOut: (phone) => identity.repository.rememberSmsOptOut(phone),
          forgetSmsOptOut: (phone) => identity.repository.forgetSmsOptOut(phone),
        },
        hasher: identity.hasher,
        audit: (entry) => identity.audit(entry),
        limitKey: (value) => identity.limitKey(value),
      },
      orders: () => ({
        orders: {
          place: (input, customer, metadata, options) =>
            orders.orders.place(input, customer, metadata, options),
          quote: (input, customerId) => orders.orders.quote(input, customerId),
          find: (orderId) => orders.orders.find(orderId),
        },
        repository: { list: (filter, page) => orders.repository.list(filter, page) },
      }),
      menus: { view: (restaurantId, language) => catalog.menu.view(restaurantId, language, undefined) },
      zones: {
        cities: () => catalog.cities.all(),
        zonesOf: async (cityId) =>
          (await catalog.cities.zonesOf(cityId)).map((zone) => ({
            ...zone,
            polygon: catalog.cities.outline(zone),
          })),
        termsAt: (cityId, point, at) => catalog.cities.deliveryTerms(cityId, point, at),
        // Open now and delivering to the point (search's delivery terms), nearest first.
        restaurantsAt: async (point, language) =>
          (
            await catalog.search.search(
              {
                lat: point.latitude,
                lng: point.longitude,
                openNow: true,
                // No text and a point: nearest first (search's default sort).
                limit: ZONE_RESTAURANTS_SCANNED,
              },
              language,
            )
          ).items
            .filter((item) => item.openNow && item.deliversHere !== false)
            .map((item) => ({ id: item.id, name: item.name })),
      },
      sms: notifications.sms,
      orderSms,
      favourites: () => ({
        restaurants: async (userId) =>
          (await later.community().favourites.list(userId)).restaurants.map((restaurant) => ({
            id: restaurant.id,
            name: restaurant.name,
            active: restaurant.active,
          })),
      }),
      logger: runtime.logger,
      settings: {
        idleSeconds: config.USSD_SESSION_IDLE_SECONDS,
        resumeSeconds: config.USSD_RESUME_SECONDS,
        pinMaxAttempts: config.USSD_PIN_MAX_ATTEMPTS,
        pinLockMinutes: config.USSD_PIN_LOCK_MINUTES,
        serviceCode: config.USSD_SERVICE_CODE,
        placementLimit: config.RATE_LIMIT_ENABLED
          ? {
              windowMs: config.RATE_LIMIT_PAYMENT_WINDOW_MS,
              mobileMoneyMax: config.RATE_LIMIT_PAYMENT_MAX,
              walletMax: config.RATE_LIMIT_USER_MAX,
            }
          : null,
      },
      secret: createHmac('sha256', identity.hashKey).update('ussd:pin-draft').digest(),
    });
    return {
      service: Object.assign(service, { orderSms }),
      // The order's SMS: tried at once after the placement, retried with backoff (2 s doubling,
      // about 4 minutes in all), then the sweep's every minute (order-sms.ts).
      jobs: [
        {
          queue: ORDER_SMS_QUEUE,
          handler: (data: { orderId: string }) => orderSms.job(data),
          attempts: 8,
          backoffMs: 2_000,
        },
      ],
      // The record of each USSD order's SMS serves the sweep and support for a while (docs/ussd.md).
      retention: [
        {
          kind: 'ussd.order_sms',
          description: "USSD orders' SMS records once sent or given up (order id, language, attempts)",
          defaultDays: 30,
          minimumDays: 2,
          purge: (before, limit) => orderSms.purgeSettled(before, limit),
        },
      ],
      schedules: [
        {
          name: 'ussd-order-sms-sweep',
          cron: '* * * * *',
          run: async (at: Date) => {
            await orderSms.sweep(at);
          },
        },
      ],
      routes(app) {
        // Twilio signs its webhooks with the auth token: the commands route needs nothing more.
        if (config.TWILIO_AUTH_TOKEN !== undefined)
          registerTwilioSmsCommandRoute(app, service, {
            twilioAuthToken: config.TWILIO_AUTH_TOKEN,
            publicBaseUrl: config.PUBLIC_BASE_URL,
            perPhonePerMinute: CALLBACKS_PER_PHONE_PER_MINUTE,
          });
        // Production needs the aggregator's secret; elsewhere the simulator may call it without.
        if (config.isProduction && config.USSD_CALLBACK_SECRET === undefined) return;
        registerUssdRoutes(app, service, africasTalking, {
          secret: config.USSD_CALLBACK_SECRET,
          allowedIps: config.USSD_ALLOWED_IPS?.split(','),
          perPhonePerMinute: CALLBACKS_PER_PHONE_PER_MINUTE,
        });
      },
      personalData: {
        async export(subjectId) {
          const subscriber = await repository.find(subjectId);
          return subscriber === undefined
            ? null
            : { ussd: { pinSet: true, language: subscriber.language, lockedUntil: subscriber.locked_until } };
        },
        async erase(subjectId, contacts) {
          const erased = await repository.erase(subjectId);
          const smsRows = await orderSms.erase(subjectId);
          if (contacts.phone !== null) await store.delete(service.sessionKey(contacts.phone));
          return { ussdSubscribers: erased, ussdOrderSms: smsRows };
        },
      },
    };
  },
});
