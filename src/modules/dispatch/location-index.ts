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
      const stale = await redis.zrangebyscore(seenKey, '-inf', `(${cutoff}`, 'LIMIT', 0, PRUNE_BATCH);
      if (stale.length > 0)
        await redis
          .multi()
          .zrem(geoKey, ...stale)
          .zrem(seenKey, ...stale)
          .exec();
      const rows = (await redis.geosearch(
        geoKey,
        'FROMLONLAT',
        center.longitude,
        center.latitude,
        'BYRADIUS',
        radiusKm,
        'km',
        'ASC',
        'COUNT',
        limit,
        'WITHCOORD',
        'WITHDIST',
      )) as [string, string, [string, string]][];
      if (rows.length === 0) return [];
      const seen = await redis.zmscore(seenKey, ...rows.map(([driverId]) => driverId));
      const found: IndexedDriver[] = [];
      rows.forEach(([driverId, distanceKm, [longitude, latitude]], index) => {
        const updatedAt = seen[index];
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
