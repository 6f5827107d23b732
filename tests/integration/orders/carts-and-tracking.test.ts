import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTrackingToken, TRACKING_PAGE_BYTES } from '../../../src/modules/orders/tracking.js';
import { problemOf } from '../../../src/http/errors.js';
import { DomainError } from '../../../src/shared/errors.js';
import { act, authHeader, orderWorld, placeOrder, type OrderWorld } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
});
afterAll(async () => world?.testApp.close());

const inject = (options: InjectOptions) => world.testApp.app.inject(options);

describe('carts', () => {
  it('a visitor gets a cart token, keeps one restaurant per cart, and the cart expires 30 minutes after its last change', async () => {
    const first = await inject({
      method: 'POST',
      url: '/v1/cart/items',
      payload: { restaurantId: world.restaurantId, itemId: world.ndoleId, quantity: 2 },
    });
    expect(first.statusCode, first.body).toBe(200);
    const token = first.json().cartToken as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const expiresInMs = Date.parse(first.json().expiresAt) - Date.now();
    expect(expiresInMs).toBeGreaterThan(29 * 60_000);
    expect(expiresInMs).toBeLessThanOrEqual(30 * 60_000);
    const headers = { 'x-cart-token': token };
    const second = await inject({
      method: 'POST',
      url: '/v1/cart/items',
      headers,
      payload: { restaurantId: world.restaurantId, itemId: world.ndoleId, quantity: 1 },
    });
    expect(second.json().items).toEqual([{ itemId: world.ndoleId, quantity: 3, optionIds: [] }]);
    const other = await inject({
      method: 'POST',
      url: '/v1/cart/items',
      headers,
      payload: { restaurantId: '00000000-0000-4000-8000-000000000001', itemId: world.jusId, quantity: 1 },
    });
    expect(other.statusCode).toBe(409);
    expect(other.json().code).toBe('cart_other_restaurant');
    // Expiry: an expired cart reads as empty.
    await world.testApp.services.db
      .updateTable('order_carts')
      .set({ expires_at: new Date(Date.now() - 1_000) })
      .where('owner_kind', '=', 'token')
      .execute();
    expect((await inject({ method: 'GET', url: '/v1/cart', headers })).json().items).toEqual([]);
    expect(
      (await inject({ method: 'GET', url: '/v1/cart', headers: { 'x-cart-token': 'bad' } })).statusCode,
    ).toBe(400);
  });

  it("a customer's cart is kept (no expiry) and the guest cart merges into it on login", async () => {
    const customer = world.actors.customer;
    const kept = await inject({
      method: 'PUT',
      url: '/v1/cart',
      headers: authHeader(customer.accessToken),
      payload: { restaurantId: world.restaurantId, items: [{ itemId: world.jusId, quantity: 1 }] },
    });
    expect(kept.json().expiresAt).toBeNull();
    const guest = await inject({
      method: 'PUT',
      url: '/v1/cart',
      payload: {
        restaurantId: world.restaurantId,
        items: [
          { itemId: world.jusId, quantity: 2 },
          { itemId: world.ndoleId, quantity: 1 },
        ],
      },
    });
    const token = guest.json().cartToken as string;
    const merged = await inject({
      method: 'GET',
      url: '/v1/cart',
      headers: { ...authHeader(customer.accessToken), 'x-cart-token': token },
    });
    expect(merged.json().items).toEqual(
      expect.arrayContaining([
        { itemId: world.jusId, quantity: 3, optionIds: [] },
        { itemId: world.ndoleId, quantity: 1, optionIds: [] },
      ]),
    );
    // The guest cart is gone once merged.
    expect(
      (await inject({ method: 'GET', url: '/v1/cart', headers: { 'x-cart-token': token } })).json().items,
    ).toEqual([]);
  });
});

describe('public tracking', () => {
  it('answers JSON with the timeline, ETA, restaurant, masked address and PIN hint, and never the codes', async () => {
    const order = (await placeOrder(world, world.actors.customer.accessToken)).json();
    const token = (order.trackingUrl as string).split('/').pop()!;
    expect(Buffer.from(token.slice(22), 'base64url')).toHaveLength(16); // 128 random bits
    const tracked = await inject({
      method: 'GET',
      url: `/v1/track/${token}`,
      headers: { 'accept-language': 'en' },
    });
    expect(tracked.statusCode).toBe(200);
    const body = tracked.json();
    expect(body).toMatchObject({
      status: 'PLACED',
      restaurant: { name: 'Chez Mama Ngono' },
      address: '•••, Bonapriso, Douala',
      driverAssigned: false,
    });
    expect(body.estimatedDeliveryAt).not.toBeNull();
    expect(body.deliveryPinHint).toContain('4-digit');
    expect(tracked.body).not.toContain(order.deliveryPin === '0000' ? 'never' : `"${order.deliveryPin}"`);
    expect(tracked.body).not.toContain('Rue 1.234');
    // A token with one character changed, or garbage, is 404.
    const tampered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expect((await inject({ method: 'GET', url: `/v1/track/${tampered}` })).statusCode).toBe(404);
    expect((await inject({ method: 'GET', url: '/v1/track/xxxxxxxxxxxxxxxx' })).statusCode).toBe(404);
  });

  it('speaks the customer’s language: ?lang, else Accept-Language, else the profile, else French', async () => {
    const customer = world.actors.customer;
    const setLocale = async (locale: 'fr' | 'en') => {
      const response = await inject({
        method: 'PATCH',
        url: '/v1/me',
        headers: authHeader(customer.accessToken),
        payload: { locale },
      });
      expect(response.statusCode, response.body).toBe(200);
    };
    const order = (await placeOrder(world, customer.accessToken)).json();
    const token = (order.trackingUrl as string).split('/').pop()!;
    const page = async (query: string, headers: Record<string, string> = {}) => {
      const response = await inject({ method: 'GET', url: `/track/${token}${query}`, headers });
      expect(response.statusCode).toBe(200);
      expect(response.headers.vary).toContain('Accept-Language');
      return { language: response.headers['content-language'], body: response.body };
    };
    try {
      await setLocale('en');
      const english = await page('');
      expect(english.language).toBe('en');
      expect(english.body).toContain('<html lang="en">');
      expect(english.body).toContain('<title>Order tracking</title>');
      expect(english.body).not.toContain('Suivi de commande');
      expect((await page('', { 'accept-language': 'fr-CM,fr;q=0.9' })).body).toContain(
        '<title>Suivi de commande</title>',
      );
      expect((await page('?lang=fr', { 'accept-language': 'en' })).language).toBe('fr');
      expect((await page('?lang=de', { 'accept-language': 'en' })).language).toBe('en');
      await setLocale('fr');
      expect((await page('')).language).toBe('fr');
      // An unknown token gets a page too (its script says the link is invalid), in French by default.
      const unknown = await inject({ method: 'GET', url: '/track/xxxxxxxxxxxxxxxx' });
      expect(unknown.headers['content-language']).toBe('fr');

      const json = await inject({ method: 'GET', url: `/v1/track/${token}` });
      expect(json.headers['content-language']).toBe('fr');
      expect(json.json().deliveryPinHint).toMatch(/^Donnez au livreur le code de livraison à \d chiffres/);
      const asked = await inject({
        method: 'GET',
        url: `/v1/track/${token}`,
        headers: { 'accept-language': 'en' },
      });
      expect(asked.json().deliveryPinHint).toMatch(/^Give the driver the \d-digit delivery PIN/);
    } finally {
      await setLocale('en');
    }
  });

  it('serves a small page whose CSP allows only same-origin script and connections, and expires 24 h after delivery', async () => {
    const order = (await placeOrder(world, world.actors.customer.accessToken)).json();
    const token = (order.trackingUrl as string).split('/').pop()!;
    const page = await inject({
      method: 'GET',
      url: `/track/${token}`,
      headers: { host: 'track.example.cm' },
    });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' ws://track.example.cm wss://track.example.cm");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.body).not.toContain(token); // nothing from the request is echoed
    expect((await inject({ method: 'GET', url: '/track/assets/track.js' })).statusCode).toBe(200);
    expect(TRACKING_PAGE_BYTES).toBeLessThan(30 * 1024);

    const { owner } = world.actors;
    const accepted = (
      await act(world, order.id, 'accept', owner.accessToken, { preparationMinutes: 10 })
    ).json();
    await act(world, order.id, 'prepare', owner.accessToken);
    await act(world, order.id, 'ready', owner.accessToken);
    await act(world, order.id, 'claim', world.driver.accessToken);
    await act(world, order.id, 'pickup', world.driver.accessToken, { pickupCode: accepted.pickupCode });
    await act(world, order.id, 'deliver', world.driver.accessToken, { deliveryPin: order.deliveryPin });
    const { orders } = world.testApp.services.orders;
    const resolved = await resolveTrackingToken(orders, token);
    expect(resolved.expiresAt! - Date.parse(resolved.state.timeline.at(-1)!.at)).toBe(24 * 60 * 60_000);
    await expect(resolveTrackingToken(orders, token, resolved.expiresAt! - 1)).resolves.toBeDefined();
    const expired = await resolveTrackingToken(orders, token, resolved.expiresAt!).catch(
      (error: unknown) => error,
    );
    expect(expired).toBeInstanceOf(DomainError);
    expect(expired).toMatchObject({ context: 'orders', kind: 'gone', code: 'tracking_expired' });
    expect(problemOf(expired as DomainError).status).toBe(410);
  });
});
