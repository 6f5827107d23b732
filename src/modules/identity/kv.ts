import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/**
 * Short-lived shared state of the identity context: the access-token blacklist, session and
 * user revocation marks, admin activity, lockout counters of unknown identifiers and request
 * signing nonces. Redis when configured; otherwise an in-process map (docs/architecture.md, decision 10),
 * bounded so that a flood of distinct keys cannot exhaust memory.
 */
export interface KeyValue {
  get(key: string): Promise<string | null>;
  getMany(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Sets only when absent; true when this call set it (nonces). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Reads and deletes in one step: of two callers, one gets the value (single-use entries). */
  take(key: string): Promise<string | null>;
  /** Adds one and returns the count; the window starts with the first increment. */
  increment(key: string, ttlMs: number): Promise<number>;
  /**
   * Adds one to every counter only if each is below its limit, atomically (several budgets
   * spent together or not at all). Each counter's window starts with its first increment.
   * Returns the index of the first counter at its limit and when its window ends, or null.
   */
  incrementBelow(
    counters: readonly { key: string; limit: number }[],
    ttlMs: number,
  ): Promise<{ exhausted: number; retryAfterMs: number } | null>;
  /**
   * Sets each key that is absent, atomically, only while `guard.key` still holds `guard.value`
   * (then deletes it); false when the guard is gone or changed (e.g. a FLUSHALL since the caller
   * wrote it, or another writer took over), and nothing is written.
   */
  setManyIfAbsent(
    entries: readonly { key: string; value: string; ttlMs: number }[],
    guard: { key: string; value: string },
  ): Promise<boolean>;
  readonly kind: 'redis' | 'memory';
}

/** setManyIfAbsent: KEYS = guard, then the entries; ARGV = guard value, then value and ttl per entry. */
const SET_MANY_IF_GUARDED_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for index = 2, #KEYS do
  redis.call('SET', KEYS[index], ARGV[index * 2 - 2], 'PX', ARGV[index * 2 - 1], 'NX')
end
redis.call('DEL', KEYS[1])
return 1`;

/** incrementBelow in one round trip: checks every counter, then increments them all (or none). */
const INCREMENT_BELOW_SCRIPT = `
for index, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[index + 1]) then
    return {index, redis.call('PTTL', key)}
  end
end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
end
return {0, 0}`;

export const MEMORY_MAX_ENTRIES = 100_000;

export function createRedisKeyValue(redis: Redis, prefix: string): KeyValue {
  const full = (key: string) => `${prefix}${key}`;
  return {
    kind: 'redis',
    get: (key) => redis.get(full(key)),
    async getMany(keys) {
      if (keys.length === 0) return [];
      return redis.mget(keys.map(full));
    },
    async set(key, value, ttlMs) {
      await redis.set(full(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    async setIfAbsent(key, value, ttlMs) {
      const result = await redis.set(full(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
      return result === 'OK';
    },
    async delete(key) {
      await redis.del(full(key));
    },
    take: (key) => redis.getdel(full(key)),
    async increment(key, ttlMs) {
      const results = await redis
        .multi()
        .set(full(key), '0', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')
        .incr(full(key))
        .exec();
      const counted = results?.[1];
      if (counted === undefined || counted[0] !== null)
        throw counted?.[0] ?? new Error('redis increment failed');
      return Number(counted[1]);
    },
    async incrementBelow(counters, ttlMs) {
      const [index, remainingMs] = (await redis.eval(
        INCREMENT_BELOW_SCRIPT,
        counters.length,
        ...counters.map((counter) => full(counter.key)),
        String(Math.max(1, Math.ceil(ttlMs))),
        ...counters.map((counter) => String(counter.limit)),
      )) as [number, number];
      if (index === 0) return null;
      return { exhausted: index - 1, retryAfterMs: remainingMs > 0 ? remainingMs : ttlMs };
    },
    async setManyIfAbsent(entries, guard) {
      const written = await redis.eval(
        SET_MANY_IF_GUARDED_SCRIPT,
        entries.length + 1,
        full(guard.key),
        ...entries.map((entry) => full(entry.key)),
        guard.value,
        ...entries.flatMap((entry) => [entry.value, String(Math.max(1, Math.ceil(entry.ttlMs)))]),
      );
      return Number(written) === 1;
    },
  };
}

/**
 * `forgetOnEviction`: keys deleted whenever the bound evicts an entry, so that a marker saying
 * "this store holds every mark" (revocations.ts) does not outlive a mark it vouched for.
 */
export function createMemoryKeyValue(
  now: () => number = Date.now,
  options: { forgetOnEviction?: readonly string[] } = {},
): KeyValue {
  let evictions = 0;
  // Least recently used first, as Redis' allkeys-lru would; an eviction also forgets the markers.
  const entries: LRUCache<string, { value: string; expiresAt: number }> = new LRUCache({
    max: MEMORY_MAX_ENTRIES,
    disposeAfter: (_value, key, reason) => {
      if (reason !== 'evict') return;
      evictions += 1;
      for (const marker of options.forgetOnEviction ?? []) if (marker !== key) entries.delete(marker);
    },
  });
  const read = (key: string): string | null => {
    const entry = entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return null;
    }
    return entry.value;
  };
  const write = (key: string, value: string, ttlMs: number) => {
    entries.set(key, { value, expiresAt: now() + ttlMs });
  };
  const increment = (key: string, ttlMs: number): number => {
    const current = read(key);
    const count = (current === null ? 0 : Number(current)) + 1;
    const expiresAt = current === null ? now() + ttlMs : entries.get(key)!.expiresAt;
    write(key, String(count), expiresAt - now());
    return count;
  };
  return {
    kind: 'memory',
    get: async (key) => read(key),
    getMany: async (keys) => keys.map(read),
    set: async (key, value, ttlMs) => write(key, value, ttlMs),
    async setIfAbsent(key, value, ttlMs) {
      if (read(key) !== null) return false;
      write(key, value, ttlMs);
      return true;
    },
    delete: async (key) => void entries.delete(key),
    async take(key) {
      const value = read(key);
      entries.delete(key);
      return value;
    },
    increment: async (key, ttlMs) => increment(key, ttlMs),
    async incrementBelow(counters, ttlMs) {
      // No await between the checks and the increments: atomic within the process.
      for (const [index, counter] of counters.entries()) {
        if (Number(read(counter.key) ?? 0) >= counter.limit) {
          return {
            exhausted: index,
            retryAfterMs: (entries.get(counter.key)?.expiresAt ?? now() + ttlMs) - now(),
          };
        }
      }
      for (const counter of counters) increment(counter.key, ttlMs);
      return null;
    },
    async setManyIfAbsent(list, guard) {
      if (read(guard.key) !== guard.value) return false;
      entries.delete(guard.key);
      const evictionsBefore = evictions;
      for (const { key, value, ttlMs } of list) if (read(key) === null) write(key, value, ttlMs);
      // An entry evicted while these were written may be one the markers vouch for.
      if (evictions !== evictionsBefore)
        for (const marker of options.forgetOnEviction ?? []) entries.delete(marker);
      return true;
    },
  };
}
