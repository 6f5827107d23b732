/**
 * Where USSD sessions live between callbacks: Redis when REDIS_URL is set (every instance sees
 * the session, and it expires on its own), otherwise a bounded in-process map (the embedded
 * default, docs/architecture.md decision 10), like identity's key-value store. Keys are keyed
 * hashes of the phone number: a copy of Redis does not list who dialled.
 */
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

export interface UssdStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Adds one and returns the count; the window starts with the first increment. */
  increment(key: string, windowMs: number): Promise<number>;
  /** Takes `key` for `token` when free (a lease of `ttlMs`); true when this call took it. */
  acquire(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Frees `key` if `token` still holds it. */
  release(key: string, token: string): Promise<void>;
  readonly kind: 'redis' | 'memory';
}

export const MEMORY_MAX_SESSIONS = 50_000;

/** Deletes the key only while it holds the caller's token (a lease that ran out is someone else's). */
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export function createRedisUssdStore(redis: Redis, prefix: string): UssdStore {
  const full = (key: string) => `${prefix}ussd:${key}`;
  return {
    kind: 'redis',
    get: (key) => redis.get(full(key)),
    async set(key, value, ttlMs) {
      await redis.set(full(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    async delete(key) {
      await redis.del(full(key));
    },
    async increment(key, windowMs) {
      const [[, count]] = (await redis
        .multi()
        .incr(full(key))
        .pexpire(full(key), Math.max(1, Math.ceil(windowMs)), 'NX')
        .exec()) as [[Error | null, number], [Error | null, number]];
      return count;
    },
    async acquire(key, token, ttlMs) {
      return (await redis.set(full(key), token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
    },
    async release(key, token) {
      await redis.eval(RELEASE_SCRIPT, 1, full(key), token);
    },
  };
}

export function createMemoryUssdStore(now: () => number = Date.now): UssdStore {
  const entries = new LRUCache<string, { value: string; expiresAt: number }>({ max: MEMORY_MAX_SESSIONS });
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    kind: 'memory',
    get: async (key) => live(key)?.value ?? null,
    async set(key, value, ttlMs) {
      entries.set(key, { value, expiresAt: now() + ttlMs });
    },
    async delete(key) {
      entries.delete(key);
    },
    async increment(key, windowMs) {
      const entry = live(key);
      const count = entry === undefined ? 1 : Number(entry.value) + 1;
      entries.set(key, { value: String(count), expiresAt: entry?.expiresAt ?? now() + windowMs });
      return count;
    },
    async acquire(key, token, ttlMs) {
      if (live(key) !== undefined) return false;
      entries.set(key, { value: token, expiresAt: now() + ttlMs });
      return true;
    },
    async release(key, token) {
      if (live(key)?.value === token) entries.delete(key);
    },
  };
}
