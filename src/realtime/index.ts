/**
 * Real-time delivery: the bus (Redis pub/sub + capped streams, or in-process without Redis), the
 * spec §8.1 channels, and the WebSocket endpoints. The orders context's changes are published
 * here after each successful append (services.ts wires `orders.onChange` to `publishChange`).
 */
import type { Logger } from 'pino';
import { createRedis, type Runtime } from '../runtime.js';
import type { OrderChange } from '../modules/orders/service.js';
import { createMemoryBus, createRedisBus, type RealtimeBus } from './bus.js';
import { publicationsFor } from './channels.js';

export {
  createMemoryBus,
  createRedisBus,
  type RealtimeBus,
  type RealtimeMessage,
  type Publication,
} from './bus.js';
export { NAMESPACES, audiences, publicationsFor } from './channels.js';
export { registerRealtime, registerWebsocketPlugin, audiencesFor } from './server.js';

export interface Realtime {
  bus: RealtimeBus;
  /** Fire-and-forget: a lost message is recovered by the client's resync or polling, never by the writer. */
  publishChange(change: OrderChange): void;
}

export function createRealtime(runtime: Runtime): Realtime {
  const { config, logger } = runtime;
  let bus: RealtimeBus;
  if (runtime.redis !== undefined && config.REDIS_URL !== undefined) {
    // Pub/sub needs its own connection: a subscribed connection can issue no other command.
    const subscriber = createRedis(config.REDIS_URL, 'realtime-subscriber');
    bus = createRedisBus({ redis: runtime.redis, subscriber, prefix: config.REDIS_KEY_PREFIX });
    runtime.closers.push({ name: 'realtime subscriber', close: async () => void subscriber.disconnect() });
  } else {
    bus = createMemoryBus();
  }
  return { bus, publishChange: publisher(bus, logger) };
}

function publisher(bus: RealtimeBus, logger: Logger) {
  return (change: OrderChange) => {
    bus.publish(publicationsFor(change)).catch((error: unknown) => {
      logger.warn({ err: error, orderId: change.order.orderId }, 'real-time publish failed');
    });
  };
}
