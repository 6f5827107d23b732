import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createMemoryLocationIndex,
  createRedisLocationIndex,
  type DriverLocationIndex,
} from '../../../src/modules/dispatch/index.js';
import { TEST_REDIS_URL } from '../../helpers/database.js';

/** One contract, both adapters: the embedded default (in process) and Redis GEO. */
const redis = new Redis(TEST_REDIS_URL);
const prefix = `geo${randomBytes(4).toString('hex')}:`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const STALE_MS = 60_000;
const adapters: [string, () => DriverLocationIndex][] = [
  ['in-process', () => createMemoryLocationIndex({ staleMs: STALE_MS })],
  [
    'Redis',
    () =>
      createRedisLocationIndex({
        redis,
        prefix: `${prefix}${randomBytes(3).toString('hex')}:`,
        staleMs: STALE_MS,
      }),
  ],
];

const AKWA = { latitude: 4.0511, longitude: 9.7679 };
// Roughly 0.5, 1.1, 2.2 and 30 km from Akwa.
const BONANJO = { latitude: 4.0466, longitude: 9.7679 };
const DEIDO = { latitude: 4.0611, longitude: 9.7679 };
const BONAPRISO = { latitude: 4.0311, longitude: 9.7679 };
const FAR = { latitude: 4.3211, longitude: 9.7679 };

describe.each(adapters)('DriverLocationIndex (%s)', (_name, make) => {
  it('finds drivers within the radius, nearest first, at most limit', async () => {
    const index = make();
    const now = Date.now();
    await index.update('d-deido', DEIDO, now);
    await index.update('d-bonapriso', BONAPRISO, now);
    await index.update('d-bonanjo', BONANJO, now);
    await index.update('d-far', FAR, now);
    const found = await index.nearby(AKWA, 5, 10, now);
    expect(found.map((driver) => driver.driverId)).toEqual(['d-bonanjo', 'd-deido', 'd-bonapriso']);
    expect(found[0]!.distanceMeters).toBeGreaterThan(400);
    expect(found[0]!.distanceMeters).toBeLessThan(600);
    expect(found[0]!.latitude).toBeCloseTo(BONANJO.latitude, 4);
    expect(found[0]!.updatedAt).toBe(now);
    expect((await index.nearby(AKWA, 5, 2, now)).map((driver) => driver.driverId)).toEqual([
      'd-bonanjo',
      'd-deido',
    ]);
    expect((await index.nearby(AKWA, 1, 10, now)).map((driver) => driver.driverId)).toEqual(['d-bonanjo']);
  });

  it('moves a driver on update and forgets one removed', async () => {
    const index = make();
    const now = Date.now();
    await index.update('d-1', FAR, now);
    expect(await index.nearby(AKWA, 5, 10, now)).toEqual([]);
    await index.update('d-1', DEIDO, now + 1);
    expect((await index.nearby(AKWA, 5, 10, now + 1)).map((driver) => driver.driverId)).toEqual(['d-1']);
    await index.remove('d-1');
    await index.remove('d-never-there');
    expect(await index.nearby(AKWA, 5, 10, now + 1)).toEqual([]);
  });

  it('does not find a driver whose last update is older than the stale window', async () => {
    const index = make();
    const now = Date.now();
    await index.update('d-old', BONANJO, now - STALE_MS - 1_000);
    await index.update('d-fresh', DEIDO, now);
    expect((await index.nearby(AKWA, 5, 10, now)).map((driver) => driver.driverId)).toEqual(['d-fresh']);
    // Pruned: even a later search with an older clock does not bring it back.
    expect(
      (await index.nearby(AKWA, 5, 10, now - STALE_MS - 1_000)).map((driver) => driver.driverId),
    ).toEqual(['d-fresh']);
  });
});
