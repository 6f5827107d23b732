/**
 * Real-time delivery, transport only: the bus (Redis pub/sub + capped streams, or in-process
 * without Redis), the audience names, and the WebSocket server that serves the endpoints contexts
 * contribute (`channels` in their definition). Who hears which event is decided by the context
 * that publishes it (orders: src/modules/orders/realtime.ts); who may open which endpoint, by the
 * context that contributes the endpoint (identity's role namespaces, orders' /ws/track).
 */
import { closeRedis } from '../platform/redis-close.js';
import { createRedis, type Runtime } from '../runtime.js';
import { createMemoryBus, createRedisBus, type RealtimeBus } from './bus.js';

export {
  createMemoryBus,
  createRedisBus,
  type RealtimeBus,
  type RealtimeMessage,
  type Publication,
} from './bus.js';
export { audiences } from './audiences.js';
export {
  registerRealtime,
  registerWebsocketPlugin,
  type ChannelEndpoint,
  type ChannelRequest,
  type InboundHandler,
} from './server.js';

export interface Realtime {
  bus: RealtimeBus;
}

export function createRealtime(runtime: Runtime): Realtime {
  const { config } = runtime;
  let bus: RealtimeBus;
  if (runtime.redis !== undefined && config.REDIS_URL !== undefined) {
    // Pub/sub needs its own connection: a subscribed connection can issue no other command.
    const subscriber = createRedis(config.REDIS_URL, 'realtime-subscriber');
    bus = createRedisBus({ redis: runtime.redis, subscriber, prefix: config.REDIS_KEY_PREFIX });
    runtime.closers.push({ name: 'realtime subscriber', close: () => closeRedis(subscriber) });
  } else {
    bus = createMemoryBus();
  }
  return { bus };
}
