/**
 * The WebSocket transport (@fastify/websocket): it serves the endpoints that contexts contribute
 * (`channels` in their definition) and knows no context.
 *
 *  - Each endpoint decides at the upgrade which audiences the connection hears (identity's role
 *    namespaces check the access token and the role; orders' /ws/track checks a tracking token),
 *    throwing a domain error (401, 403, 404) before any socket exists.
 *  - Every message carries `cursor`; reconnecting with `?lastEventId=<cursor>` replays what was
 *    missed (bus.ts keeps HISTORY_LENGTH per audience for an hour), or sends `resync` when the
 *    log no longer reaches back (the client then reloads over REST).
 *  - Heartbeat: a ping frame every HEARTBEAT_MS; a socket that missed the previous pong is cut.
 *  - Inbound: besides `{"type":"ping"}`, a client may send `{"type", "id"?, "data"}` messages of
 *    the types contexts accept on the endpoint (`inbound` in their definition; dispatch takes
 *    `driver-location` on /ws/driver). Each is handled in order, at most MAX_INBOUND_QUEUE waiting
 *    per socket, and answered `{"type":"<type>-ack","id",…}` or `{"type":"error","id","code",…}`.
 *  - Bounded: inbound frames ≤ 1 KiB; at most MAX_CONNECTIONS sockets and MAX_AUDIENCES audiences
 *    per socket; a client whose unsent bytes pass MAX_BUFFERED_BYTES (a stalled phone) is closed
 *    with 1013 and resumes later instead of growing our memory.
 */
import websocket from '@fastify/websocket';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { domainErrors, isDomainError } from '../shared/errors.js';
import { ID_PATTERN, compareIds, type RealtimeBus, type RealtimeMessage } from './bus.js';

export const HEARTBEAT_MS = 25_000;
export const MAX_BUFFERED_BYTES = 256 * 1024;
export const MAX_INBOUND_BYTES = 1_024;
export const MAX_CONNECTIONS = 20_000;
/** Audiences one connection may hear (a driver hears two; room for more roles). */
export const MAX_AUDIENCES = 16;
/** Inbound messages waiting per socket; more are answered `busy`. */
export const MAX_INBOUND_QUEUE = 4;
/** Live messages held while a reconnecting client's replay is sent. */
const MAX_PENDING_DURING_REPLAY = 1_000;

const subscriptionsOf = new WeakMap<FastifyRequest, string[]>();
const errors = domainErrors('realtime');

/** What an endpoint sees of the upgrade request. */
export interface ChannelRequest {
  query: Record<string, string | undefined>;
  headers: IncomingHttpHeaders;
}

/** A WebSocket endpoint a context contributes (its definition's `channels`). */
export interface ChannelEndpoint {
  /** The path, e.g. `/ws/customer`; outside `/v1`, so the HTTP access table does not apply. */
  path: string;
  /**
   * The audiences the connection hears, decided once at the upgrade; throws a domain error
   * (unauthorized, forbidden, not found) to refuse it before any socket exists.
   */
  audiencesOf(request: ChannelRequest): Promise<readonly string[]>;
}

/**
 * A message type a context accepts from clients on one endpoint. The connection is known by the
 * audiences its endpoint granted at the upgrade (a `driver:<id>` audience is that driver).
 */
export interface InboundHandler {
  path: string;
  type: string;
  /** The result is sent back as `<type>-ack`; a domain error as an `error` message with its code. */
  handle(data: unknown, connection: { audiences: readonly string[] }): Promise<Record<string, unknown>>;
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

export function registerRealtime(
  app: FastifyInstance,
  options: {
    bus: RealtimeBus;
    channels: readonly ChannelEndpoint[];
    inbound?: readonly InboundHandler[];
    heartbeatMs?: number;
  },
): void {
  const { bus } = options;
  const inboundOf = new Map<string, InboundHandler>();
  for (const handler of options.inbound ?? []) {
    if (!options.channels.some((endpoint) => endpoint.path === handler.path))
      throw new Error(`inbound ${handler.type} names ${handler.path}, which no context serves`);
    inboundOf.set(`${handler.path} ${handler.type}`, handler);
  }
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

  async function serve(socket: WebSocket, request: FastifyRequest, path: string): Promise<void> {
    const subscribed = subscriptionsOf.get(request) ?? [];
    sockets.add(socket);
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
    let inboundQueue = Promise.resolve();
    let waiting = 0;
    socket.on('message', (raw) => {
      const text = raw.toString();
      // Clients only ping at the application level (some proxies drop ping frames).
      if (text === '{"type":"ping"}') return send({ type: 'pong' });
      let message: { type?: unknown; id?: unknown; data?: unknown };
      try {
        message = JSON.parse(text) as typeof message;
      } catch {
        return send({ type: 'error', code: 'malformed_json', detail: 'Send JSON messages.' });
      }
      const id = typeof message.id === 'string' || typeof message.id === 'number' ? message.id : null;
      const handler = typeof message.type === 'string' ? inboundOf.get(`${path} ${message.type}`) : undefined;
      if (handler === undefined)
        return send({ type: 'error', id, code: 'unknown_message_type', detail: `Not accepted on ${path}.` });
      if (waiting >= MAX_INBOUND_QUEUE)
        return send({ type: 'error', id, code: 'busy', detail: 'Too many messages waiting; slow down.' });
      waiting += 1;
      inboundQueue = inboundQueue.then(async () => {
        try {
          const result = await handler.handle(message.data, { audiences: subscribed });
          send({ ...result, type: `${handler.type}-ack`, id });
        } catch (error) {
          if (isDomainError(error))
            send({
              type: 'error',
              id,
              code: error.code,
              kind: error.kind,
              detail: error.message,
              ...error.details,
              ...(error.retryAfterSeconds === undefined
                ? {}
                : { retryAfterSeconds: error.retryAfterSeconds }),
            });
          else {
            app.log.error({ err: error, path, type: handler.type }, 'inbound WebSocket message failed');
            send({ type: 'error', id, code: 'internal_error', detail: 'Something broke on our side.' });
          }
        } finally {
          waiting -= 1;
        }
      });
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

  const guard = (endpoint: ChannelEndpoint) => async (request: FastifyRequest) => {
    if (sockets.size >= MAX_CONNECTIONS)
      throw errors.of('unavailable', 'too_many_connections', 'Too many live connections; retry shortly.', {
        retryAfterSeconds: 10,
      });
    const allowed = await endpoint.audiencesOf({
      query: request.query as Record<string, string | undefined>,
      headers: request.headers,
    });
    if (allowed.length > MAX_AUDIENCES)
      throw new Error(`${endpoint.path} subscribes ${allowed.length} audiences (at most ${MAX_AUDIENCES})`);
    subscriptionsOf.set(request, [...allowed]);
  };

  const wsOptions = { websocket: true as const, config: { rateLimit: false as const } };
  for (const endpoint of options.channels) {
    app.get(
      endpoint.path,
      { ...wsOptions, preValidation: guard(endpoint) },
      (socket, request) => void serve(socket, request, endpoint.path),
    );
  }
}

export async function registerWebsocketPlugin(app: FastifyInstance): Promise<void> {
  await app.register(websocket, { options: { maxPayload: MAX_INBOUND_BYTES } });
}
