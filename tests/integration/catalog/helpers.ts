import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

export const ALL_WEEK = Object.fromEntries(
  ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => [
    day,
    [{ opens: '00:00', closes: '24:00' }],
  ]),
);

/** A valid registration body in Akwa, Douala. */
export function restaurantBody(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Chez Mama Ngono',
    legalName: 'Mama Ngono SARL',
    taxId: 'M012345678901A',
    documents: [{ kind: 'business_license', url: 'https://files.example.cm/licence.pdf' }],
    contact: { phone: '+237670000001' },
    cuisines: ['cameroonian', 'grill'],
    city: 'Douala',
    address: 'Rue Joss, Akwa',
    location: { latitude: 4.0511, longitude: 9.7679 },
    deliveryRadiusKm: 8,
    prepTimeMinutes: 20,
    openingHours: ALL_WEEK,
    ...overrides,
  };
}

export interface Actors {
  owner: CreatedUser;
  admin: CreatedUser;
  customer: CreatedUser;
}

export async function createActors(testApp: TestApp): Promise<Actors> {
  const [owner, admin, customer] = await Promise.all([
    createUser(testApp, { roles: ['customer', 'restaurant_owner'] }),
    createUser(testApp, { roles: ['admin'] }),
    createUser(testApp, { roles: ['customer'] }),
  ]);
  return { owner, admin, customer };
}

/** Registers and verifies a restaurant; returns its id. */
export async function activeRestaurant(
  testApp: TestApp,
  actors: Actors,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const created = await testApp.app.inject({
    method: 'POST',
    url: '/v1/restaurants',
    headers: authHeader(actors.owner.accessToken),
    payload: restaurantBody(overrides),
  });
  if (created.statusCode !== 201) throw new Error(`create failed: ${created.body}`);
  const id = created.json().id as string;
  const verified = await testApp.app.inject({
    method: 'POST',
    url: `/v1/admin/restaurants/${id}/verify`,
    headers: authHeader(actors.admin.accessToken),
    payload: { decision: 'verify' },
  });
  if (verified.statusCode !== 200) throw new Error(`verify failed: ${verified.body}`);
  return id;
}

export async function post(testApp: TestApp, url: string, token: string, payload: unknown) {
  return testApp.app.inject({
    method: 'POST',
    url,
    headers: authHeader(token),
    payload: payload as Record<string, unknown>,
  });
}

export async function patch(testApp: TestApp, url: string, token: string, payload: unknown) {
  return testApp.app.inject({
    method: 'PATCH',
    url,
    headers: authHeader(token),
    payload: payload as Record<string, unknown>,
  });
}

/**
 * The real app on a fresh database. Load shedding is set out of reach, and a 503 `overloaded`
 * answer is retried like a client honouring Retry-After: parallel suites hashing passwords on 2
 * cores can stall the event loop, and @fastify/under-pressure reports an interval with no
 * samples as an infinite delay, whatever the limit. Such a 503 tests the machine, not the catalog.
 */
export async function catalogTestApp(): Promise<TestApp> {
  const testApp = await createTestApp({ env: { MAX_EVENT_LOOP_DELAY_MS: '0' } });
  const inject = testApp.app.inject.bind(testApp.app) as (
    options: unknown,
  ) => Promise<{ statusCode: number; body: string }>;
  const retrying = async (options: unknown) => {
    for (let attempt = 1; ; attempt += 1) {
      const response = await inject(options);
      if (response.statusCode !== 503 || !response.body.includes('"overloaded"') || attempt >= 5)
        return response;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  };
  (testApp.app as unknown as { inject: typeof retrying }).inject = retrying;
  return testApp;
}
