/**
 * The index of online drivers' positions: one port, two adapters that pass the same contract test
 * (tests/integration/dispatch/location-index.test.ts).
 *
 *  - Redis (REDIS_URL set): a GEO set (`GEOADD`, `GEOSEARCH … ASC COUNT`) beside a sorted set of
 *    each member's last update time, both under REDIS_KEY_PREFIX, so every instance sees one index.
 *  - In-process (the embedded default, no Redis): a map scanned by haversine distance.
 *
 * Only online drivers are in it: going offline removes the driver. A driver whose last update is
 * older than `staleMs` (an app killed without going offline) is not found, and is dropped from the
 * index by the next search.
 */
import type { Redis } from 'ioredis';
import { distanceMeters, type GeoPoint } from './geo.js';

export interface IndexedDriver extends GeoPoint {
  driverId: string;
  distanceMeters: number;
  /** When the position was indexed (ms since the epoch). */
  updatedAt: number;
}

export interface IndexEntry {
  driverId: string;
  position: GeoPoint;
  atMs: number;
}

export interface DriverLocationIndex {
  update(driverId: string, position: GeoPoint, atMs?: number): Promise<void>;
  /** Many updates at once (the batched ingest path): Redis takes them in one round trip. */
  updateMany?(entries: readonly IndexEntry[]): Promise<void>;
  remove(driverId: string): Promise<void>;
  /** Fresh drivers within `radiusKm` of `center`, nearest first, at most `limit`. */
  nearby(center: GeoPoint, radiusKm: number, limit: number, nowMs?: number): Promise<IndexedDriver[]>;
}

export function createMemoryLocationIndex(options: { staleMs: number }): DriverLocationIndex {
  const positions = new Map<string, GeoPoint & { updatedAt: number }>();
  return {
    async update(driverId, position, atMs = Date.now()) {
      positions.set(driverId, {
        latitude: position.latitude,
        longitude: position.longitude,
        updatedAt: atMs,
      });
    },
    async remove(driverId) {
      positions.delete(driverId);
    },
    async nearby(center, radiusKm, limit, nowMs = Date.now()) {
      const found: IndexedDriver[] = [];
      const cutoff = nowMs - options.staleMs;
      for (const [driverId, position] of positions) {
        if (position.updatedAt < cutoff) {
          positions.delete(driverId);
          continue;
        }
        const distance = distanceMeters(center, position);
        if (distance <= radiusKm * 1000) found.push({ driverId, ...position, distanceMeters: distance });
      }
      return found.sort((a, b) => a.distanceMeters - b.distanceMeters).slice(0, limit);
    },
  };
}

/** Stale members dropped per search at most (the rest go with the next ones). */
const PRUNE_BATCH = 500;

/**
 * `nearby` in one round trip to Redis (issue #20, the matching benchmark's tail: it was three,
 * one after another, per search): drop up to ARGV[2] members last seen before ARGV[1] from both
 * sets, `GEOSEARCH` the nearest (ASC, COUNT, WITHCOORD, WITHDIST), and append to each row the
 * member's update time from the sorted set (`ZMSCORE`; nil when it has none). Both keys are named
 * in KEYS, as the MULTI of `update` already assumes they live together.
 */
const NEARBY_SCRIPT = `
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #stale > 0 then
  redis.call('ZREM', KEYS[1], unpack(stale))
  redis.call('ZREM', KEYS[2], unpack(stale))
end
local rows = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[3], ARGV[4], 'BYRADIUS', ARGV[5], 'km',
  'ASC', 'COUNT', tonumber(ARGV[6]), 'WITHCOORD', 'WITHDIST')
if #rows == 0 then return rows end
local ids = {}
for i, row in ipairs(rows) do ids[i] = row[1] end
local seen = redis.call('ZMSCORE', KEYS[2], unpack(ids))
for i, row in ipairs(rows) do row[4] = seen[i] end
return rows
`;

/** The script's SHA on each client, loaded once (SCRIPT LOAD; reloaded after a NOSCRIPT). */
const scriptSha = new WeakMap<Redis, Promise<string>>();
async function nearbyScript(redis: Redis): Promise<[string]> {
  let sha = scriptSha.get(redis);
  if (sha === undefined) {
    sha = redis.script('LOAD', NEARBY_SCRIPT) as Promise<string>;
    scriptSha.set(redis, sha);
    sha.catch(() => scriptSha.delete(redis));
  }
  return [await sha];
}

export function createRedisLocationIndex(options: {
  redis: Redis;
  prefix: string;
  staleMs: number;
}): DriverLocationIndex {
  const { redis } = options;
  const geoKey = `${options.prefix}dispatch:geo`;
  const seenKey = `${options.prefix}dispatch:seen`;
  return {
    async update(driverId, position, atMs = Date.now()) {
      await redis
        .multi()
        .geoadd(geoKey, position.longitude, position.latitude, driverId)
        .zadd(seenKey, atMs, driverId)
        .exec();
    },
    async updateMany(entries) {
      if (entries.length === 0) return;
      // One GEOADD and one ZADD for the lot; a driver twice in a batch ends at its later entry.
      const geo: (string | number)[] = [];
      const seen: (string | number)[] = [];
      for (const entry of entries) {
        geo.push(entry.position.longitude, entry.position.latitude, entry.driverId);
        seen.push(entry.atMs, entry.driverId);
      }
      await redis
        .multi()
        .geoadd(geoKey, ...geo)
        .zadd(seenKey, ...seen)
        .exec();
    },
    async remove(driverId) {
      await redis.multi().zrem(geoKey, driverId).zrem(seenKey, driverId).exec();
    },
    async nearby(center, radiusKm, limit, nowMs = Date.now()) {
      const cutoff = nowMs - options.staleMs;
      // One round trip (NEARBY_SCRIPT): the prune, the search and the members' update times.
      const rows = (await redis
        .evalsha(
          ...(await nearbyScript(redis)),
          2,
          geoKey,
          seenKey,
          cutoff,
          PRUNE_BATCH,
          center.longitude,
          center.latitude,
          radiusKm,
          limit,
        )
        .catch(async (error: unknown) => {
          // The script cache was flushed (a restart of Redis): load it again, once.
          if (!String(error).includes('NOSCRIPT')) throw error;
          scriptSha.delete(redis);
          return redis.evalsha(
            ...(await nearbyScript(redis)),
            2,
            geoKey,
            seenKey,
            cutoff,
            PRUNE_BATCH,
            center.longitude,
            center.latitude,
            radiusKm,
            limit,
          );
        })) as [string, string, [string, string], string | null][];
      if (rows.length === 0) return [];
      const found: IndexedDriver[] = [];
      rows.forEach(([driverId, distanceKm, [longitude, latitude], updatedAt]) => {
        if (updatedAt === null || updatedAt === undefined || Number(updatedAt) < cutoff) return;
        found.push({
          driverId,
          latitude: Number(latitude),
          longitude: Number(longitude),
          distanceMeters: Number(distanceKm) * 1000,
          updatedAt: Number(updatedAt),
        });
      });
      return found;
    },
  };
}
