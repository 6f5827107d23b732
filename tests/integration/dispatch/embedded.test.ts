import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { approvedDriver } from '../../helpers/drivers.js';

/** Without REDIS_URL (the embedded default) the app indexes drivers in process, same routes, same answers. */
let testApp: TestApp;
beforeAll(async () => {
  testApp = await createTestApp({ env: { REDIS_URL: undefined, MAX_EVENT_LOOP_DELAY_MS: '0' } });
});
afterAll(async () => {
  await testApp?.close();
});

it('goes online, sends a fix, is found nearby, and is gone once offline (in-process index)', async () => {
  expect(testApp.services.runtime.redis).toBeUndefined();
  await testApp.services.identity.keyRing.signingKey();
  const [driver, admin] = await Promise.all([
    approvedDriver(testApp),
    createUser(testApp, { roles: ['admin'] }),
  ]);
  const put = (url: string, payload: object) =>
    testApp.app.inject({ method: 'PUT', url, headers: authHeader(driver.accessToken), payload });
  const nearby = async () =>
    (
      await testApp.app.inject({
        method: 'GET',
        url: '/v1/admin/drivers/nearby?latitude=4.0511&longitude=9.7679&radiusKm=2',
        headers: authHeader(admin.accessToken),
      })
    ).json().items as { driverId: string; distanceMeters: number }[];

  expect((await put('/v1/drivers/me/availability', { online: true })).statusCode).toBe(200);
  const fix = {
    latitude: 4.0521,
    longitude: 9.7679,
    accuracyMeters: 9,
    recordedAt: new Date().toISOString(),
  };
  const accepted = await put('/v1/drivers/me/location', fix);
  expect(accepted.statusCode, accepted.body).toBe(200);
  const found = await nearby();
  expect(found.map((item) => item.driverId)).toEqual([driver.userId]);
  expect(found[0]!.distanceMeters).toBeGreaterThan(100);
  expect(found[0]!.distanceMeters).toBeLessThan(120);
  const sooner = await put('/v1/drivers/me/location', fix);
  expect(sooner.statusCode).toBe(429);
  await put('/v1/drivers/me/availability', { online: false });
  expect(await nearby()).toEqual([]);
});
