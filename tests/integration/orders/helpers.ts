import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { approveDriver } from '../../helpers/drivers.js';
import { activeRestaurant, catalogTestApp, createActors, post, type Actors } from '../catalog/helpers.js';

/** A restaurant in Akwa (Douala), open all week, with two dishes (one with a paid option). */
export interface OrderWorld {
  testApp: TestApp;
  actors: Actors;
  driver: CreatedUser;
  otherDriver: CreatedUser;
  /** A support supervisor (wide access to orders). */
  support: CreatedUser;
  restaurantId: string;
  ndoleId: string;
  plantainOptionId: string;
  jusId: string;
}

export const RESTAURANT_AT = { latitude: 4.0511, longitude: 9.7679 };
/** About 1.2 km from the restaurant. */
export const NEAR = { latitude: 4.0611, longitude: 9.7719, text: 'Rue 1.234, Bonapriso, Douala' };

export async function orderWorld(env: Record<string, string> = {}): Promise<OrderWorld> {
  const testApp = Object.keys(env).length === 0 ? await catalogTestApp() : await catalogTestAppWith(env);
  // Mint the first signing key before users are created in parallel (identity's keyRing.create
  // races with itself when several sessions start at once on an empty key table).
  await testApp.services.identity.keyRing.signingKey();
  const actors = await createActors(testApp);
  const [driver, otherDriver, support] = await Promise.all([
    createUser(testApp, { roles: ['driver'] }),
    createUser(testApp, { roles: ['driver'] }),
    createUser(testApp, { roles: ['support'] }),
  ]);
  // A supervisor: sees every order (a plain agent sees only their tickets' orders, docs/support.md).
  await testApp.services.support.agents.configure(support.userId, { supervisor: true }, new Date());
  // Approved to drive (onboarding), so that tests may put them on shift.
  for (const each of [driver, otherDriver]) await approveDriver(testApp, each.userId);
  const restaurantId = await activeRestaurant(testApp, actors);
  const category = (
    await post(testApp, `/v1/restaurants/${restaurantId}/menu/categories`, actors.owner.accessToken, {
      name: { fr: 'Plats' },
    })
  ).json();
  const ndole = (
    await post(testApp, `/v1/restaurants/${restaurantId}/menu/items`, actors.owner.accessToken, {
      categoryId: category.id,
      name: { fr: 'Ndolé' },
      price: 2500,
      stock: 100,
    })
  ).json();
  const jus = (
    await post(testApp, `/v1/restaurants/${restaurantId}/menu/items`, actors.owner.accessToken, {
      categoryId: category.id,
      name: { fr: 'Jus de foléré' },
      price: 500,
    })
  ).json();
  const group = (
    await post(testApp, `/v1/restaurants/${restaurantId}/menu/modifier-groups`, actors.owner.accessToken, {
      itemId: ndole.id,
      name: { fr: 'Accompagnement' },
      minSelections: 0,
      maxSelections: 1,
      options: [{ name: { fr: 'Miondo' } }, { name: { fr: 'Plantain' }, priceDelta: 500 }],
    })
  ).json();
  if (ndole.id === undefined || group.options === undefined)
    throw new Error(`menu set-up failed: ${JSON.stringify({ ndole, group })}`);
  return {
    testApp,
    actors,
    driver,
    otherDriver,
    support,
    restaurantId,
    ndoleId: ndole.id,
    plantainOptionId: group.options[1].id,
    jusId: jus.id,
  };
}

async function catalogTestAppWith(env: Record<string, string>): Promise<TestApp> {
  const { createTestApp } = await import('../../helpers/app.js');
  return createTestApp({ env: { MAX_EVENT_LOOP_DELAY_MS: '0', ...env } });
}

export function orderBody(world: OrderWorld, overrides: Record<string, unknown> = {}) {
  return {
    restaurantId: world.restaurantId,
    items: [
      { itemId: world.ndoleId, quantity: 2, optionIds: [world.plantainOptionId] },
      { itemId: world.jusId, quantity: 1 },
    ],
    delivery: NEAR,
    payment: { kind: 'wallet' },
    tipMinor: 200,
    ...overrides,
  };
}

let keys = 0;
export function idempotencyKey(): string {
  keys += 1;
  return `test-key-${process.pid}-${Date.now()}-${keys}`;
}

export async function placeOrder(world: OrderWorld, token: string, overrides: Record<string, unknown> = {}) {
  return world.testApp.app.inject({
    method: 'POST',
    url: '/v1/orders',
    // English answers: test users' profiles default to French, and the tests read the details.
    headers: { ...authHeader(token), 'idempotency-key': idempotencyKey(), 'accept-language': 'en' },
    payload: orderBody(world, overrides),
  });
}

export async function act(
  world: OrderWorld,
  orderId: string,
  action: string,
  token: string,
  payload: Record<string, unknown> = {},
) {
  return world.testApp.app.inject({
    method: 'POST',
    url: `/v1/orders/${orderId}/${action}`,
    headers: authHeader(token),
    payload,
  });
}

export async function getOrder(
  world: OrderWorld,
  orderId: string,
  token: string,
  headers: Record<string, string> = {},
) {
  return world.testApp.app.inject({
    method: 'GET',
    url: `/v1/orders/${orderId}`,
    headers: { ...authHeader(token), ...headers },
  });
}

export { authHeader };
