/**
 * The USSD service (docs/ussd.md): one aggregator callback in, one screen out. It keeps the
 * session between callbacks (session-store.ts), feeds the inputs it has not seen yet to the pure
 * machine (machine.ts), performs the action each step asks (lists, reorder, quote, PIN, order),
 * and stores the screen it answered, so a retried callback gets the same screen and does nothing
 * twice. Orders go through the orders service like the app's, named after the session (the
 * order id is derived from it: a retried or concurrent callback places the same order once).
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DomainError } from '../../shared/errors.js';
import { detectOperator } from '../../shared/phone.js';
import type { UssdRequest } from './aggregator.js';
import { ussdErrors } from './errors.js';
import { smsCommandOf, smsPreferencesAfter, type SmsCommand as SmsCommandName } from './sms-commands.js';
import type { NotificationPreferences } from '../identity/index.js';
import {
  addressed,
  advance,
  browseByZone,
  listed,
  PAGE_SIZE,
  render,
  start,
  type Action,
  type AddressChoice,
  type Choice,
  type Screen,
  type Session,
  zoneAddressed,
} from './machine.js';
import type { OrderSms } from './order-sms.js';
import type { UssdRepository } from './repository.js';
import { zoneAddress, zoneCentre, zoneReachM, type ZoneAddressInput } from './zone-address.js';
import type { UssdStore } from './session-store.js';
import { money, orderNumber, say, type Language, type TextKey } from './texts.js';

/** What the USSD context uses of identity (declared in index.ts). */
export interface UssdIdentity {
  repository: {
    findUserByPhone(phone: string): Promise<UssdUser | undefined>;
    insertUser(user: {
      phone: string;
      roles: 'customer'[];
      status: 'active';
      phoneVerified: boolean;
      locale: Language;
    }): Promise<UssdUser>;
    updateUser(
      id: string,
      changes: {
        status?: 'active';
        phone_verified?: boolean;
        roles?: string[];
        locale?: string;
        notification_preferences?: NotificationPreferences;
      },
    ): Promise<unknown>;
    listAddresses(userId: string, limit: number): Promise<UssdAddress[]>;
    /**
     * identity's address API (`POST /v1/me/addresses`'s service: at most 20, `too_many_addresses`
     * beyond) for the customer `userId`.
     */
    addAddress(userId: string, address: ZoneAddressInput): Promise<UssdAddress>;
    /** A `STOP` from a number without an account, applied when one is created for it. */
    rememberSmsOptOut(phone: string): Promise<boolean>;
    forgetSmsOptOut(phone: string): Promise<boolean>;
  };
  hasher: { hash(secret: string): Promise<string>; verify(hash: string, secret: string): Promise<boolean> };
  audit(entry: {
    action: string;
    actor: { kind: 'user' | 'system'; userId?: string | null; requestId?: string | null };
    subjectUserId?: string | null;
    resource?: string | null;
    oldValue?: unknown;
    newValue?: unknown;
  }): Promise<unknown>;
  limitKey(value: string): string;
}

export interface UssdUser {
  id: string;
  status: string;
  roles: string[];
  locale: string;
  /** identity's stored preferences (read with `preferencesOf`). */
  notification_preferences?: unknown;
}

export interface UssdAddress {
  label: string;
  instructions?: string | null;
  line1: string;
  city: string;
  latitude: number | null;
  longitude: number | null;
  is_default: boolean;
}

type PaymentMethod = { kind: 'wallet' } | { kind: 'mobile_money'; provider: 'MTN' | 'ORANGE'; phone: string };

export interface UssdPlaceInput {
  restaurantId: string;
  items: { itemId: string; quantity: number; optionIds?: string[] }[];
  delivery: { latitude: number; longitude: number; text: string };
  payment: PaymentMethod;
  tipMinor: number;
}

interface PlacedOrder {
  state: {
    status: string;
    reason?: string | null;
    order?: {
      orderId: string;
      restaurantName: string;
      deliveryPin: string;
      pricing: { totalMinor: number };
      customer: { id: string };
      lines: {
        itemId: string;
        name: string;
        quantity: number;
        unitPriceMinor: number;
        modifiers: { optionId: string }[];
      }[];
      restaurantId: string;
      delivery: { latitude: number; longitude: number; text: string };
    } | null;
  };
}

/** What the USSD context uses of orders: the same service as the app, and the customer's list. */
export interface UssdOrders {
  orders: {
    place(
      input: UssdPlaceInput,
      customer: { kind: 'user'; id: string },
      metadata?: { correlationId?: string; actorId?: string; actorRole?: string; channel?: 'ussd' },
      options?: { orderId?: string; resume?: boolean; expectedTotalMinor?: number },
    ): Promise<PlacedOrder>;
    quote(
      input: UssdPlaceInput,
      customerId: string,
    ): Promise<{ totalMinor: number; deliveryFeeMinor: number }>;
    find(orderId: string): Promise<PlacedOrder | undefined>;
  };
  repository: {
    list(
      filter: { customerId: string },
      page: { limit?: number },
    ): Promise<{
      items: {
        id: string;
        status: string;
        restaurantId: string;
        restaurantName: string;
        totalMinor: number;
        itemCount: number;
      }[];
    }>;
  };
}

/** The restaurant's public menu as the catalog renders it (only what a USSD page shows). */
export interface UssdMenus {
  view(restaurantId: string, language: Language, viewer: undefined): Promise<{ raw: Buffer }>;
}

/** What the USSD context reads of the catalog's cities and zones (issue #26's directory). */
export interface UssdZones {
  cities(): Promise<
    {
      id: string;
      name: { fr: string; en: string };
      active: boolean;
      bounds: { south: number; west: number; north: number; east: number };
    }[]
  >;
  zonesOf(cityId: string): Promise<
    {
      id: string;
      name: string;
      active: boolean;
      delivers: boolean;
      polygon: { latitude: number; longitude: number }[];
    }[]
  >;
  /**
   * The restaurants open now that deliver to the point, nearest first (the catalog's search with
   * its delivery terms), at most a few pages.
   */
  restaurantsAt(
    point: { latitude: number; longitude: number },
    language: Language,
  ): Promise<{ id: string; name: string }[]>;
  /** The catalog's terms at a point (the one place): which zone holds it, and a refusal. */
  termsAt(
    cityId: string,
    point: { latitude: number; longitude: number },
    at: Date,
  ): Promise<{ zoneId: string | null; refusal?: string } | undefined>;
}

export interface UssdSms {
  send(message: { to: string; body: string; metadata?: Record<string, unknown> }): Promise<unknown>;
}

export interface UssdSettings {
  idleSeconds: number;
  resumeSeconds: number;
  pinMaxAttempts: number;
  pinLockMinutes: number;
  /** The code customers dial (named in SMS answers). */
  serviceCode: string;
  /** Orders per customer per window, like the app's placement tiers (null: no limit). */
  placementLimit: { windowMs: number; mobileMoneyMax: number; walletMax: number } | null;
}

export interface UssdDependencies {
  store: UssdStore;
  repository: UssdRepository;
  identity: UssdIdentity;
  orders: () => UssdOrders;
  menus: UssdMenus;
  zones: UssdZones;
  sms: UssdSms;
  /**
   * The order's SMS (number and delivery PIN), owed before the placement and sent by a job with
   * retries and a sweep (order-sms.ts).
   */
  orderSms: Pick<OrderSms, 'intend' | 'forget' | 'enqueue'>;
  /**
   * The customer's favourite restaurants (community's favourites), listed before the restaurants
   * of recent orders; none when absent.
   */
  favourites?: () => {
    restaurants(userId: string): Promise<readonly { id: string; name: string; active: boolean }[]>;
  };
  logger: Logger;
  settings: UssdSettings;
  /** Keys the session's PIN draft digest (never stored in clear). */
  secret: Buffer;
  now?: () => Date;
}

/** What the store keeps per phone number between callbacks. */
interface Stored {
  /** The aggregator's session id of the dial being answered. */
  sessionId: string;
  /** The first dial's session id: names the order, so a resumed session places it once. */
  origin: string;
  /** Inputs of this dial already applied. */
  consumed: number;
  session: Session;
  screen: Screen;
  userId: string | null;
  updatedAt: number;
}

const RECENT_ORDERS_SCANNED = 20;
/**
 * A zone is offered as a USSD address only when no point of its outline is farther than this
 * from its centre: the delivery is priced and range-checked at the centre, so the distance (and
 * with it the fee, at the city's per-100 m rate) may be off by up to this much (docs/ussd.md).
 */
export const ZONE_MAX_REACH_M = 3_000;
/** SMS answers to one number per hour (each costs money). */
export const SMS_REPLIES_PER_HOUR = 5;
/** How long an inbound SMS id is remembered (providers retry within minutes, Twilio's for hours at most). */
const SMS_MESSAGE_MEMORY_MS = 24 * 3_600_000;
/** A callback holds its number's session this long at most (an order placement takes seconds). */
const LOCK_LEASE_MS = 30_000;
/** How long a concurrent callback of the same number waits for the first before giving up (503). */
const LOCK_WAIT_MS = 20_000;
const LOCK_POLL_MS = 25;

export function createUssdService(deps: UssdDependencies) {
  const { store, repository, identity, settings, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const digest = (pin: string) =>
    createHmac('sha256', deps.secret).update(`ussd-pin:${pin}`).digest('base64url');

  /** The key of a phone number's session: a keyed hash, as identity counts numbers. */
  const sessionKey = (phone: string) => `session:${identity.limitKey(phone)}`;

  async function save(key: string, record: Stored): Promise<void> {
    await store.set(key, JSON.stringify(record), settings.resumeSeconds * 1_000);
  }

  async function load(key: string): Promise<Stored | undefined> {
    const raw = await store.get(key);
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as Stored;
    } catch {
      return undefined;
    }
  }

  /** A fresh session for the number: who it is, what it chose before, which operator it has. */
  async function fresh(request: UssdRequest, at: number): Promise<Stored> {
    const user = await identity.repository.findUserByPhone(request.phone);
    const subscriber = user === undefined ? undefined : await repository.find(user.id);
    const operator = detectOperator(request.phone) ?? null;
    const session = start({
      language: subscriber?.language ?? null,
      registered: subscriber !== undefined,
      operator,
    });
    const blocked =
      user !== undefined &&
      user.status !== 'active' &&
      user.status !== 'pending_verification' &&
      user.status !== 'guest';
    const opened: Session = blocked
      ? {
          ...session,
          language: session.language ?? 'fr',
          step: { kind: 'end', message: { key: 'account_unavailable' } },
        }
      : session;
    return {
      sessionId: request.sessionId,
      origin: request.sessionId,
      consumed: 0,
      session: opened,
      screen: render(opened),
      userId: subscriber === undefined ? null : user!.id,
      updatedAt: at,
    };
  }

  /**
   * One callback: the screen to answer. Callbacks of one number run one at a time (a lease in
   * the store): a retry that arrives while the first is still at work waits for it, then finds
   * its inputs consumed and answers the same screen.
   */
  async function handle(request: UssdRequest, requestId?: string): Promise<Screen> {
    const key = sessionKey(request.phone);
    const lock = `lock:${key}`;
    const token = randomUUID();
    const deadline = Date.now() + LOCK_WAIT_MS;
    while (!(await store.acquire(lock, token, LOCK_LEASE_MS))) {
      if (Date.now() > deadline)
        throw ussdErrors.of('unavailable', 'ussd_busy', 'This session is busy; try again.', {
          retryAfterSeconds: 1,
        });
      await delay(LOCK_POLL_MS);
    }
    try {
      return await handleLocked(request, key, requestId);
    } finally {
      await store.release(lock, token);
    }
  }

  async function handleLocked(request: UssdRequest, key: string, requestId?: string): Promise<Screen> {
    const at = now().getTime();
    const existing = await load(key);
    let record: Stored;
    if (existing !== undefined && existing.sessionId === request.sessionId) {
      // The same dial: a retried callback (nothing new) answers the screen it answered.
      if (request.inputs.length <= existing.consumed) return existing.screen;
      if (existing.session.step.kind === 'end') return existing.screen;
      if (at - existing.updatedAt > settings.idleSeconds * 1_000) {
        // Too long since the last input: this dial ends; dialling again resumes at this step.
        const language = existing.session.language ?? 'fr';
        return { text: say(language, 'expired'), end: true };
      }
      record = existing;
    } else if (
      existing !== undefined &&
      resumable(existing.session) &&
      at - existing.updatedAt <= settings.resumeSeconds * 1_000
    ) {
      // A new dial soon after a dropped one: the same step, told so.
      record = {
        ...existing,
        sessionId: request.sessionId,
        consumed: 0,
        session: { ...existing.session, notice: { key: 'notice_resumed' } },
      };
      record.screen = render(record.session);
      if (request.inputs.length === 0) {
        record.updatedAt = at;
        await save(key, record);
        return record.screen;
      }
    } else {
      record = await fresh(request, at);
      if (request.inputs.length === 0 || record.session.step.kind === 'end') {
        await save(key, record);
        return record.screen;
      }
    }
    for (const input of request.inputs.slice(record.consumed)) {
      record.consumed += 1;
      if (record.session.step.kind === 'end') break;
      const advanced = advance(record.session, input, digest);
      record.session = advanced.session;
      if (advanced.action !== undefined) {
        try {
          await perform(record, advanced.action, request, requestId);
        } catch (error) {
          logger.error({ err: error, action: advanced.action.type }, 'ussd action failed');
          record.session = {
            ...record.session,
            step: { kind: 'end', message: { key: 'unavailable' } },
            notice: null,
          };
        }
      }
    }
    record.screen = render(record.session);
    record.updatedAt = at;
    await save(key, record);
    return record.screen;
  }

  async function perform(record: Stored, action: Action, request: UssdRequest, requestId?: string) {
    const language: Language = record.session.language ?? 'fr';
    switch (action.type) {
      case 'remember_language':
        if (record.userId !== null) {
          await repository.setLanguage(record.userId, action.language);
          // The person's language: notify's SMS about their orders follow it.
          await identity.repository.updateUser(record.userId, { locale: action.language });
        }
        return;
      case 'register':
        record.userId = (await register(request.phone, action.pin, language, requestId)) ?? null;
        if (record.userId === null)
          record.session = {
            ...record.session,
            step: { kind: 'end', message: { key: 'account_unavailable' } },
          };
        return;
      case 'load_recent': {
        const recent = await recentOrders(record.userId!);
        const page = recent.slice(action.page * PAGE_SIZE, (action.page + 1) * PAGE_SIZE);
        record.session = listed(
          record.session,
          page.map((order) => ({
            id: order.id,
            label: `${order.restaurantName} ${money(order.totalMinor)}`,
          })),
          recent.length > (action.page + 1) * PAGE_SIZE,
        );
        return;
      }
      case 'load_restaurants': {
        const favourites = (await deps.favourites?.().restaurants(record.userId!)) ?? [];
        const restaurants = restaurantChoices(favourites, await recentOrders(record.userId!));
        if (restaurants.length === 0 && action.page === 0) {
          // Neither favourites nor orders: the open restaurants of a neighbourhood instead.
          record.session = browseByZone(record.session).session;
          await loadZones(record, null, 0, language, 'browse');
          return;
        }
        const page = restaurants.slice(action.page * PAGE_SIZE, (action.page + 1) * PAGE_SIZE);
        record.session = listed(record.session, page, restaurants.length > (action.page + 1) * PAGE_SIZE);
        return;
      }
      case 'load_dishes': {
        const dishes = await dishesOf(action.restaurantId, language);
        const page = dishes.slice(action.page * PAGE_SIZE, (action.page + 1) * PAGE_SIZE);
        record.session = listed(record.session, page, dishes.length > (action.page + 1) * PAGE_SIZE);
        return;
      }
      case 'reorder': {
        const previous = await deps.orders().orders.find(action.orderId);
        const order = previous?.state.order;
        // Only the caller's own orders were listed; anything else is treated as gone.
        if (order === undefined || order === null || order.customer.id !== record.userId) {
          record.session = { ...record.session, step: { kind: 'menu' }, notice: { key: 'notice_invalid' } };
          return;
        }
        record.session = {
          ...record.session,
          cart: {
            restaurantId: order.restaurantId,
            restaurantName: order.restaurantName,
            lines: order.lines.map((line) => ({
              itemId: line.itemId,
              name: line.name,
              unitPriceMinor: line.unitPriceMinor,
              quantity: line.quantity,
              optionIds: line.modifiers.map((modifier) => modifier.optionId),
            })),
          },
        };
        record.session = addressed(record.session, await addressesOf(record.userId!, order.delivery));
        if (record.session.step.kind === 'zones')
          await perform(record, { type: 'load_zones', cityId: null, page: 0 }, request, requestId);
        return;
      }
      case 'load_addresses':
        record.session = addressed(record.session, await addressesOf(record.userId!));
        // None saved: a new address from the city's zones.
        if (record.session.step.kind === 'zones')
          await perform(record, { type: 'load_zones', cityId: null, page: 0 }, request, requestId);
        return;
      case 'load_zones':
        await loadZones(record, action.cityId, action.page, language, action.purpose);
        return;
      case 'load_zone_restaurants':
        await loadZoneRestaurants(record, action.cityId, action.zoneId, action.page, language);
        return;
      case 'save_zone_address':
        await saveZoneAddress(record, action.cityId, action.zoneId, language);
        return;
      case 'quote': {
        try {
          const quoted = await deps.orders().orders.quote(placeInput(record, request.phone), record.userId!);
          record.session = {
            ...record.session,
            step: {
              kind: 'confirm',
              totalMinor: quoted.totalMinor,
              deliveryFeeMinor: quoted.deliveryFeeMinor,
            },
          };
        } catch (error) {
          refuse(record, error);
        }
        return;
      }
      case 'place':
        await place(record, action.pin, request, requestId);
        return;
      case 'status': {
        const [last] = (await deps.orders().repository.list({ customerId: record.userId! }, { limit: 1 }))
          .items;
        if (last === undefined) return;
        record.session = {
          ...record.session,
          step: {
            kind: 'end',
            message: {
              key: 'status',
              params: {
                number: orderNumber(last.id),
                restaurant: last.restaurantName,
                status: statusText(language, last.status),
              },
            },
          },
        };
        return;
      }
    }
  }

  /**
   * Sets the PIN of the calling number: an unknown number becomes an active customer (the mobile
   * network vouches for the number, as a code by SMS would); a pending registration or a guest
   * is completed. Answers the user id, or undefined for an account that cannot be used.
   */
  async function register(phone: string, pin: string, language: Language, requestId?: string) {
    const pinHash = await identity.hasher.hash(pin);
    let user = await identity.repository.findUserByPhone(phone);
    if (user === undefined) {
      user = await identity.repository.insertUser({
        phone,
        roles: ['customer'],
        status: 'active',
        phoneVerified: true,
        locale: language,
      });
      await identity.audit({
        action: 'account.registered_by_ussd',
        actor: { kind: 'user', userId: user.id, requestId: requestId ?? null },
        subjectUserId: user.id,
        resource: `user:${user.id}`,
        newValue: { status: 'active', roles: ['customer'], channel: 'ussd' },
      });
    } else if (user.status === 'pending_verification' || user.status === 'guest') {
      const roles = [...new Set([...user.roles.filter((role) => role !== 'guest'), 'customer'])];
      await identity.repository.updateUser(user.id, { status: 'active', phone_verified: true, roles });
      await identity.audit({
        action: 'account.verified_by_ussd',
        actor: { kind: 'user', userId: user.id, requestId: requestId ?? null },
        subjectUserId: user.id,
        resource: `user:${user.id}`,
        newValue: { status: 'active', roles, channel: 'ussd' },
      });
    } else if (user.status !== 'active') {
      return undefined;
    }
    // The language chosen on first use is the person's: notify's SMS follow it.
    if (user.locale !== language) await identity.repository.updateUser(user.id, { locale: language });
    await repository.register(user.id, pinHash, language);
    await identity.audit({
      action: 'ussd.pin_set',
      actor: { kind: 'user', userId: user.id, requestId: requestId ?? null },
      subjectUserId: user.id,
      resource: `user:${user.id}`,
    });
    return user.id;
  }

  async function recentOrders(userId: string) {
    return (await deps.orders().repository.list({ customerId: userId }, { limit: RECENT_ORDERS_SCANNED }))
      .items;
  }

  async function dishesOf(restaurantId: string, language: Language): Promise<Choice[]> {
    let menu;
    try {
      const rendered = await deps.menus.view(restaurantId, language, undefined);
      menu = JSON.parse(rendered.raw.toString('utf8')) as { categories?: unknown };
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'not_found') return [];
      throw error;
    }
    const categories = (menu.categories ?? []) as {
      items?: {
        id: string;
        name?: string;
        price: number;
        orderable?: boolean;
        modifierGroups?: { min?: number }[];
      }[];
    }[];
    // Dishes that need a choice of options are ordered in the app: USSD has no room to ask.
    return categories
      .flatMap((category) => category.items ?? [])
      .filter(
        (item) =>
          item.orderable === true && !(item.modifierGroups ?? []).some((group) => (group.min ?? 0) > 0),
      )
      .map((item) => ({ id: item.id, label: item.name ?? '?', priceMinor: item.price }));
  }

  /**
   * The zones offered in a city: active, delivered to, and whose centre the catalog places in
   * that very zone (a concave outline's centroid may fall outside it, or in a smaller zone),
   * by name, each with its centre.
   */
  async function offeredZones(cityId: string) {
    const at = now();
    const offered: { id: string; name: string; centre: { latitude: number; longitude: number } }[] = [];
    for (const zone of await deps.zones.zonesOf(cityId)) {
      if (!zone.active || !zone.delivers) continue;
      const centre = zoneCentre(zone.polygon);
      // Too wide to price from its centre (a city's catch-all area): the app pins the address.
      if (zoneReachM(zone.polygon, centre) > ZONE_MAX_REACH_M) continue;
      const terms = await deps.zones.termsAt(cityId, centre, at);
      if (terms === undefined || terms.zoneId !== zone.id) continue;
      if (terms.refusal === 'outside_zones' || terms.refusal === 'zone_not_served') continue;
      offered.push({ id: zone.id, name: zone.name, centre });
    }
    return offered.sort((a, b) => a.name.localeCompare(b.name, 'fr'));
  }

  /** Active cities with at least one zone offered, by name in the language. */
  async function offeredCities(language: Language) {
    const cities = [];
    for (const city of await deps.zones.cities())
      if (city.active && (await offeredZones(city.id)).length > 0) cities.push(city);
    return cities.sort((a, b) => a.name[language].localeCompare(b.name[language], 'fr'));
  }

  /** The city of the caller's last order's delivery point, among those offered. */
  async function callerCity(userId: string, cities: Awaited<ReturnType<typeof offeredCities>>) {
    const [latest] = await recentOrders(userId);
    if (latest === undefined) return undefined;
    const point = (await deps.orders().orders.find(latest.id))?.state.order?.delivery;
    if (point === undefined) return undefined;
    return cities.find(
      (city) =>
        point.latitude >= city.bounds.south &&
        point.latitude <= city.bounds.north &&
        point.longitude >= city.bounds.west &&
        point.longitude <= city.bounds.east,
    );
  }

  async function loadZones(
    record: Stored,
    cityId: string | null,
    page: number,
    language: Language,
    purpose?: 'browse',
  ) {
    let city = cityId;
    if (city === null) {
      const cities = await offeredCities(language);
      // The caller's city (their last order's), or the only one: straight to its zones.
      const known =
        (await callerCity(record.userId!, cities)) ?? (cities.length === 1 ? cities[0] : undefined);
      if (known === undefined) {
        const shown = cities.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
        record.session = listed(
          record.session,
          shown.map((c) => ({ id: c.id, label: c.name[language] })),
          cities.length > (page + 1) * PAGE_SIZE,
        );
        return;
      }
      city = known.id;
      record.session = {
        ...record.session,
        step: {
          kind: 'zones',
          cityId: city,
          cityName: known.name[language],
          page: 0,
          choices: [],
          more: false,
          ...(purpose === undefined ? {} : { purpose }),
        },
      };
      page = 0;
    }
    const zones = await offeredZones(city);
    const shown = zones.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    record.session = listed(
      record.session,
      shown.map((zone) => ({ id: zone.id, label: zone.name })),
      zones.length > (page + 1) * PAGE_SIZE,
    );
  }

  /**
   * The open restaurants delivering to the zone's centre, nearest first (the catalog's search
   * with its delivery terms: the restaurant's radius or zones, the city's zones, hours and cap),
   * four a page. A zone no longer offered goes back to the city's zones.
   */
  async function loadZoneRestaurants(
    record: Stored,
    cityId: string,
    zoneId: string,
    page: number,
    language: Language,
  ) {
    const zone = (await offeredZones(cityId)).find((candidate) => candidate.id === zoneId);
    if (zone === undefined) {
      record.session = {
        ...record.session,
        step: {
          kind: 'zones',
          cityId,
          cityName: record.session.step.kind === 'zone_restaurants' ? record.session.step.cityName : '',
          page: 0,
          choices: [],
          more: false,
          purpose: 'browse',
        },
      };
      await loadZones(record, cityId, 0, language, 'browse');
      record.session = { ...record.session, notice: { key: 'notice_invalid' } };
      return;
    }
    const restaurants = await deps.zones.restaurantsAt(zone.centre, language);
    const shown = restaurants.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    record.session = listed(
      record.session,
      shown.map((restaurant) => ({ id: restaurant.id, label: restaurant.name })),
      restaurants.length > (page + 1) * PAGE_SIZE,
    );
    // Nobody open delivers there now: the machine went back to the zones, which are loaded.
    if (record.session.step.kind === 'zones') {
      const notice = record.session.notice;
      await loadZones(record, cityId, 0, language, 'browse');
      if (record.session.step.kind === 'zones') record.session = { ...record.session, notice };
    }
  }

  /**
   * Saves the zone's address through identity's address API and delivers there. A replayed step
   * (a crash after the save, a resumed dial) finds the same address saved and reuses it: one
   * address per zone, never a second; the limit of 20 is identity's.
   */
  async function saveZoneAddress(record: Stored, cityId: string, zoneId: string, language: Language) {
    const userId = record.userId!;
    const zone = (await offeredZones(cityId)).find((candidate) => candidate.id === zoneId);
    const city = (await deps.zones.cities()).find((candidate) => candidate.id === cityId);
    if (zone === undefined || city === undefined || !city.active) {
      // Switched off since the list was drawn: pick again.
      record.session = {
        ...record.session,
        step: { kind: 'zones', cityId: null, cityName: '', page: 0, choices: [], more: false },
        notice: null,
      };
      await loadZones(record, null, 0, language);
      record.session = { ...record.session, notice: { key: 'notice_invalid' } };
      return;
    }
    // The address is stored in the city's name in French (the app's free-text city).
    const wanted = zoneAddress({
      zone: zone.name,
      city: city.name.fr,
      centre: zone.centre,
      landmark: say(language, 'zone_landmark'),
      instructions: say(language, 'zone_instructions'),
      isDefault: false,
    });
    const saved = await identity.repository.listAddresses(userId, 20);
    const same = saved.find(
      (address) =>
        address.line1 === wanted.line1 &&
        address.latitude === wanted.latitude &&
        address.longitude === wanted.longitude,
    );
    if (same === undefined) {
      try {
        await identity.repository.addAddress(userId, { ...wanted, isDefault: saved.length === 0 });
      } catch (error) {
        refuse(record, error);
        return;
      }
    }
    record.session = zoneAddressed(record.session, {
      label: wanted.label,
      latitude: wanted.latitude,
      longitude: wanted.longitude,
      text: wanted.line1,
    });
  }

  /** Saved addresses with coordinates (default first), then the last order's, without repeats. */
  async function addressesOf(
    userId: string,
    last?: { latitude: number; longitude: number; text: string },
  ): Promise<AddressChoice[]> {
    const saved = (await identity.repository.listAddresses(userId, 20))
      .filter((address) => address.latitude !== null && address.longitude !== null)
      .sort((a, b) => Number(b.is_default) - Number(a.is_default))
      .map((address) => ({
        label: address.label,
        latitude: address.latitude!,
        longitude: address.longitude!,
        text: [address.line1, address.city].join(', '),
      }));
    let previous = last;
    if (previous === undefined) {
      const [latest] = await recentOrders(userId);
      const found = latest === undefined ? undefined : await deps.orders().orders.find(latest.id);
      previous = found?.state.order?.delivery ?? undefined;
    }
    const choices = [...saved];
    if (previous !== undefined && !saved.some((address) => address.text === previous.text))
      choices.push({ label: previous.text, ...previous });
    return choices;
  }

  function placeInput(record: Stored, phone: string): UssdPlaceInput {
    const { cart, address, payment } = record.session;
    return {
      restaurantId: cart!.restaurantId,
      items: cart!.lines.map((line) => ({
        itemId: line.itemId,
        quantity: line.quantity,
        ...(line.optionIds === undefined ? {} : { optionIds: line.optionIds }),
      })),
      delivery: { latitude: address!.latitude, longitude: address!.longitude, text: address!.text },
      payment:
        payment === 'mobile_money' && record.session.operator !== null
          ? { kind: 'mobile_money', provider: record.session.operator, phone }
          : { kind: 'wallet' },
      tipMinor: 0,
    };
  }

  /** The order's refusal as the session's last screen (a domain error) or a failure (anything else). */
  function refuse(record: Stored, error: unknown): void {
    if (!(error instanceof DomainError) || error.kind === 'internal' || error.kind === 'unavailable')
      throw error;
    const language = record.session.language ?? 'fr';
    const reasonKey = `reason_${error.code}` as TextKey;
    const reason = say(language, reasonKey in REASON_KEYS ? reasonKey : 'reason_other');
    record.session = {
      ...record.session,
      step: { kind: 'end', message: { key: 'refused', params: { reason } } },
    };
  }

  /** A price changed since the confirmation: the new total is shown, the PIN asked again. */
  function repriced(record: Stored, error: DomainError): void {
    const quote = error.details.quote as { totalMinor: number; deliveryFeeMinor: number };
    record.session = {
      ...record.session,
      step: { kind: 'confirm', totalMinor: quote.totalMinor, deliveryFeeMinor: quote.deliveryFeeMinor },
      notice: { key: 'notice_repriced' },
    };
  }

  async function checkPin(record: Stored, pin: string): Promise<boolean> {
    const userId = record.userId!;
    const subscriber = await repository.find(userId);
    const at = now();
    if (subscriber === undefined) return false;
    if (subscriber.locked_until !== null && subscriber.locked_until > at) {
      lockedScreen(record, subscriber.locked_until, at);
      return false;
    }
    if (subscriber.locked_until !== null) await repository.pinAccepted(userId);
    if (await identity.hasher.verify(subscriber.pin_hash, pin)) {
      await repository.pinAccepted(userId);
      return true;
    }
    const lockUntil = new Date(at.getTime() + settings.pinLockMinutes * 60_000);
    const failed = await repository.failPin(userId, settings.pinMaxAttempts, lockUntil);
    if (failed >= settings.pinMaxAttempts) {
      lockedScreen(record, lockUntil, at);
      await identity.audit({
        action: 'ussd.pin_locked',
        actor: { kind: 'system' },
        subjectUserId: userId,
        resource: `user:${userId}`,
        newValue: { lockedUntil: lockUntil.toISOString() },
      });
    } else {
      record.session = {
        ...record.session,
        notice: { key: 'notice_pin_wrong', params: { left: settings.pinMaxAttempts - failed } },
      };
    }
    return false;
  }

  function lockedScreen(record: Stored, until: Date, at: Date) {
    record.session = {
      ...record.session,
      step: {
        kind: 'end',
        message: {
          key: 'locked',
          params: { minutes: Math.max(1, Math.ceil((until.getTime() - at.getTime()) / 60_000)) },
        },
      },
    };
  }

  async function withinPlacementLimit(userId: string, mobileMoney: boolean): Promise<boolean> {
    const limit = settings.placementLimit;
    if (limit === null) return true;
    const count = await store.increment(
      `placed:${mobileMoney ? 'payment' : 'orders'}:${userId}`,
      limit.windowMs,
    );
    return count <= (mobileMoney ? limit.mobileMoneyMax : limit.walletMax);
  }

  async function place(record: Stored, pin: string, request: UssdRequest, requestId?: string) {
    const userId = record.userId!;
    const language = record.session.language ?? 'fr';
    if (!(await checkPin(record, pin))) return;
    const input = placeInput(record, request.phone);
    // Named after the first dial of this session: a retried callback, a concurrent one or a
    // resumed dial places this order once (the orders service answers the existing one).
    const orderId = keyedOrderId(userId, record.origin);
    const already = await deps.orders().orders.find(orderId);
    if (
      already === undefined &&
      !(await withinPlacementLimit(userId, input.payment.kind === 'mobile_money'))
    ) {
      record.session = {
        ...record.session,
        step: {
          kind: 'end',
          message: { key: 'refused', params: { reason: say(language, 'reason_rate_limited') } },
        },
      };
      return;
    }
    // The SMS is owed from before the placement: a crash between the placement and the send
    // leaves the row for the sweep (order-sms.ts). A replay finds it (sent or not) and adds none.
    await deps.orderSms.intend(orderId, userId, language);
    let placed: PlacedOrder;
    try {
      placed =
        already ??
        (await deps.orders().orders.place(
          input,
          { kind: 'user', id: userId },
          {
            ...(requestId === undefined ? {} : { correlationId: requestId }),
            actorId: userId,
            actorRole: 'customer',
            // Read by notify: a wallet order paid in this placement gets its one SMS from here
            // (number and delivery PIN, order-sms.ts), not a second `order.placed` SMS from notify.
            channel: 'ussd',
          },
          // Under the session's lease; `resume` picks up what a crashed earlier attempt reserved.
          // The total on the confirmation screen is the one the PIN agreed to: another is refused.
          { orderId, resume: true, ...agreedTotal(record.session) },
        ));
    } catch (error) {
      // Refused before anything was placed: nothing is owed (a repriced order asks the PIN again
      // and writes the row again).
      if (error instanceof DomainError && (await deps.orders().orders.find(orderId)) === undefined)
        await deps.orderSms.forget(orderId);
      if (error instanceof DomainError && error.code === 'order_repriced') repriced(record, error);
      else refuse(record, error);
      return;
    }
    // Sent by the job (retried with backoff), or the sweep when this process dies first. A wallet
    // order refused by the wallet gets none (the sender gives its row up).
    await deps.orderSms.enqueue(orderId);
    const order = placed.state.order!;
    const number = orderNumber(order.orderId);
    const total = money(order.pricing.totalMinor);
    if (placed.state.status === 'PAYMENT_FAILED') {
      const reasonKey = `reason_${placed.state.reason ?? 'other'}` as TextKey;
      const reason = say(language, reasonKey in REASON_KEYS ? reasonKey : 'reason_other');
      record.session = {
        ...record.session,
        step: { kind: 'end', message: { key: 'wallet_refused', params: { reason } } },
      };
      return;
    }
    record.session = {
      ...record.session,
      cart: null,
      step: {
        kind: 'end',
        message:
          input.payment.kind === 'mobile_money'
            ? { key: 'placed_momo', params: { number, total, operator: input.payment.provider } }
            : { key: 'placed_wallet', params: { number, total } },
      },
    };
  }

  /**
   * An inbound SMS from a customer (docs/ussd.md, SMS commands): `STATUS` answers the last
   * order's status by SMS, anything else how to use it. Replies per number are capped
   * (SMS_REPLIES_PER_HOUR) so that a loop or a flood costs little; over the cap nothing is sent.
   */
  async function answerSms(phone: string, text: string, messageId?: string): Promise<{ replied: boolean }> {
    // A provider's retry of a message already answered (its id seen) does nothing again. Marked
    // after the work: a crash in between lets the retry redo it (a repeated STOP changes nothing).
    const seen = messageId === undefined ? undefined : `sms-in:${identity.limitKey(`sms-id:${messageId}`)}`;
    if (seen !== undefined && (await store.get(seen)) !== null) return { replied: false };
    const answer = await runSmsCommand(phone, text);
    if (seen !== undefined) await store.set(seen, '1', SMS_MESSAGE_MEMORY_MS);
    return answer;
  }

  async function runSmsCommand(phone: string, text: string): Promise<{ replied: boolean }> {
    const command = smsCommandOf(text);
    const user = await identity.repository.findUserByPhone(phone);
    const active = user !== undefined && user.status === 'active' ? user : undefined;
    // STOP and START are honoured before the reply cap: only the answer costs money.
    if (command === 'stop' || command === 'start') await switchSms(phone, user, command);
    const count = await store.increment(`sms:${identity.limitKey(phone)}`, 3_600_000);
    if (count > SMS_REPLIES_PER_HOUR) return { replied: false };
    const code = settings.serviceCode;
    let body: string;
    if (active === undefined) {
      // A number without an account gets nothing from us but answers; STOP needs none.
      if (command === 'stop') return { replied: false };
      body = say('fr', 'sms_unknown', { code });
    } else {
      const subscriber = await repository.find(active.id);
      const language: Language = subscriber?.language ?? (active.locale.startsWith('en') ? 'en' : 'fr');
      body = await smsAnswer(active.id, command, language);
    }
    await deps.sms.send({ to: phone, body, metadata: { kind: 'ussd.sms_reply' } });
    return { replied: true };
  }

  async function smsAnswer(userId: string, command: SmsCommandName, language: Language): Promise<string> {
    switch (command) {
      case 'help':
        return say(language, 'sms_help', { code: settings.serviceCode });
      case 'stop':
        return say(language, 'sms_stopped');
      case 'start':
        return say(language, 'sms_started');
      case 'status': {
        const [last] = (await deps.orders().repository.list({ customerId: userId }, { limit: 1 })).items;
        return last === undefined
          ? say(language, 'no_orders')
          : say(language, 'status', {
              number: orderNumber(last.id),
              restaurant: last.restaurantName,
              status: statusText(language, last.status),
            });
      }
      default: {
        const exhaustive: never = command;
        return exhaustive;
      }
    }
  }

  /**
   * STOP / START by SMS: the person's SMS switches in identity's notification preferences (what
   * notify reads before each send), audited; a repeat changes and audits nothing. A number with
   * no account has its STOP remembered (identity's opt-out list, by the number's blind index) and
   * applied to the account created for it later; its START forgets it.
   */
  async function switchSms(phone: string, user: UssdUser | undefined, command: 'stop' | 'start') {
    if (user === undefined || user.status === 'deleted') {
      // No account (yet): the number's STOP waits in identity's opt-out list for one.
      if (command === 'stop') await identity.repository.rememberSmsOptOut(phone);
      else await identity.repository.forgetSmsOptOut(phone);
      return;
    }
    // Any account of the number, a guest's or a pending one too: notify texts them as well.
    const { before, after, changed } = smsPreferencesAfter(user.notification_preferences, command);
    if (!changed) return;
    await identity.repository.updateUser(user.id, { notification_preferences: after });
    await identity.audit({
      action: command === 'stop' ? 'notifications.sms_opted_out' : 'notifications.sms_opted_in',
      actor: { kind: 'user', userId: user.id, requestId: null },
      subjectUserId: user.id,
      resource: `user:${user.id}`,
      oldValue: before,
      newValue: after,
    });
  }

  return { handle, answerSms, digest, sessionKey };
}

export type UssdService = ReturnType<typeof createUssdService>;

/** The total the confirmation screen showed, which the customer's PIN agreed to. */
function agreedTotal(session: Session): { expectedTotalMinor?: number } {
  return session.step.kind === 'confirm' ? { expectedTotalMinor: session.step.totalMinor } : {};
}

/** A dropped session worth resuming: one in the middle of something (not at the menu, not over). */
function resumable(session: Session): boolean {
  return !['menu', 'language', 'end'].includes(session.step.kind);
}

/** An order status in words, in the language. */
function statusText(language: Language, status: string): string {
  const key = `status_${status}` as TextKey;
  return say(language, key in STATUS_KEYS ? key : 'status_other');
}

/** Restaurants of the customer's recent orders, most recent first, once each. */
export function recentRestaurants(
  orders: readonly { restaurantId: string; restaurantName: string }[],
): Choice[] {
  const seen = new Map<string, Choice>();
  for (const order of orders)
    if (!seen.has(order.restaurantId))
      seen.set(order.restaurantId, { id: order.restaurantId, label: order.restaurantName });
  return [...seen.values()];
}

/**
 * The restaurants a USSD customer browses: their favourite restaurants that take orders first (as
 * favourited, newest first), then those of their recent orders, each once.
 */
export function restaurantChoices(
  favourites: readonly { id: string; name: string; active: boolean }[],
  orders: readonly { restaurantId: string; restaurantName: string }[],
): Choice[] {
  const seen = new Map<string, Choice>();
  for (const favourite of favourites)
    if (favourite.active && !seen.has(favourite.id))
      seen.set(favourite.id, { id: favourite.id, label: favourite.name });
  for (const choice of recentRestaurants(orders)) if (!seen.has(choice.id)) seen.set(choice.id, choice);
  return [...seen.values()];
}

/** A UUID (v4 layout) named after the customer and the session that places the order. */
export function keyedOrderId(userId: string, origin: string): string {
  const hex = createHash('sha256').update(`ussd-order\u0000${userId}\u0000${origin}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const REASON_KEYS: Record<string, true> = Object.fromEntries(
  [
    'restaurant_closed',
    'outside_delivery_radius',
    'items_unavailable',
    'insufficient_stock',
    'insufficient_funds',
    'limit_exceeded',
    'wallet_frozen',
    'rate_limited',
    'payment_method',
    'too_many_addresses',
    'other',
  ].map((code) => [`reason_${code}`, true]),
);
const STATUS_KEYS: Record<string, true> = Object.fromEntries(
  [
    'PENDING_PAYMENT',
    'PAYMENT_FAILED',
    'PLACED',
    'ACCEPTED',
    'PREPARING',
    'READY',
    'PICKED_UP',
    'DELIVERED',
    'COMPLETED',
    'REJECTED',
    'CANCELLED',
    'DISPUTED',
    'RESOLVED',
  ].map((status) => [`status_${status}`, true]),
);
