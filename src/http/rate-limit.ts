import rateLimit, { normalizeIP, type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config/index.js';
import { HttpProblem } from './problem.js';

/**
 * Rate limits (spec §3.4) as a real app meets them.
 *
 * The general tier covers every route without a tier of its own:
 *  - a signed-in request (a valid access token: identity's hook has set `request.principal` before
 *    the route's limit runs) counts against its user, `RATE_LIMIT_USER_MAX` per
 *    `RATE_LIMIT_WINDOW_MS`, from any address: two customers behind one carrier NAT never share;
 *  - an anonymous one (no token, or a token that does not verify) counts against its address,
 *    `RATE_LIMIT_MAX_REQUESTS` per window, a default sized for carrier NAT; IPv6 addresses count
 *    per /64 (one subscriber's prefix), and behind a proxy `TRUST_PROXY` makes the address the
 *    client's. The key holds a keyed hash of the address, never the address itself.
 *  - a cached read answered 304 Not Modified costs a quarter of a request: every request is
 *    charged `UNITS_PER_REQUEST` units when it arrives and a 304 gives `NOT_MODIFIED_REFUND` back.
 * The auth (`RATE_LIMIT_AUTH_*`) and payment (`RATE_LIMIT_PAYMENT_*`) tiers keep the spec's
 * figures: they are route tiers (`config.rateLimit`) keyed per phone number or per user.
 *
 * Counters live in Redis when it is configured (one Lua call per request, keys expiring with
 * their window), in a bounded in-process LRU otherwise.
 */
/**
 * The tiers whose maximum an admin may change at run time (issue #23): the limiter asks
 * `overrides` (the admin context's cached settings, wired by src/app.ts) and falls back to the
 * configured figure. Routes with a tier of their own use `app.rateLimitMax(tier)` as their `max`.
 * Windows stay as configured.
 */
export type RateLimitTier = 'anonymous' | 'user' | 'auth' | 'payment';
export type RateLimitOverrides = Partial<Record<RateLimitTier, number>>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The maximum per window of a tier now: the admin's override, else the configured figure. */
    rateLimitMax(tier: RateLimitTier): Promise<number>;
  }
}

export function configuredTierMax(config: Config, tier: RateLimitTier): number {
  switch (tier) {
    case 'anonymous':
      return config.RATE_LIMIT_MAX_REQUESTS;
    case 'user':
      return config.RATE_LIMIT_USER_MAX;
    case 'auth':
      return config.RATE_LIMIT_AUTH_MAX;
    case 'payment':
      return config.RATE_LIMIT_PAYMENT_MAX;
  }
}

export const UNITS_PER_REQUEST = 4;
export const NOT_MODIFIED_REFUND = 3;
/** Counters the in-process store keeps (least recently used evicted first). */
const MEMORY_MAX_COUNTERS = 50_000;

/** A counter store for @fastify/rate-limit that counts in units and can give units back. */
export interface UnitCounters {
  /** Adds `units` to `key`'s window (started by the first add) and answers the units and the ms left. */
  add(key: string, units: number, windowMs: number): Promise<{ units: number; ttlMs: number }>;
  /** Gives `units` back to a counter whose window is still open (never reopens a window). */
  refund(key: string, units: number): Promise<void>;
}

const ADD_SCRIPT = `
local units = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {units, ttl}`;

const REFUND_SCRIPT = `
if redis.call('PTTL', KEYS[1]) > 0 then redis.call('DECRBY', KEYS[1], ARGV[1]) end
return 0`;

interface UnitCommands {
  rateLimitUnitsAdd(key: string, units: number, windowMs: number): Promise<[number, number]>;
  rateLimitUnitsRefund(key: string, units: number): Promise<number>;
}

export function redisCounters(redis: Redis, prefix: string): UnitCounters {
  // Defined once per connection; ioredis sends EVALSHA and falls back to EVAL after a restart.
  if (!('rateLimitUnitsAdd' in redis)) {
    redis.defineCommand('rateLimitUnitsAdd', { numberOfKeys: 1, lua: ADD_SCRIPT });
    redis.defineCommand('rateLimitUnitsRefund', { numberOfKeys: 1, lua: REFUND_SCRIPT });
  }
  const commands = redis as unknown as UnitCommands;
  return {
    async add(key, units, windowMs) {
      const [total, ttlMs] = await commands.rateLimitUnitsAdd(prefix + key, units, windowMs);
      return { units: total, ttlMs };
    },
    async refund(key, units) {
      await commands.rateLimitUnitsRefund(prefix + key, units);
    },
  };
}

export function memoryCounters(now: () => number = Date.now): UnitCounters {
  const counters = new LRUCache<string, { units: number; endsAtMs: number }>({ max: MEMORY_MAX_COUNTERS });
  return {
    async add(key, units, windowMs) {
      const at = now();
      let counter = counters.get(key);
      if (counter === undefined || counter.endsAtMs <= at) {
        counter = { units: 0, endsAtMs: at + windowMs };
        counters.set(key, counter);
      }
      counter.units += units;
      return { units: counter.units, ttlMs: counter.endsAtMs - at };
    },
    async refund(key, units) {
      const counter = counters.peek(key);
      if (counter !== undefined && counter.endsAtMs > now())
        counter.units = Math.max(0, counter.units - units);
    },
  };
}

/**
 * The store class @fastify/rate-limit constructs: requests cost `UNITS_PER_REQUEST` units and the
 * plugin sees whole requests (units rounded up), so its `max`, headers and 429 work unchanged.
 * A route tier gets a child with its own key space (method and URL), as the plugin's stores do.
 */
function storeOver(counters: UnitCounters, keyPrefix = ''): new () => FastifyRateLimitStore {
  return class UnitStore implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      counters.add(keyPrefix + key, UNITS_PER_REQUEST, timeWindow).then(
        ({ units, ttlMs }) => callback(null, { current: Math.ceil(units / UNITS_PER_REQUEST), ttl: ttlMs }),
        (error: Error) => callback(error),
      );
    }
    // The plugin passes the route's merged limit options, the route itself under `routeInfo`.
    child(options: unknown): FastifyRateLimitStore {
      const route = (options as { routeInfo: { method?: string | string[]; url?: string } }).routeInfo;
      const Child = storeOver(counters, `${keyPrefix}${String(route.method)}${route.url}-`);
      return new Child();
    }
  };
}

/** The general tier's key: the signed-in user, else the (keyed-hashed) address. */
export function generalKey(request: FastifyRequest, hashAddress: (value: string) => string): string {
  const userId = request.principal?.userId;
  return userId === undefined ? `a:${hashAddress(`ip:${normalizeIP(request.ip, 64)}`)}` : `u:${userId}`;
}

export async function registerRateLimits(
  app: FastifyInstance,
  options: {
    config: Config;
    redis: Redis | undefined;
    hashAddress: (value: string) => string;
    /** Run-time overrides of the tiers' maxima (cached by their owner: called per limited request). */
    overrides?: () => Promise<RateLimitOverrides>;
  },
): Promise<void> {
  const { config, redis, hashAddress } = options;
  const overrides = options.overrides;
  const tierMax = async (tier: RateLimitTier): Promise<number> => {
    if (overrides === undefined) return configuredTierMax(config, tier);
    // The settings unreadable (PostgreSQL down with no cached copy): the configured figure.
    const current = await overrides().catch(() => ({}) as RateLimitOverrides);
    return current[tier] ?? configuredTierMax(config, tier);
  };
  app.decorate('rateLimitMax', tierMax);
  const counters =
    redis === undefined ? memoryCounters() : redisCounters(redis, `${config.REDIS_KEY_PREFIX}rl:`);
  await app.register(rateLimit, {
    global: true,
    store: storeOver(counters),
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    max: (request) => tierMax(request.principal === null ? 'anonymous' : 'user'),
    keyGenerator: (request) => generalKey(request, hashAddress),
    // A Redis outage must not take the API down with it; limits resume when it returns.
    skipOnError: true,
    allowList: () => !config.RATE_LIMIT_ENABLED,
    errorResponseBuilder: (_request, context) =>
      new HttpProblem(
        429,
        'rate_limited',
        `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s.`,
        {
          extensions: { limit: context.max },
        },
      ),
  });
  if (!config.RATE_LIMIT_ENABLED) return;
  // A 304 gives most of its cost back. Sent from onSend, so the refund reaches Redis before any
  // later request of the same client is counted (one connection keeps commands in order).
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode === 304 && request.routeOptions.config?.rateLimit === undefined) {
      counters.refund(generalKey(request, hashAddress), NOT_MODIFIED_REFUND).catch(() => undefined);
    }
    return payload;
  });
}
