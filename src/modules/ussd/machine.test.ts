import { describe, expect, it } from 'vitest';
import {
  acceptablePin,
  addressed,
  advance,
  browseByZone,
  listed,
  MAX_CART_LINES,
  render,
  SCREEN_MAX_CHARS,
  start,
  zoneAddressed,
  type Choice,
  type Session,
  type Step,
} from './machine.js';
import { TEXTS } from './texts.js';

const digest = (pin: string) => `d:${pin}`;
const member = (step: Step = { kind: 'menu' }, overrides: Partial<Session> = {}): Session => ({
  ...start({ language: 'en', registered: true, operator: 'MTN' }),
  step,
  ...overrides,
});
const LONG = 'Restaurant au nom vraiment très très long de Bonamoussadi, Douala IV, Cameroun';
const dishes = (count: number, name = 'Ndolé'): Choice[] =>
  Array.from({ length: count }, (_, index) => ({
    id: `item-${index}`,
    label: `${name} ${index}`,
    priceMinor: 2500,
  }));
const dishesStep = (choices = dishes(4), more = true): Step => ({
  kind: 'dishes',
  restaurantId: 'r1',
  restaurantName: 'Chez Mama',
  page: 0,
  choices,
  more,
});
const screenLength = (session: Session) => {
  const screen = render(session);
  return `${screen.end ? 'END' : 'CON'} ${screen.text}`.length;
};

describe('ussd session machine', () => {
  describe('first use', () => {
    it('given an unknown number, when it dials, then it chooses a language in both languages', () => {
      const session = start({ language: null, registered: false, operator: 'ORANGE' });
      expect(session.step).toEqual({ kind: 'language' });
      expect(render(session).text).toContain('Français');
      expect(render(session).text).toContain('English');
    });

    it('given the language screen, when it picks 2, then English is remembered and a PIN is asked', () => {
      const next = advance(start({ language: null, registered: false, operator: null }), '2', digest);
      expect(next.session.language).toBe('en');
      expect(next.session.step).toEqual({ kind: 'set_pin' });
      expect(next.action).toEqual({ type: 'remember_language', language: 'en' });
      expect(render(next.session).text).toBe(TEXTS.en.set_pin);
    });

    it('given a registered member without a language, when it picks 1, then the French menu follows', () => {
      const next = advance(start({ language: null, registered: true, operator: null }), '1', digest);
      expect(next.session.step).toEqual({ kind: 'menu' });
      expect(render(next.session).text).toBe(TEXTS.fr.menu);
    });

    it('given the PIN screen, when a weak PIN is typed, then it is refused with a reason and nothing moves', () => {
      const session = { ...start({ language: 'fr', registered: false, operator: null }) };
      for (const weak of ['1234', '0000', '9876', '12', '12345']) {
        const next = advance(session, weak, digest);
        expect(next.session.step).toEqual({ kind: 'set_pin' });
        expect(next.session.notice).toEqual({ key: 'notice_pin_format' });
        expect(next.action).toBeUndefined();
      }
    });

    it('given a PIN typed twice alike, then the register action carries it and the draft is a digest', () => {
      const first = advance(start({ language: 'en', registered: false, operator: null }), '2580', digest);
      expect(first.session.step).toEqual({ kind: 'confirm_pin', draft: 'd:2580' });
      const second = advance(first.session, '2580', digest);
      expect(second.action).toEqual({ type: 'register', pin: '2580' });
      expect(second.session.registered).toBe(true);
      expect(second.session.step).toEqual({ kind: 'menu' });
    });

    it('given a PIN confirmed differently, then it starts over and says why', () => {
      const first = advance(start({ language: 'en', registered: false, operator: null }), '2580', digest);
      const second = advance(first.session, '2581', digest);
      expect(second.action).toBeUndefined();
      expect(second.session.step).toEqual({ kind: 'set_pin' });
      expect(render(second.session).text).toContain(TEXTS.en.notice_pin_mismatch);
    });
  });

  describe('input', () => {
    it('given any step, when the input is not a number, empty or too long, then "invalid choice" and no action', () => {
      for (const input of ['', 'abc', '1a', '*', '#', '123456789', ' ', '-1', '1.5']) {
        const next = advance(member(), input, digest);
        expect(next.session.step).toEqual({ kind: 'menu' });
        expect(next.action).toBeUndefined();
        expect(render(next.session).text.startsWith(TEXTS.en.notice_invalid)).toBe(true);
      }
    });

    it('given an ended session, when anything comes, then nothing changes', () => {
      const ended = member({ kind: 'end', message: { key: 'bye' } });
      expect(advance(ended, '1', digest)).toEqual({ session: ended });
    });
  });

  describe('menu', () => {
    it('when 1, then the recent orders are loaded; 2 restaurants; 3 the last order; 4 language; 0 bye', () => {
      expect(advance(member(), '1', digest).action).toEqual({ type: 'load_recent', page: 0 });
      expect(advance(member(), '2', digest).action).toEqual({ type: 'load_restaurants', page: 0 });
      expect(advance(member(), '3', digest).action).toEqual({ type: 'status' });
      expect(advance(member(), '4', digest).session.step).toEqual({ kind: 'language' });
      const bye = advance(member(), '0', digest).session;
      expect(render(bye)).toEqual({ text: TEXTS.en.bye, end: true });
    });
  });

  describe('browsing', () => {
    it('given no recent order, when the list is empty, then the menu again with a line saying so', () => {
      const session = listed(member({ kind: 'recent', page: 0, choices: [], more: false }), [], false);
      expect(session.step).toEqual({ kind: 'menu' });
      expect(render(session).text.startsWith(TEXTS.en.no_orders)).toBe(true);
    });

    it('given a page of dishes with more, when 9, then the next page is loaded; 0 on page 0 goes back', () => {
      const session = member(dishesStep());
      expect(advance(session, '9', digest).action).toEqual({
        type: 'load_dishes',
        restaurantId: 'r1',
        restaurantName: 'Chez Mama',
        page: 1,
      });
      expect(advance(session, '0', digest).action).toEqual({ type: 'load_restaurants', page: 0 });
    });

    it('given dishes with long names, then each line is clipped before its price, never the price', () => {
      const text = render(member(dishesStep(dishes(4, LONG)), { notice: { key: 'notice_invalid' } })).text;
      expect(text.match(/… 2 500 XAF/g)).toHaveLength(4);
    });

    it('given the last page, when 9, then it is an invalid choice', () => {
      const next = advance(member(dishesStep(dishes(2), false)), '9', digest);
      expect(next.action).toBeUndefined();
      expect(next.session.notice).toEqual({ key: 'notice_invalid' });
    });

    it('given dishes, when 2 then 3, then the cart holds 3 of the second dish', () => {
      const quantity = advance(member(dishesStep()), '2', digest).session;
      expect(quantity.step).toEqual({ kind: 'quantity', dish: dishes(4)[1] });
      const cart = advance(quantity, '3', digest).session;
      expect(cart.step).toEqual({ kind: 'cart' });
      expect(cart.cart).toEqual({
        restaurantId: 'r1',
        restaurantName: 'Chez Mama',
        lines: [{ itemId: 'item-1', name: 'Ndolé 1', unitPriceMinor: 2500, quantity: 3 }],
      });
      expect(render(cart).text).toContain('7 500 XAF');
    });

    it('given a quantity screen, when 0, 21 or 99, then it is refused', () => {
      const quantity = advance(member(dishesStep()), '1', digest).session;
      for (const input of ['0', '21', '99'])
        expect(advance(quantity, input, digest).session.step.kind).toBe('quantity');
    });

    it('given a cart of another restaurant, when a dish is picked here, then the cart starts over', () => {
      const session = member(dishesStep(), {
        cart: {
          restaurantId: 'r0',
          restaurantName: 'Other',
          lines: [{ itemId: 'x', name: 'x', unitPriceMinor: 1, quantity: 1 }],
        },
      });
      const next = advance(advance(session, '1', digest).session, '1', digest).session;
      expect(next.cart?.restaurantId).toBe('r1');
      expect(next.cart?.lines).toHaveLength(1);
    });

    it(`given a cart of ${MAX_CART_LINES} dishes, when another is added, then the cart stays as it is`, () => {
      const lines = dishes(MAX_CART_LINES).map((dish) => ({
        itemId: dish.id,
        name: dish.label,
        unitPriceMinor: 1,
        quantity: 1,
      }));
      const session = member(
        { kind: 'quantity', dish: { id: 'new', label: 'New', priceMinor: 1 } },
        { cart: { restaurantId: 'r1', restaurantName: 'R', lines } },
      );
      expect(advance(session, '1', digest).session.cart?.lines).toHaveLength(MAX_CART_LINES);
    });
  });

  describe('checkout', () => {
    const withCart = (step: Step, overrides: Partial<Session> = {}) =>
      member(step, {
        cart: {
          restaurantId: 'r1',
          restaurantName: 'R',
          lines: [{ itemId: 'a', name: 'A', unitPriceMinor: 2500, quantity: 2 }],
        },
        ...overrides,
      });

    it('given a cart, when 2, then the addresses are loaded; with none a new address from the zones follows', () => {
      const next = advance(withCart({ kind: 'cart' }), '2', digest);
      expect(next.action).toEqual({ type: 'load_addresses' });
      const none = addressed(next.session, []);
      expect(none.step).toEqual({
        kind: 'zones',
        cityId: null,
        cityName: '',
        page: 0,
        choices: [],
        more: false,
      });
      // And when no city offers a zone, the session ends saying where to add one.
      expect(render(listed(none, [], false))).toEqual({ text: TEXTS.en.no_address, end: true });
    });

    describe("a new address from the city's zones", () => {
      const zones = (count: number, name = 'Akwa'): Choice[] =>
        Array.from({ length: count }, (_, index) => ({ id: `zone-${index}`, label: `${name} ${index}` }));
      const address = { label: 'Home', latitude: 4, longitude: 9, text: 'Rue 1' };

      it("given saved addresses, when 8, then the cities (or the caller's city) are loaded", () => {
        const list = addressed(withCart({ kind: 'cart' }), [address]);
        expect(render(list).text).toContain('8. New address');
        const next = advance(list, '8', digest);
        expect(next.action).toEqual({ type: 'load_zones', cityId: null, page: 0 });
        expect(next.session.step.kind).toBe('zones');
      });

      it('given the cities, when one is picked, then its zones are loaded', () => {
        const cities = listed(
          withCart({ kind: 'zones', cityId: null, cityName: '', page: 0, choices: [], more: false }),
          [
            { id: 'douala', label: 'Douala' },
            { id: 'yaounde', label: 'Yaoundé' },
          ],
          false,
        );
        expect(render(cities).text).toBe('Your city:\n1. Douala\n2. Yaoundé\n0. Back');
        const next = advance(cities, '2', digest);
        expect(next.action).toEqual({ type: 'load_zones', cityId: 'yaounde', page: 0 });
        expect(next.session.step).toMatchObject({ kind: 'zones', cityId: 'yaounde', cityName: 'Yaoundé' });
      });

      it('given zones four a page, when 9 then 0, then the next page then the previous are loaded; 0 on the first goes back to the cart', () => {
        const first = listed(
          withCart({
            kind: 'zones',
            cityId: 'douala',
            cityName: 'Douala',
            page: 0,
            choices: [],
            more: false,
          }),
          zones(6),
          true,
        );
        expect(render(first).text).toBe(
          'Your neighbourhood (Douala):\n1. Akwa 0\n2. Akwa 1\n3. Akwa 2\n4. Akwa 3\n9. More 0. Back',
        );
        const second = advance(first, '9', digest);
        expect(second.action).toEqual({ type: 'load_zones', cityId: 'douala', page: 1 });
        const page2 = listed(second.session, zones(2, 'Bonapriso'), false);
        expect(advance(page2, '9', digest).session.notice).toEqual({ key: 'notice_invalid' });
        expect(advance(page2, '0', digest).action).toEqual({ type: 'load_zones', cityId: 'douala', page: 0 });
        expect(advance(first, '0', digest).session.step).toEqual({ kind: 'cart' });
        expect(advance(first, '5', digest).session.notice).toEqual({ key: 'notice_invalid' });
      });

      it("given a zone picked, when 1, then the save action; the service's address leads to payment; 0 picks another", () => {
        const list = listed(
          withCart({
            kind: 'zones',
            cityId: 'douala',
            cityName: 'Douala',
            page: 0,
            choices: [],
            more: false,
          }),
          zones(2),
          false,
        );
        const confirm = advance(list, '2', digest).session;
        expect(confirm.step).toEqual({
          kind: 'zone_confirm',
          cityId: 'douala',
          zone: { id: 'zone-1', label: 'Akwa 1' },
          city: 'Douala',
        });
        expect(render(confirm).text).toBe(
          'Delivery to the centre of Akwa 1, Douala. The driver calls you on arrival.\n1. Confirm\n0. Another neighbourhood',
        );
        expect(render({ ...confirm, language: 'fr' }).text).toContain('Le livreur vous appelle à l’arrivée');
        const save = advance(confirm, '1', digest);
        expect(save.action).toEqual({ type: 'save_zone_address', cityId: 'douala', zoneId: 'zone-1' });
        expect(save.session.step).toEqual(confirm.step);
        const saved = { label: 'Akwa 1', latitude: 4.05, longitude: 9.7, text: 'Akwa 1, Douala' };
        const payment = zoneAddressed(save.session, saved);
        expect(payment.step).toEqual({ kind: 'payment' });
        expect(payment.address).toEqual(saved);
        expect(advance(confirm, '0', digest).action).toEqual({ type: 'load_zones', cityId: null, page: 0 });
        expect(advance(confirm, '3', digest).session.notice).toEqual({ key: 'notice_invalid' });
        expect(advance(confirm, 'abc', digest).action).toBeUndefined();
      });
    });

    it('given addresses, when 1, then payment; wallet or the operator of the number', () => {
      const address = { label: 'Home', latitude: 4, longitude: 9, text: 'Rue 1' };
      const payment = advance(addressed(withCart({ kind: 'cart' }), [address]), '1', digest).session;
      expect(payment.address).toEqual(address);
      expect(render(payment).text).toContain('MTN Mobile Money');
      const momo = advance(payment, '2', digest);
      expect(momo.session.payment).toBe('mobile_money');
      expect(momo.action).toEqual({ type: 'quote' });
    });

    it('given a number without Mobile Money, when 2 at payment, then invalid (the line is not shown)', () => {
      const session = withCart({ kind: 'payment' }, { operator: null });
      expect(render(session).text).not.toContain('Mobile Money');
      expect(advance(session, '2', digest).action).toBeUndefined();
    });

    it('given the confirmation, when a 4-digit PIN, then the place action and the step stays; 0 cancels', () => {
      const confirm = withCart({ kind: 'confirm', totalMinor: 5600, deliveryFeeMinor: 600 });
      expect(render(confirm).text).toContain('5 600 XAF');
      const placed = advance(confirm, '2580', digest);
      expect(placed.action).toEqual({ type: 'place', pin: '2580' });
      expect(placed.session.step).toEqual(confirm.step);
      const cancelled = advance(confirm, '0', digest).session;
      expect(render(cancelled)).toEqual({ text: TEXTS.en.cancelled, end: true });
      expect(cancelled.cart).toBeNull();
    });
  });

  describe('pins', () => {
    it('accepts four digits that are neither repeated nor a run', () => {
      expect(['2580', '1357', '9021', '1123'].every(acceptablePin)).toBe(true);
      expect(['1111', '1234', '4321', '6789', '123', 'abcd', '12 4'].some(acceptablePin)).toBe(false);
    });
  });

  describe('restaurants by neighbourhood (neither favourites nor orders)', () => {
    const names = (count: number, name = 'Chez Mama'): Choice[] =>
      Array.from({ length: count }, (_, index) => ({ id: `r-${index}`, label: `${name} ${index}` }));
    const ZONES: Choice[] = [
      { id: 'akwa', label: 'Akwa' },
      { id: 'bonapriso', label: 'Bonapriso' },
    ];
    const browsing = (cityId: string | null = 'douala'): Extract<Step, { kind: 'zones' }> => ({
      kind: 'zones',
      cityId,
      cityName: cityId === null ? '' : 'Douala',
      page: 0,
      choices: ZONES,
      more: false,
      purpose: 'browse',
    });

    it('given no restaurant of their own, when the service browses by zone, then the zones are loaded for browsing', () => {
      const next = browseByZone(member());
      expect(next.action).toEqual({ type: 'load_zones', cityId: null, page: 0, purpose: 'browse' });
      expect(next.session.step).toMatchObject({ kind: 'zones', cityId: null, purpose: 'browse' });
    });

    it('given the cities, when one is picked, then its zones are loaded for browsing', () => {
      const cities = member({ ...browsing(null), choices: [{ id: 'yaounde', label: 'Yaoundé' }] });
      const next = advance(cities, '1', digest);
      expect(next.action).toEqual({ type: 'load_zones', cityId: 'yaounde', page: 0, purpose: 'browse' });
      expect(next.session.step).toMatchObject({ kind: 'zones', cityId: 'yaounde', purpose: 'browse' });
    });

    it('given the zones, when one is picked, then its open restaurants are loaded (no address saved)', () => {
      const next = advance(member(browsing()), '2', digest);
      expect(next.action).toEqual({
        type: 'load_zone_restaurants',
        cityId: 'douala',
        zoneId: 'bonapriso',
        page: 0,
      });
      expect(next.session.step).toMatchObject({ kind: 'zone_restaurants', zoneName: 'Bonapriso', page: 0 });
      expect(next.session.address).toBeNull();
    });

    it('given the zones, when 0, then back to the menu (not the cart)', () => {
      expect(advance(member(browsing()), '0', digest).session.step).toEqual({ kind: 'menu' });
    });

    it('given a zone’s restaurants four a page, when 9 then 0, then the next page then the previous; 0 on the first goes back to the zones', () => {
      const loading = advance(member(browsing()), '1', digest).session;
      const page1 = listed(loading, names(4), true);
      const screen = render(page1).text;
      expect(screen).toMatch(/^Open, delivering to Akwa:\n1\. Chez Mama 0\n/);
      expect(screen).toContain('9. More 0. Back');
      const second = advance(page1, '9', digest);
      expect(second.action).toEqual({
        type: 'load_zone_restaurants',
        cityId: 'douala',
        zoneId: 'akwa',
        page: 1,
      });
      const page2 = listed(second.session, names(1, 'Le Wouri'), false);
      expect(render(page2).text).not.toContain('9.');
      expect(advance(page2, '0', digest).action).toEqual({
        type: 'load_zone_restaurants',
        cityId: 'douala',
        zoneId: 'akwa',
        page: 0,
      });
      const back = advance(page1, '0', digest);
      expect(back.action).toEqual({ type: 'load_zones', cityId: 'douala', page: 0, purpose: 'browse' });
      expect(back.session.step).toMatchObject({ kind: 'zones', cityId: 'douala', purpose: 'browse' });
    });

    it('given a zone’s restaurants, when one is picked, then its dishes are loaded as from the restaurants list', () => {
      const page = listed(advance(member(browsing()), '1', digest).session, names(2), false);
      const next = advance(page, '2', digest);
      expect(next.action).toEqual({
        type: 'load_dishes',
        restaurantId: 'r-1',
        restaurantName: 'Chez Mama 1',
        page: 0,
      });
      expect(advance(page, '3', digest).session.notice).toEqual({ key: 'notice_invalid' });
    });

    it('given a zone where nobody open delivers now, then the zones again with a line saying so, in French too', () => {
      for (const language of ['en', 'fr'] as const) {
        const loading = advance(member(browsing(), { language }), '1', digest).session;
        const empty = listed(loading, [], false);
        expect(empty.step).toMatchObject({ kind: 'zones', cityId: 'douala', purpose: 'browse' });
        expect(empty.notice).toEqual({ key: 'no_zone_restaurants', params: { zone: 'Akwa' } });
        // The service then loads the zones: the screen names the zone above them.
        const shown = listed(empty, ZONES, false);
        expect(render(shown).text.split('\n')[0]).toBe(
          language === 'en'
            ? 'No open restaurant delivers to Akwa now.'
            : 'Aucun restaurant ouvert ne livre Akwa maintenant.',
        );
      }
    });

    it('given no zone offered anywhere, when browsing, then the menu again saying there is no restaurant to list', () => {
      const none = listed(browseByZone(member()).session, [], false);
      expect(none.step).toEqual({ kind: 'menu' });
      expect(render(none).text.split('\n')[0]).toBe(TEXTS.en.no_restaurants);
      // The address picker keeps its own ending.
      const address = listed(
        member({ kind: 'zones', cityId: null, cityName: '', page: 0, choices: [], more: false }),
        [],
        false,
      );
      expect(address.step).toEqual({ kind: 'end', message: { key: 'no_address' } });
    });
  });

  describe('every screen fits in 182 characters, prefix included, in both languages', () => {
    const long = dishes(4, LONG);
    const steps: Step[] = [
      { kind: 'language' },
      { kind: 'set_pin' },
      { kind: 'confirm_pin', draft: 'x' },
      { kind: 'menu' },
      { kind: 'recent', page: 1, choices: long, more: true },
      { kind: 'restaurants', page: 0, choices: long, more: true },
      { kind: 'dishes', restaurantId: 'r', restaurantName: LONG, page: 0, choices: long, more: true },
      { kind: 'quantity', dish: { id: 'x', label: LONG, priceMinor: 1_250_000 } },
      { kind: 'cart' },
      {
        kind: 'address',
        choices: long.map((choice) => ({ label: choice.label, latitude: 0, longitude: 0, text: LONG })),
      },
      { kind: 'zones', cityId: null, cityName: '', page: 1, choices: long, more: true },
      { kind: 'zones', cityId: 'douala', cityName: LONG, page: 1, choices: long, more: true },
      { kind: 'zone_confirm', cityId: 'douala', zone: { id: 'z', label: LONG }, city: LONG },
      {
        kind: 'zones',
        cityId: 'douala',
        cityName: LONG,
        page: 1,
        choices: long,
        more: true,
        purpose: 'browse',
      },
      {
        kind: 'zone_restaurants',
        cityId: 'douala',
        cityName: LONG,
        zoneId: 'z',
        zoneName: LONG,
        page: 1,
        choices: long,
        more: true,
      },
      { kind: 'payment' },
      { kind: 'confirm', totalMinor: 1_234_567, deliveryFeeMinor: 12_345 },
      ...(
        [
          'bye',
          'cancelled',
          'wallet_refused',
          'locked',
          'account_unavailable',
          'no_address',
          'refused',
          'expired',
          'no_orders',
          'unavailable',
        ] as const
      ).map((key) => ({ kind: 'end' as const, message: { key, params: { reason: LONG, minutes: 30 } } })),
      {
        kind: 'end',
        message: {
          key: 'placed_momo',
          params: { number: 'ABCDEF12', total: '1 234 567 XAF', operator: 'ORANGE' },
        },
      },
      {
        kind: 'end',
        message: { key: 'placed_wallet', params: { number: 'ABCDEF12', total: '1 234 567 XAF' } },
      },
      { kind: 'end', message: { key: 'refused', params: { reason: TEXTS.fr.reason_rate_limited } } },
      {
        kind: 'end',
        message: {
          key: 'status',
          params: { number: 'ABCDEF12', restaurant: LONG, status: 'en préparation' },
        },
      },
    ];
    for (const language of ['fr', 'en'] as const)
      for (const step of steps)
        it(`${language} ${step.kind}${step.kind === 'end' ? ` ${step.message.key}` : ''}`, () => {
          for (const notice of [null, { key: 'notice_pin_wrong' as const, params: { left: 4 } }]) {
            const session = member(step, {
              language,
              notice,
              address: { label: LONG, latitude: 0, longitude: 0, text: LONG },
              cart: {
                restaurantId: 'r',
                restaurantName: LONG,
                lines: [{ itemId: 'a', name: LONG, unitPriceMinor: 99_999, quantity: 20 }],
              },
            });
            expect(screenLength(session)).toBeLessThanOrEqual(SCREEN_MAX_CHARS);
            // Nothing unfilled reaches a customer.
            expect(render(session).text).not.toMatch(/\{\w+\}/);
          }
        });
  });
});
