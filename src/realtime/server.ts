/**
 * WebSocket endpoints (@fastify/websocket): /ws/customer, /ws/restaurant, /ws/driver, /ws/admin,
 * /ws/support (spec §8.1) and /ws/track (public tracking page).
 *
 *  - Authenticated at the upgrade: `?access_token=` (browsers cannot set headers on a WebSocket)
 *    or `Authorization: Bearer`; a missing or bad token is 401 and the wrong role 403, before
 *    any socket exists. /ws/track takes `?token=` (the order's public tracking token).
 *  - A connection subscribes to the audiences its principal owns (channels.ts), nothing else.
 *  - Every message carries `cursor`; reconnecting with `?lastEventId=<cursor>` replays what was
 *    missed (bus.ts keeps HISTORY_LENGTH per audience for an hour), or sends `resync` when the
 *    log no longer reaches back (the client then reloads over REST).
 *  - Heartbeat: a ping frame every HEARTBEAT_MS; a socket that missed the previous pong is cut.
 *  - Bounded: inbound frames ≤ 1 KiB; a client whose unsent bytes pass MAX_BUFFERED_BYTES (a
 *    stalled phone) is closed with 1013 and resumes later instead of growing our memory.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Principal } from '../http/access.js';
import { HttpProblem } from '../http/problem.js';
import { resolveTrackingToken } from '../modules/orders/tracking.js';
import type { OrdersService } from '../modules/orders/service.js';
import type { Services } from '../services.js';
import { ID_PATTERN, compareIds, type RealtimeBus, type RealtimeMessage } from './bus.js';
import { audiences, NAMESPACES, type Namespace } from './channels.js';

export const HEARTBEAT_MS = 25_000;
export const MAX_BUFFERED_BYTES = 256 * 1024;
export const MAX_INBOUND_BYTES = 1_024;
export const MAX_CONNECTIONS = 20_000;
/** Live messages held while a reconnecting client's replay is sent. */
const MAX_PENDING_DURING_REPLAY = 1_000;

const subscriptionsOf = new WeakMap<FastifyRequest, string[]>();

export function audiencesFor(namespace: Namespace, principal: Principal): string[] | undefined {
  const has = (permission: string) =>
    principal.permissions.has(permission as never) || principal.permissions.has('FULL_SYSTEM_ACCESS');
  switch (namespace) {
    case 'customer':
      return [audiences.customer(principal.userId)];
    case 'restaurant':
      return has('ORDER_PROCESSING') ? [audiences.owner(principal.userId)] : undefined;
    case 'driver':
      return has('ORDER_ACCEPTANCE') ? [audiences.drivers, audiences.driver(principal.userId)] : undefined;
    case 'admin':
      return principal.permissions.has('FULL_SYSTEM_ACCESS') ? [audiences.admin] : undefined;
    case 'support':
      return has('TICKET_MANAGEMENT') ? [audiences.support] : undefined;
    default: {
      const exhaustive: never = namespace;
      throw new Error(`unknown namespace ${String(exhaustive)}`);
    }
  }
}

function encodeCursor(ids: Map<string, string>): string {
  return Buffer.from(JSON.stringify(Object.fromEntries(ids))).toString('base64url');
}

function decodeCursor(value: string | undefined, allowed: readonly string[]): Map<string, string> {
  const ids = new Map<string, string>();
  if (value === undefined || value.length > 2_000) return ids;
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const audience of allowed) {
      const id = parsed[audience];
      if (typeof id === 'string' && ID_PATTERN.test(id)) ids.set(audience, id);
    }
  } catch {
    // A bad cursor resumes nothing; the client gets live messages from now on.
  }
  return ids;
}

function tokenOf(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, string | undefined>;
  if (typeof query.access_token === 'string') return query.access_token;
  const match = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

export function registerRealtime(
  app: FastifyInstance,
  services: Services,
  options: { bus: RealtimeBus; orders: OrdersService; heartbeatMs?: number },
): void {
  const { bus, orders } = options;
  const sockets = new Set<WebSocket>();
  const alive = new WeakSet<WebSocket>();

  const heartbeat = setInterval(() => {
    for (const socket of sockets) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();
  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    for (const socket of sockets) socket.close(1001, 'server shutting down');
  });

  async function serve(socket: WebSocket, request: FastifyRequest): Promise<void> {
    const subscribed = subscriptionsOf.get(request) ?? [];
    sockets.add(socket);
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
    socket.on('message', (raw) => {
      // Clients only ping at the application level (some proxies drop ping frames).
      if (raw.toString() === '{"type":"ping"}') send({ type: 'pong' });
    });
    const lastIds = decodeCursor(
      (request.query as Record<string, string | undefined>).lastEventId,
      subscribed,
    );
    let replaying = true;
    const pending: { audience: string; message: RealtimeMessage }[] = [];
    const unsubscribers: (() => Promise<void>)[] = [];

    function send(payload: object): void {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        socket.close(1013, 'too slow: reconnect with lastEventId');
        return;
      }
      socket.send(JSON.stringify(payload));
    }
    function deliver(audience: string, message: RealtimeMessage): void {
      const last = lastIds.get(audience);
      if (last !== undefined && compareIds(message.id, last) <= 0) return;
      lastIds.set(audience, message.id);
      send({ ...message, cursor: encodeCursor(lastIds) });
    }
    socket.on('close', () => {
      sockets.delete(socket);
      for (const unsubscribe of unsubscribers) void unsubscribe();
    });

    for (const audience of subscribed) {
      unsubscribers.push(
        await bus.subscribe(audience, (message) => {
          if (!replaying) return deliver(audience, message);
          if (pending.length >= MAX_PENDING_DURING_REPLAY)
            return socket.close(1013, 'too slow: reconnect with lastEventId');
          pending.push({ audience, message });
        }),
      );
    }
    if (socket.readyState !== socket.OPEN) return;
    for (const [audience, afterId] of lastIds) {
      const replay = await bus.history(audience, afterId);
      if (!replay.complete)
        send({ type: 'resync', audience, detail: 'Some messages are gone; reload over REST.' });
      for (const message of replay.messages) deliver(audience, message);
    }
    replaying = false;
    for (const { audience, message } of pending.splice(0)) deliver(audience, message);
    send({ type: 'ready', channels: subscribed, cursor: encodeCursor(lastIds) });
  }

  const guard = (namespace: Namespace) => async (request: FastifyRequest) => {
    if (sockets.size >= MAX_CONNECTIONS)
      throw new HttpProblem(503, 'too_many_connections', 'Too many live connections; retry shortly.', {
        headers: { 'retry-after': '10' },
      });
    const token = tokenOf(request);
    if (token === undefined)
      throw new HttpProblem(
        401,
        'unauthorized',
        'Send the access token as ?access_token= or Authorization: Bearer.',
      );
    let principal: Principal;
    try {
      principal = (await services.identity.tokens.verify(token)).principal;
    } catch {
      throw new HttpProblem(401, 'invalid_token', 'The access token is not valid.');
    }
    const allowed = audiencesFor(namespace, principal);
    if (allowed === undefined)
      throw new HttpProblem(403, 'permission_denied', `Your role cannot open /ws/${namespace}.`);
    subscriptionsOf.set(request, allowed);
  };

  const wsOptions = { websocket: true as const, config: { rateLimit: false as const } };
  for (const namespace of Object.keys(NAMESPACES) as Namespace[]) {
    app.get(
      `/ws/${namespace}`,
      { ...wsOptions, preValidation: guard(namespace) },
      (socket, request) => void serve(socket, request),
    );
  }
  app.get(
    '/ws/track',
    {
      ...wsOptions,
      preValidation: async (request: FastifyRequest) => {
        const token = (request.query as Record<string, string | undefined>).token;
        if (token === undefined)
          throw new HttpProblem(401, 'unauthorized', 'Send the tracking token as ?token=.');
        const resolved = await resolveTrackingToken(orders, token);
        subscriptionsOf.set(request, [audiences.order(resolved.state.order!.orderId)]);
      },
    },
    (socket, request) => void serve(socket, request),
  );
}

export async function registerWebsocketPlugin(app: FastifyInstance): Promise<void> {
  await app.register(websocket, { options: { maxPayload: MAX_INBOUND_BYTES } });
}
