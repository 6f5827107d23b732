/**
 * At most one pass per key per interval: Redis `SET NX PX` (one answer for every instance), or a
 * map in process without Redis. Used to throttle driver-location messages per order.
 */
import type { Redis } from 'ioredis';

export interface Throttle {
  /** True if the key may pass now (and starts its interval), false within the interval. */
  pass(key: string, intervalMs: number): Promise<boolean>;
}

export function createMemoryThrottle(now: () => number = Date.now): Throttle {
  const until = new Map<string, number>();
  return {
    async pass(key, intervalMs) {
      const at = now();
      if ((until.get(key) ?? 0) > at) return false;
      if (until.size > 50_000) for (const [stored, end] of until) if (end <= at) until.delete(stored);
      until.set(key, at + intervalMs);
      return true;
    },
  };
}

export function createRedisThrottle(redis: Redis, prefix: string): Throttle {
  return {
    async pass(key, intervalMs) {
      if (intervalMs <= 0) return true;
      return (await redis.set(`${prefix}${key}`, '1', 'PX', intervalMs, 'NX')) === 'OK';
    },
  };
}
