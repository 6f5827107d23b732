import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARE_PAGE_MAX_BYTES } from '../../../src/modules/community/index.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { patch, post } from '../catalog/helpers.js';
import { orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { until } from '../payments/helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
}, 120_000);
afterAll(async () => world?.testApp.close());

const inject = (options: InjectOptions) => world.testApp.app.inject(options);
const as = (token: string) => authHeader(token);
const favourites = async (token: string) =>
  (await inject({ method: 'GET', url: '/v1/me/favourites', headers: as(token) })).json();

describe('favourites', () => {
  it('a customer favourites a restaurant and a dish once each, sees them with their state, and removes them', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const put = (url: string) => inject({ method: 'PUT', url, headers: as(customer.accessToken) });
    const first = await put(`/v1/me/favourites/dishes/${world.ndoleId}`);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ created: true });
    expect((await put(`/v1/me/favourites/dishes/${world.ndoleId}`)).json()).toEqual({ created: false });
    expect((await put(`/v1/me/favourites/restaurants/${world.restaurantId}`)).json()).toEqual({
      created: true,
    });

    const listed = await favourites(customer.accessToken);
    expect(listed.restaurants.map((row: { id: string }) => row.id)).toEqual([world.restaurantId]);
    expect(listed.restaurants[0]).toMatchObject({ name: 'Chez Mama Ngono', active: true });
    expect(listed.dishes).toHaveLength(1);
    expect(listed.dishes[0]).toMatchObject({
      id: world.ndoleId,
      restaurantId: world.restaurantId,
      name: { fr: 'Ndolé' },
      priceMinor: 2500,
      listed: true,
      orderable: true,
    });

    // Another customer's list is their own.
    const other = await createUser(world.testApp, { roles: ['customer'] });
    expect(await favourites(other.accessToken)).toEqual({ restaurants: [], dishes: [] });

    const removed = await inject({
      method: 'DELETE',
      url: `/v1/me/favourites/dishes/${world.ndoleId}`,
      headers: as(customer.accessToken),
    });
    expect(removed.statusCode).toBe(204);
    expect((await favourites(customer.accessToken)).dishes).toEqual([]);
  });

  it('refuses what does not exist, a dish id as a restaurant, and callers who are not customers, changing nothing', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const unknown = await inject({
      method: 'PUT',
      url: '/v1/me/favourites/dishes/00000000-0000-4000-8000-000000000000',
      headers: as(customer.accessToken),
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('menu_item_not_found');
    const wrongKind = await inject({
      method: 'PUT',
      url: `/v1/me/favourites/restaurants/${world.ndoleId}`,
      headers: as(customer.accessToken),
    });
    expect(wrongKind.json().code).toBe('restaurant_not_found');
    const badId = await inject({
      method: 'PUT',
      url: '/v1/me/favourites/dishes/not-a-uuid',
      headers: as(customer.accessToken),
    });
    expect(badId.statusCode).toBe(400);
    expect(badId.headers['content-type']).toContain('application/problem+json');
    const anonymous = await inject({ method: 'GET', url: '/v1/me/favourites' });
    expect(anonymous.statusCode).toBe(401);
    const driver = await inject({
      method: 'GET',
      url: '/v1/me/favourites',
      headers: as(world.driver.accessToken),
    });
    expect(driver.statusCode).toBe(403);
    expect(await favourites(customer.accessToken)).toEqual({ restaurants: [], dishes: [] });
  });

  it('keeps at most 100 favourites of a kind: the 101st is a 422 favourites_full and is not stored', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const category = (
      await post(
        world.testApp,
        `/v1/restaurants/${world.restaurantId}/menu/categories`,
        world.actors.owner.accessToken,
        {
          name: { fr: 'Beaucoup' },
        },
      )
    ).json();
    const ids: string[] = [];
    for (let index = 0; index < 101; index += 1) {
      const item = await post(
        world.testApp,
        `/v1/restaurants/${world.restaurantId}/menu/items`,
        world.actors.owner.accessToken,
        { categoryId: category.id, name: { fr: `Plat ${index}` }, price: 1000 + index },
      );
      ids.push(item.json().id as string);
    }
    // Concurrent adds cannot pass the limit together.
    const answers = await Promise.all(
      ids.map((id) =>
        inject({ method: 'PUT', url: `/v1/me/favourites/dishes/${id}`, headers: as(customer.accessToken) }),
      ),
    );
    expect(answers.filter((answer) => answer.statusCode === 200)).toHaveLength(100);
    const refused = answers.filter((answer) => answer.statusCode !== 200);
    expect(refused.map((answer) => [answer.statusCode, answer.json().code])).toEqual([
      [422, 'favourites_full'],
    ]);
    expect((await favourites(customer.accessToken)).dishes).toHaveLength(100);
  }, 120_000);
});

describe('quick reorder from favourites', () => {
  it('puts a favourite dish into the cart; a retry leaves the same cart; another restaurant needs replaceCart', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const headers = as(customer.accessToken);
    const notFavourite = await inject({
      method: 'POST',
      url: `/v1/me/favourites/dishes/${world.jusId}/cart`,
      headers,
      payload: {},
    });
    expect(notFavourite.statusCode).toBe(404);
    expect(notFavourite.json().code).toBe('favourite_not_found');

    await inject({ method: 'PUT', url: `/v1/me/favourites/dishes/${world.jusId}`, headers });
    const reorder = () =>
      inject({
        method: 'POST',
        url: `/v1/me/favourites/dishes/${world.jusId}/cart`,
        headers,
        payload: { quantity: 2 },
      });
    const first = await reorder();
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({
      restaurantId: world.restaurantId,
      items: [{ itemId: world.jusId, quantity: 2, optionIds: [] }],
    });
    await reorder();
    const cart = (await inject({ method: 'GET', url: '/v1/cart', headers })).json();
    expect(cart.items).toEqual([{ itemId: world.jusId, quantity: 2, optionIds: [] }]);

    // A dish of another restaurant in the cart: 409 without replaceCart, the cart unchanged.
    await inject({
      method: 'PUT',
      url: '/v1/cart',
      headers,
      payload: {
        restaurantId: '00000000-0000-4000-8000-000000000001',
        items: [{ itemId: world.ndoleId, quantity: 1, optionIds: [] }],
      },
    });
    const conflict = await reorder();
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().code).toBe('cart_other_restaurant');
    expect((await inject({ method: 'GET', url: '/v1/cart', headers })).json().restaurantId).toBe(
      '00000000-0000-4000-8000-000000000001',
    );
    const replaced = await inject({
      method: 'POST',
      url: `/v1/me/favourites/dishes/${world.jusId}/cart`,
      headers,
      payload: { replaceCart: true },
    });
    expect(replaced.json().items).toEqual([{ itemId: world.jusId, quantity: 1, optionIds: [] }]);
  });

  it('a sold-out favourite dish is listed as not orderable and is refused with favourite_unavailable', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const headers = as(customer.accessToken);
    const category = (
      await post(
        world.testApp,
        `/v1/restaurants/${world.restaurantId}/menu/categories`,
        world.actors.owner.accessToken,
        {
          name: { fr: 'Rares' },
        },
      )
    ).json();
    const rare = (
      await post(
        world.testApp,
        `/v1/restaurants/${world.restaurantId}/menu/items`,
        world.actors.owner.accessToken,
        {
          categoryId: category.id,
          name: { fr: 'Mbongo tchobi' },
          price: 4000,
          stock: 1,
        },
      )
    ).json();
    await inject({ method: 'PUT', url: `/v1/me/favourites/dishes/${rare.id}`, headers });
    const soldOut = await patch(
      world.testApp,
      `/v1/restaurants/${world.restaurantId}/menu/items/${rare.id}`,
      world.actors.owner.accessToken,
      { stock: 0 },
    );
    expect(soldOut.statusCode, soldOut.body).toBe(200);
    const dish = (await favourites(customer.accessToken)).dishes[0];
    expect(dish).toMatchObject({ id: rare.id, listed: true, orderable: false });
    const refused = await inject({
      method: 'POST',
      url: `/v1/me/favourites/dishes/${rare.id}/cart`,
      headers,
      payload: {},
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('favourite_unavailable');
  });

  it("copies the customer's last order at a favourite restaurant into the cart, once", async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const headers = as(customer.accessToken);
    await inject({ method: 'PUT', url: `/v1/me/favourites/restaurants/${world.restaurantId}`, headers });
    const never = await inject({
      method: 'POST',
      url: `/v1/me/favourites/restaurants/${world.restaurantId}/cart`,
      headers,
      payload: {},
    });
    expect(never.statusCode).toBe(404);
    expect(never.json().code).toBe('no_previous_order');

    const placed = await placeOrder(world, customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const reorder = () =>
      inject({
        method: 'POST',
        url: `/v1/me/favourites/restaurants/${world.restaurantId}/cart`,
        headers,
        payload: {},
      });
    // The orders list is a projection: it shows the order shortly after.
    const first = await until(reorder, (answer) => answer.statusCode !== 404, 30_000);
    expect(first.statusCode, first.body).toBe(200);
    const expected = [
      { itemId: world.ndoleId, quantity: 2, optionIds: [world.plantainOptionId] },
      { itemId: world.jusId, quantity: 1, optionIds: [] },
    ];
    expect(first.json().restaurantId).toBe(world.restaurantId);
    expect(first.json().items).toEqual(expect.arrayContaining(expected));
    expect(first.json().items).toHaveLength(2);
    // A retry finds the cart already so and answers it again.
    const retry = await reorder();
    expect(retry.statusCode).toBe(200);
    expect(retry.json().items).toHaveLength(2);
    // Something else in the cart: 409 cart_not_empty unless replaceCart.
    await inject({
      method: 'PUT',
      url: '/v1/cart',
      headers,
      payload: {
        restaurantId: world.restaurantId,
        items: [{ itemId: world.jusId, quantity: 5, optionIds: [] }],
      },
    });
    const busy = await reorder();
    expect(busy.statusCode).toBe(409);
    expect(busy.json().code).toBe('cart_not_empty');
  }, 60_000);
});

describe('sharing', () => {
  it('gives a link and a preview of a dish, and a public page with Open Graph tags under 20 KB', async () => {
    const preview = await inject({
      method: 'GET',
      url: `/v1/share/dishes/${world.ndoleId}`,
      headers: { 'accept-language': 'en' },
    });
    expect(preview.statusCode, preview.body).toBe(200);
    const body = preview.json();
    expect(body).toMatchObject({ kind: 'dish', id: world.ndoleId, title: 'Ndolé · Chez Mama Ngono' });
    expect(body.description).toContain('2,500 FCFA');
    const url = new URL(body.url as string);
    expect(url.pathname).toBe(`/s/d/${world.ndoleId}`);

    const page = await inject({ method: 'GET', url: url.pathname });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(Buffer.byteLength(page.body)).toBeLessThan(SHARE_PAGE_MAX_BYTES);
    expect(page.body).toContain('<meta property="og:title" content="Ndolé · Chez Mama Ngono">');
    expect(page.body).toContain(`<meta property="og:url" content="${body.url as string}">`);
    // French groups thousands with a no-break space.
    expect(page.body).toMatch(/<meta property="og:description" content="2\s500 FCFA">/);
    expect(page.body).toContain('<meta property="og:locale" content="fr_CM">');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).not.toContain('<script');
  });

  it('escapes what owners wrote, and shows nothing of an unknown restaurant or an archived dish', async () => {
    const category = (
      await post(
        world.testApp,
        `/v1/restaurants/${world.restaurantId}/menu/categories`,
        world.actors.owner.accessToken,
        {
          name: { fr: 'Spécial' },
        },
      )
    ).json();
    const tricky = (
      await post(
        world.testApp,
        `/v1/restaurants/${world.restaurantId}/menu/items`,
        world.actors.owner.accessToken,
        {
          categoryId: category.id,
          name: { fr: '"><script>alert(1)</script>' },
          price: 1500,
        },
      )
    ).json();
    const page = await inject({ method: 'GET', url: `/s/d/${tricky.id}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain('&#34;&#62;&#60;script&#62;');

    const archived = await patch(
      world.testApp,
      `/v1/restaurants/${world.restaurantId}/menu/items/${tricky.id}`,
      world.actors.owner.accessToken,
      { archived: true },
    );
    expect(archived.statusCode, archived.body).toBe(200);
    const gone = await inject({ method: 'GET', url: `/s/d/${tricky.id}` });
    expect(gone.statusCode).toBe(404);
    expect(gone.headers['content-type']).toContain('application/problem+json');

    const restaurant = await inject({ method: 'GET', url: `/v1/share/restaurants/${world.restaurantId}` });
    expect(restaurant.json()).toMatchObject({ kind: 'restaurant', title: 'Chez Mama Ngono' });
    const unknown = await inject({
      method: 'GET',
      url: '/v1/share/restaurants/00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('restaurant_not_found');
  });
});
