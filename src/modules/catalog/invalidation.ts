/**
 * Cross-instance cache invalidation: every API instance keeps menus and search pages in memory,
 * so a write on one instance is announced on a Redis channel and the others drop their copies at
 * once instead of after the caches' TTLs. Fire and forget: a lost message costs at most those
 * TTLs of staleness, never a failed write. Without Redis (in-process mode) this is a no-op.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface CatalogInvalidation {
  publish(restaurantId: string): void;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f-]{36}$/;
/** The message that says the cities (or their zones) changed, instead of one restaurant. */
export const CITIES_CHANGED = 'cities';

export function connectCatalogInvalidation(options: {
  redis: Redis | undefined;
  channel: string;
  logger: Logger;
  onRemoteChange(restaurantId: string): void;
}): CatalogInvalidation {
  const { redis } = options;
  if (redis === undefined) return { publish: () => undefined, close: async () => undefined };
  const origin = randomUUID();
  const subscriber = redis.duplicate({ lazyConnect: false });
  subscriber.on('error', () => undefined);
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== options.channel) return;
    try {
      const parsed = JSON.parse(message) as { origin?: unknown; restaurantId?: unknown };
      if (
        parsed.origin === origin ||
        typeof parsed.restaurantId !== 'string' ||
        (!UUID.test(parsed.restaurantId) && parsed.restaurantId !== CITIES_CHANGED)
      )
        return;
      options.onRemoteChange(parsed.restaurantId);
    } catch {
      // A malformed message is ignored: the caches' TTLs still bound staleness.
    }
  });
  const subscribed = subscriber.subscribe(options.channel).catch((error: unknown) => {
    options.logger.warn(
      { err: error },
      'catalog cache invalidation: subscribe failed; caches fall back to their TTLs',
    );
  });
  return {
    publish(restaurantId) {
      redis.publish(options.channel, JSON.stringify({ origin, restaurantId })).catch(() => undefined);
    },
    async close() {
      await subscribed;
      subscriber.disconnect();
    },
  };
}
