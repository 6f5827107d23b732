/**
 * The USSD session as a pure state machine (docs/ussd.md). `advance(session, input)` reads one
 * numeric input against the step the customer saw and answers the next session and, when the
 * next step needs the world (a list to load, a price, a PIN to check, an order to place), the
 * action the service performs before `render` draws the screen. Nothing here does I/O; the PIN
 * draft is compared through the digest the caller passes (a keyed hash: no PIN in the store).
 */
import { say, money, type Language, type TextKey } from './texts.js';

/** Screens are at most 182 characters, `CON `/`END ` included (USSD's limit on most networks). */
export const SCREEN_MAX_CHARS = 182;
const PREFIX_CHARS = 4;
/** Choices per page: four lines of at most ~28 characters keep a page under the limit. */
export const PAGE_SIZE = 4;
export const MAX_QUANTITY = 20;
/** Distinct dishes in one USSD cart (the orders context allows more; a feature phone does not need them). */
export const MAX_CART_LINES = 5;
/** On the address list: a new address picked from the city's zones (a list holds at most 4). */
export const NEW_ADDRESS = '8';
/** Longer input is no menu choice (a PIN is 4 digits, a quantity 2). */
const MAX_INPUT_CHARS = 8;

export type MobileMoneyOperator = 'MTN' | 'ORANGE';

export interface Choice {
  id: string;
  label: string;
  /** XAF, for dishes. */
  priceMinor?: number;
}

export interface AddressChoice {
  label: string;
  latitude: number;
  longitude: number;
  text: string;
}

export interface CartLine {
  itemId: string;
  name: string;
  unitPriceMinor: number;
  quantity: number;
  /** The options of a reordered line, as ordered before. */
  optionIds?: string[];
}

export interface Cart {
  restaurantId: string;
  restaurantName: string;
  lines: CartLine[];
}

export type EndKey =
  | 'bye'
  | 'cancelled'
  | 'placed_wallet'
  | 'placed_momo'
  | 'wallet_refused'
  | 'refused'
  | 'locked'
  | 'account_unavailable'
  | 'no_address'
  | 'expired'
  | 'status'
  | 'no_orders'
  | 'unavailable';

export interface Said {
  key: TextKey;
  params?: Record<string, string | number>;
}

export type Step =
  | { kind: 'language' }
  | { kind: 'set_pin' }
  | { kind: 'confirm_pin'; draft: string }
  | { kind: 'menu' }
  | { kind: 'recent'; page: number; choices: Choice[]; more: boolean }
  | { kind: 'restaurants'; page: number; choices: Choice[]; more: boolean }
  | {
      kind: 'dishes';
      restaurantId: string;
      restaurantName: string;
      page: number;
      choices: Choice[];
      more: boolean;
    }
  | { kind: 'quantity'; dish: Choice }
  | { kind: 'cart' }
  | { kind: 'address'; choices: AddressChoice[] }
  /**
   * A new address (docs/ussd.md "A new address"): the cities offering zones (`cityId` null),
   * else the zones of `cityId`, four a page; then the zone picked, to confirm.
   */
  | {
      kind: 'zones';
      cityId: string | null;
      cityName: string;
      page: number;
      choices: Choice[];
      more: boolean;
      /** `browse`: the zone picked lists its restaurants (no address); absent: a new address. */
      purpose?: 'browse';
    }
  | { kind: 'zone_confirm'; cityId: string; zone: Choice; city: string }
  /**
   * The open restaurants delivering to a zone's centre (docs/ussd.md "Restaurants by
   * neighbourhood"), four a page: for a customer with neither favourites nor orders.
   */
  | {
      kind: 'zone_restaurants';
      cityId: string;
      cityName: string;
      zoneId: string;
      zoneName: string;
      page: number;
      choices: Choice[];
      more: boolean;
    }
  | { kind: 'payment' }
  | { kind: 'confirm'; totalMinor: number; deliveryFeeMinor: number }
  | { kind: 'end'; message: { key: EndKey; params?: Record<string, string | number> } };

export interface Session {
  language: Language | null;
  /** Has a USSD PIN (an account the phone number proved). */
  registered: boolean;
  /** The Mobile Money operator of the calling number, when it has one we collect from. */
  operator: MobileMoneyOperator | null;
  step: Step;
  cart: Cart | null;
  address: AddressChoice | null;
  payment: 'wallet' | 'mobile_money' | null;
  /** A line shown above the next screen (an invalid choice, a wrong PIN). */
  notice: Said | null;
}

export type Action =
  | { type: 'remember_language'; language: Language }
  | { type: 'register'; pin: string }
  | { type: 'load_recent'; page: number }
  | { type: 'load_restaurants'; page: number }
  | { type: 'load_dishes'; restaurantId: string; restaurantName: string; page: number }
  | { type: 'reorder'; orderId: string }
  | { type: 'load_addresses' }
  /** The cities offering zones (`cityId` null: the service may pick the caller's), or a city's zones. */
  | { type: 'load_zones'; cityId: string | null; page: number; purpose?: 'browse' }
  /** The open restaurants that deliver to the zone's centre (the catalog's delivery terms). */
  | { type: 'load_zone_restaurants'; cityId: string; zoneId: string; page: number }
  /** Save the zone's address through identity (reused when already saved) and deliver there. */
  | { type: 'save_zone_address'; cityId: string; zoneId: string }
  | { type: 'quote' }
  | { type: 'place'; pin: string }
  | { type: 'status' };

export interface Advanced {
  session: Session;
  action?: Action;
}

/** A new session: the language first when none is remembered, then the PIN when there is none. */
export function start(known: {
  language: Language | null;
  registered: boolean;
  operator: MobileMoneyOperator | null;
}): Session {
  return {
    language: known.language,
    registered: known.registered,
    operator: known.operator,
    step:
      known.language === null
        ? { kind: 'language' }
        : known.registered
          ? { kind: 'menu' }
          : { kind: 'set_pin' },
    cart: null,
    address: null,
    payment: null,
    notice: null,
  };
}

/** A 4-digit PIN that is not one digit repeated nor a straight run (1234, 9876). */
export function acceptablePin(pin: string): boolean {
  if (!/^\d{4}$/.test(pin)) return false;
  const digits = [...pin].map(Number);
  const steps = new Set(digits.slice(1).map((digit, index) => digit - digits[index]!));
  return !(steps.size === 1 && [0, 1, -1].includes([...steps][0]!));
}

const invalid = (session: Session): Advanced => ({
  session: { ...session, notice: { key: 'notice_invalid' } },
});
const to = (session: Session, step: Step, action?: Action): Advanced => ({
  session: { ...session, step, notice: null },
  ...(action === undefined ? {} : { action }),
});
const ended = (session: Session, key: EndKey): Advanced => to(session, { kind: 'end', message: { key } });

/** The choice a digit names on a page of choices (1-based), or undefined. */
function picked<T>(choices: readonly T[], input: string): T | undefined {
  if (!/^[1-9]$/.test(input)) return undefined;
  return choices[Number(input) - 1];
}

/**
 * One input against the current step. `digest` turns a PIN into what the session may keep (the
 * caller's keyed hash), so confirming a new PIN compares digests.
 */
export function advance(session: Session, rawInput: string, digest: (pin: string) => string): Advanced {
  const input = rawInput.trim();
  const step = session.step;
  if (step.kind === 'end') return { session };
  if (input.length === 0 || input.length > MAX_INPUT_CHARS || !/^\d+$/.test(input)) return invalid(session);
  switch (step.kind) {
    case 'language': {
      const language: Language | undefined = input === '1' ? 'fr' : input === '2' ? 'en' : undefined;
      if (language === undefined) return invalid(session);
      const next = { ...session, language };
      return to(next, session.registered ? { kind: 'menu' } : { kind: 'set_pin' }, {
        type: 'remember_language',
        language,
      });
    }
    case 'set_pin':
      if (!acceptablePin(input)) return { session: { ...session, notice: { key: 'notice_pin_format' } } };
      return to(session, { kind: 'confirm_pin', draft: digest(input) });
    case 'confirm_pin':
      if (digest(input) !== step.draft)
        return {
          session: { ...session, step: { kind: 'set_pin' }, notice: { key: 'notice_pin_mismatch' } },
        };
      return to({ ...session, registered: true }, { kind: 'menu' }, { type: 'register', pin: input });
    case 'menu':
      switch (input) {
        case '1':
          return to(
            session,
            { kind: 'recent', page: 0, choices: [], more: false },
            { type: 'load_recent', page: 0 },
          );
        case '2':
          return to(
            session,
            { kind: 'restaurants', page: 0, choices: [], more: false },
            { type: 'load_restaurants', page: 0 },
          );
        case '3':
          return to(session, { kind: 'end', message: { key: 'no_orders' } }, { type: 'status' });
        case '4':
          return to(session, { kind: 'language' });
        case '0':
          return ended(session, 'bye');
        default:
          return invalid(session);
      }
    case 'recent': {
      if (input === '9' && step.more)
        return to(
          session,
          { ...step, page: step.page + 1, choices: [] },
          { type: 'load_recent', page: step.page + 1 },
        );
      if (input === '0')
        return step.page === 0
          ? to(session, { kind: 'menu' })
          : to(
              session,
              { ...step, page: step.page - 1, choices: [] },
              { type: 'load_recent', page: step.page - 1 },
            );
      const order = picked(step.choices, input);
      if (order === undefined) return invalid(session);
      return to(session, { kind: 'address', choices: [] }, { type: 'reorder', orderId: order.id });
    }
    case 'restaurants': {
      if (input === '9' && step.more)
        return to(
          session,
          { ...step, page: step.page + 1, choices: [] },
          { type: 'load_restaurants', page: step.page + 1 },
        );
      if (input === '0')
        return step.page === 0
          ? to(session, { kind: 'menu' })
          : to(
              session,
              { ...step, page: step.page - 1, choices: [] },
              { type: 'load_restaurants', page: step.page - 1 },
            );
      const restaurant = picked(step.choices, input);
      if (restaurant === undefined) return invalid(session);
      return dishesOf(session, restaurant.id, restaurant.label, 0);
    }
    case 'dishes': {
      if (input === '9' && step.more)
        return dishesOf(session, step.restaurantId, step.restaurantName, step.page + 1);
      if (input === '0') {
        if (step.page > 0) return dishesOf(session, step.restaurantId, step.restaurantName, step.page - 1);
        return hasLines(session)
          ? to(session, { kind: 'cart' })
          : to(
              session,
              { kind: 'restaurants', page: 0, choices: [], more: false },
              { type: 'load_restaurants', page: 0 },
            );
      }
      const dish = picked(step.choices, input);
      if (dish === undefined) return invalid(session);
      // A dish of another restaurant starts a new cart (one order is one restaurant).
      const cart: Cart =
        session.cart !== null && session.cart.restaurantId === step.restaurantId
          ? session.cart
          : { restaurantId: step.restaurantId, restaurantName: step.restaurantName, lines: [] };
      return to({ ...session, cart }, { kind: 'quantity', dish });
    }
    case 'quantity': {
      const quantity = Number(input);
      if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) return invalid(session);
      const cart = session.cart!;
      const existing = cart.lines.find((line) => line.itemId === step.dish.id);
      if (existing === undefined && cart.lines.length >= MAX_CART_LINES) return to(session, { kind: 'cart' });
      const lines =
        existing === undefined
          ? [
              ...cart.lines,
              {
                itemId: step.dish.id,
                name: step.dish.label,
                unitPriceMinor: step.dish.priceMinor ?? 0,
                quantity,
              },
            ]
          : cart.lines.map((line) =>
              line.itemId === step.dish.id
                ? { ...line, quantity: Math.min(MAX_QUANTITY, line.quantity + quantity) }
                : line,
            );
      return to({ ...session, cart: { ...cart, lines } }, { kind: 'cart' });
    }
    case 'cart': {
      const cart = session.cart;
      if (input === '1' && cart !== null) return dishesOf(session, cart.restaurantId, cart.restaurantName, 0);
      if (input === '2' && hasLines(session))
        return to(session, { kind: 'address', choices: [] }, { type: 'load_addresses' });
      if (input === '0') return ended({ ...session, cart: null }, 'cancelled');
      return invalid(session);
    }
    case 'address': {
      if (input === '0') return to(session, { kind: 'cart' });
      if (input === NEW_ADDRESS) return newAddress(session);
      const address = picked(step.choices, input);
      if (address === undefined) return invalid(session);
      return to({ ...session, address }, { kind: 'payment' });
    }
    case 'zones': {
      const purpose = step.purpose === 'browse' ? { purpose: 'browse' as const } : {};
      if (input === '9' && step.more)
        return to(
          session,
          { ...step, page: step.page + 1, choices: [] },
          { type: 'load_zones', cityId: step.cityId, page: step.page + 1, ...purpose },
        );
      if (input === '0')
        return step.page === 0
          ? to(session, step.purpose === 'browse' ? { kind: 'menu' } : { kind: 'cart' })
          : to(
              session,
              { ...step, page: step.page - 1, choices: [] },
              { type: 'load_zones', cityId: step.cityId, page: step.page - 1, ...purpose },
            );
      const choice = picked(step.choices, input);
      if (choice === undefined) return invalid(session);
      if (step.cityId === null)
        return to(
          session,
          {
            kind: 'zones',
            cityId: choice.id,
            cityName: choice.label,
            page: 0,
            choices: [],
            more: false,
            ...purpose,
          },
          { type: 'load_zones', cityId: choice.id, page: 0, ...purpose },
        );
      if (step.purpose === 'browse') return zoneRestaurants(session, step.cityId, step.cityName, choice, 0);
      return to(session, { kind: 'zone_confirm', cityId: step.cityId, zone: choice, city: step.cityName });
    }
    case 'zone_restaurants': {
      const zone = { id: step.zoneId, label: step.zoneName };
      if (input === '9' && step.more)
        return zoneRestaurants(session, step.cityId, step.cityName, zone, step.page + 1);
      if (input === '0')
        return step.page === 0
          ? to(
              session,
              {
                kind: 'zones',
                cityId: step.cityId,
                cityName: step.cityName,
                page: 0,
                choices: [],
                more: false,
                purpose: 'browse',
              },
              { type: 'load_zones', cityId: step.cityId, page: 0, purpose: 'browse' },
            )
          : zoneRestaurants(session, step.cityId, step.cityName, zone, step.page - 1);
      const restaurant = picked(step.choices, input);
      if (restaurant === undefined) return invalid(session);
      return dishesOf(session, restaurant.id, restaurant.label, 0);
    }
    case 'zone_confirm': {
      if (input === '0') return newAddress(session);
      if (input !== '1') return invalid(session);
      // The step stays until the service has saved the address (then payment).
      return {
        session: { ...session, notice: null },
        action: { type: 'save_zone_address', cityId: step.cityId, zoneId: step.zone.id },
      };
    }
    case 'payment': {
      if (input === '0') return to(session, { kind: 'cart' });
      const payment =
        input === '1' ? 'wallet' : input === '2' && session.operator !== null ? 'mobile_money' : undefined;
      if (payment === undefined) return invalid(session);
      return to(
        { ...session, payment },
        { kind: 'confirm', totalMinor: 0, deliveryFeeMinor: 0 },
        { type: 'quote' },
      );
    }
    case 'confirm':
      if (input === '0') return ended({ ...session, cart: null }, 'cancelled');
      if (!/^\d{4}$/.test(input)) return { session: { ...session, notice: { key: 'notice_pin_format' } } };
      // The step stays: the service ends the session with the order, or shows a wrong PIN here.
      return { session: { ...session, notice: null }, action: { type: 'place', pin: input } };
  }
}

/** A new address: the cities first (the service goes straight to the caller's city when it knows it). */
function newAddress(session: Session): Advanced {
  return to(
    session,
    { kind: 'zones', cityId: null, cityName: '', page: 0, choices: [], more: false },
    { type: 'load_zones', cityId: null, page: 0 },
  );
}

/**
 * Restaurants by neighbourhood (a customer with no favourite and no order has no list of their
 * own): the cities offering zones, or the caller's city's zones; the zone picked lists the open
 * restaurants delivering there.
 */
export function browseByZone(session: Session): Advanced {
  return to(
    session,
    { kind: 'zones', cityId: null, cityName: '', page: 0, choices: [], more: false, purpose: 'browse' },
    { type: 'load_zones', cityId: null, page: 0, purpose: 'browse' },
  );
}

function zoneRestaurants(
  session: Session,
  cityId: string,
  cityName: string,
  zone: Choice,
  page: number,
): Advanced {
  return to(
    session,
    {
      kind: 'zone_restaurants',
      cityId,
      cityName,
      zoneId: zone.id,
      zoneName: zone.label,
      page,
      choices: [],
      more: false,
    },
    { type: 'load_zone_restaurants', cityId, zoneId: zone.id, page },
  );
}

function hasLines(session: Session): boolean {
  return session.cart !== null && session.cart.lines.length > 0;
}

function dishesOf(session: Session, restaurantId: string, restaurantName: string, page: number): Advanced {
  return to(
    session,
    { kind: 'dishes', restaurantId, restaurantName, page, choices: [], more: false },
    { type: 'load_dishes', restaurantId, restaurantName, page },
  );
}

/**
 * A page the service loaded: shown, or, when there is nothing on the first page, the menu again
 * with a line saying so (a later page is never empty: `more` said there was one).
 */
export function listed(session: Session, choices: Choice[], more: boolean): Session {
  const step = session.step;
  if (
    step.kind !== 'recent' &&
    step.kind !== 'restaurants' &&
    step.kind !== 'dishes' &&
    step.kind !== 'zones' &&
    step.kind !== 'zone_restaurants'
  )
    return session;
  // No neighbourhood offered over USSD (no city with a zone we deliver to): browsing has nothing
  // to show (the menu again, saying so); a new address is added in the app.
  if (step.kind === 'zones' && choices.length === 0)
    return step.purpose === 'browse'
      ? { ...session, step: { kind: 'menu' }, notice: { key: 'no_restaurants' } }
      : { ...session, step: { kind: 'end', message: { key: 'no_address' } }, notice: null };
  // Nobody open delivers there now: another neighbourhood of the city (the service loads them).
  if (step.kind === 'zone_restaurants' && choices.length === 0)
    return {
      ...session,
      step: {
        kind: 'zones',
        cityId: step.cityId,
        cityName: step.cityName,
        page: 0,
        choices: [],
        more: false,
        purpose: 'browse',
      },
      notice: { key: 'no_zone_restaurants', params: { zone: clip(step.zoneName, 40) } },
    };
  if (choices.length === 0) {
    const key: TextKey =
      step.kind === 'recent' ? 'no_orders' : step.kind === 'restaurants' ? 'no_restaurants' : 'no_dishes';
    return {
      ...session,
      step: step.kind === 'dishes' && hasLines(session) ? { kind: 'cart' } : { kind: 'menu' },
      notice: { key },
    };
  }
  return { ...session, step: { ...step, choices: choices.slice(0, PAGE_SIZE), more } };
}

/**
 * The delivery addresses the service found; none opens the new-address steps (the service then
 * loads the cities or zones: `needsZones`).
 */
export function addressed(session: Session, choices: AddressChoice[]): Session {
  if (choices.length === 0)
    return {
      ...session,
      step: { kind: 'zones', cityId: null, cityName: '', page: 0, choices: [], more: false },
    };
  return { ...session, step: { kind: 'address', choices: choices.slice(0, PAGE_SIZE) } };
}

/** A zone address saved by the service: delivered there, payment next. */
export function zoneAddressed(session: Session, address: AddressChoice): Session {
  return { ...session, address, step: { kind: 'payment' }, notice: null };
}

/** What the cart costs before delivery (the confirmation shows the priced total). */
export function subtotalOf(cart: Cart | null): number {
  return (cart?.lines ?? []).reduce((sum, line) => sum + line.unitPriceMinor * line.quantity, 0);
}

export interface Screen {
  text: string;
  end: boolean;
}

/** Shortens a label to `width` characters (an ellipsis marks the cut). */
function clip(label: string, width: number): string {
  const single = label.replace(/\s+/g, ' ').trim();
  return single.length <= width ? single : `${single.slice(0, Math.max(1, width - 1))}…`;
}

/**
 * Lines above and below a list of choices, fitted: the choices share what the fixed lines leave
 * of the screen, each clipped to its share.
 */
function fitted(head: string[], labels: string[], foot: string[], suffixes: string[] = []): string {
  const budget = SCREEN_MAX_CHARS - PREFIX_CHARS;
  const fixed = [...head, ...foot].join('\n').length + (head.length + foot.length > 0 ? 1 : 0);
  const extra = labels.map((_, index) => `${index + 1}. `.length + 1 + (suffixes[index]?.length ?? 0));
  const share = Math.floor((budget - fixed - extra.reduce((a, b) => a + b, 0)) / Math.max(1, labels.length));
  const lines = labels.map(
    (label, index) => `${index + 1}. ${clip(label, Math.max(3, share))}${suffixes[index] ?? ''}`,
  );
  return hardLimit([...head, ...lines, ...foot].join('\n'));
}

/** The last guard: no screen is ever longer than the limit, whatever a name holds. */
function hardLimit(text: string): string {
  const budget = SCREEN_MAX_CHARS - PREFIX_CHARS;
  return text.length <= budget ? text : `${text.slice(0, budget - 1)}…`;
}

/** The screen of the session's step, in its language (both languages greet until one is chosen). */
export function render(session: Session): Screen {
  const language: Language = session.language ?? 'fr';
  const t = (key: TextKey, params?: Record<string, string | number>) => say(language, key, params);
  const notice = session.notice === null ? [] : [t(session.notice.key, session.notice.params)];
  const step = session.step;
  const paging = (more: boolean) => [...(more ? [t('next_page')] : []), t('back')].join(' ');
  const screen = (text: string, end = false): Screen => ({ text: hardLimit(text), end });
  switch (step.kind) {
    case 'language':
      return screen([...notice, t('language')].join('\n'));
    case 'set_pin':
      return screen([...notice, t('set_pin')].join('\n'));
    case 'confirm_pin':
      return screen(t('confirm_pin'));
    case 'menu':
      return screen([...notice, t('menu')].join('\n'));
    case 'recent':
    case 'restaurants':
      return {
        text: fitted(
          [...notice, t(step.kind)],
          step.choices.map((choice) => choice.label),
          [paging(step.more)],
        ),
        end: false,
      };
    case 'dishes':
      return {
        text: fitted(
          [...notice, t('dishes', { restaurant: clip(step.restaurantName, 40) })],
          step.choices.map((choice) => choice.label),
          [paging(step.more)],
          step.choices.map((choice) => ` ${money(choice.priceMinor ?? 0)}`),
        ),
        end: false,
      };
    case 'quantity':
      return screen(
        [
          ...notice,
          t('quantity', {
            dish: clip(step.dish.label, 60),
            price: money(step.dish.priceMinor ?? 0),
            max: MAX_QUANTITY,
          }),
        ].join('\n'),
      );
    case 'cart':
      return screen(
        [
          ...notice,
          t('cart', {
            count: (session.cart?.lines ?? []).reduce((sum, line) => sum + line.quantity, 0),
            subtotal: money(subtotalOf(session.cart)),
          }),
        ].join('\n'),
      );
    case 'address':
      return {
        text: fitted(
          [...notice, t('address')],
          step.choices.map((choice) => choice.label),
          [t('new_address'), t('back')],
        ),
        end: false,
      };
    case 'zones':
      return {
        text: fitted(
          [
            ...notice,
            step.cityId === null ? t('zone_city') : t('zone_pick', { city: clip(step.cityName, 30) }),
          ],
          step.choices.map((choice) => choice.label),
          [paging(step.more)],
        ),
        end: false,
      };
    case 'zone_restaurants':
      return {
        text: fitted(
          [...notice, t('zone_restaurants', { zone: clip(step.zoneName, 30) })],
          step.choices.map((choice) => choice.label),
          [paging(step.more)],
        ),
        end: false,
      };
    case 'zone_confirm':
      return screen(
        [...notice, t('zone_confirm', { zone: clip(step.zone.label, 32), city: clip(step.city, 24) })].join(
          '\n',
        ),
      );
    case 'payment':
      return screen(
        [
          ...notice,
          t('payment'),
          t('payment_wallet'),
          ...(session.operator === null ? [] : [t('payment_momo', { operator: session.operator })]),
          t('back'),
        ].join('\n'),
      );
    case 'confirm':
      return screen(
        [
          ...notice,
          t('confirm', {
            total: money(step.totalMinor),
            fee: money(step.deliveryFeeMinor),
            address: clip(session.address?.label ?? '', 40),
          }),
        ].join('\n'),
      );
    case 'end':
      return screen(t(step.message.key, step.message.params), true);
  }
}
