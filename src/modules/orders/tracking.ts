/**
 * Public tracking: `GET /v1/track/{token}` (JSON) and `GET /track/{token}` (a small HTML page,
 * no framework, no CDN). The page's script and style are separate same-origin routes, so its CSP
 * allows only 'self' (the app-wide CSP is `default-src 'none'`). Live over `/ws/track`, with
 * polling as the fallback. The link answers 410 a stated time (policy.trackingExpiryMinutes,
 * 24 h) after delivery or after the order ended otherwise.
 */
import { readFileSync } from 'node:fs';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ProblemSchema } from '../../http/problem.js';
import { isDomainError } from '../../shared/errors.js';
import { ordersErrors } from './errors.js';
import type { OrderState } from './decider.js';
import type { DriverPosition, DriverPositionPort } from './ports.js';
import type { OrdersService } from './service.js';
import { TrackingResponse, TrackParams } from './schemas.js';
import { parseTrackingToken, secretMatches } from './tracking-token.js';
import { trackingExpiresAt, trackingView } from './views.js';

const asset = (name: string) => readFileSync(new URL(`./tracking-page/${name}`, import.meta.url), 'utf8');
const PAGE = asset('track.html');
const SCRIPT = asset('track.js');
const STYLE = asset('track.css');
const HOST_PATTERN = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;

/** Resolves a public token to its order, or throws 404 (unknown) / 410 (expired). */
export async function resolveTrackingToken(
  orders: OrdersService,
  token: string,
  nowMs = Date.now(),
): Promise<{ state: OrderState; revision: bigint; expiresAt: number | null }> {
  const parsed = parseTrackingToken(token);
  const notFound = ordersErrors.of('not_found', 'tracking_not_found', 'This tracking link is not valid.');
  if (parsed === undefined) throw notFound;
  let loaded;
  try {
    loaded = await orders.load(parsed.orderId);
  } catch (error) {
    if (isDomainError(error) && error.code === 'order_not_found') throw notFound;
    throw error;
  }
  if (!secretMatches(loaded.state.order!.trackingSecret, parsed.secret)) throw notFound;
  const expiresAt = trackingExpiresAt(loaded.state);
  if (expiresAt !== null && nowMs >= expiresAt)
    throw ordersErrors.of('gone', 'tracking_expired', 'This tracking link has expired.');
  return { ...loaded, expiresAt };
}

function pageCsp(host: string | undefined): string {
  // 'self' covers same-origin WebSockets in CSP 3; older engines need the ws/wss origin spelled out.
  const sockets = host !== undefined && HOST_PATTERN.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

function sendAsset(reply: FastifyReply, type: string, body: string) {
  reply.header('content-type', type);
  reply.header('cache-control', 'public, max-age=300');
  return reply.send(body);
}

/** The driver's last position, shown while the order is PICKED_UP only (never before pickup). */
async function driverPositionOf(
  state: OrderState,
  positions: (() => DriverPositionPort) | undefined,
): Promise<DriverPosition | null> {
  if (state.status !== 'PICKED_UP' || state.driverId === null || positions === undefined) return null;
  return (await positions().lastPosition(state.driverId)) ?? null;
}

export function registerTrackingRoutes(
  root: FastifyInstance,
  orders: OrdersService,
  positions?: () => DriverPositionPort,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['tracking'];

  app.get('/v1/track/:token', {
    config: { access: { public: true, description: 'anyone holding the unguessable tracking token' } },
    schema: {
      tags,
      summary: 'Public tracking of one order (JSON)',
      params: TrackParams,
      response: { 200: TrackingResponse, 404: ProblemSchema, 410: ProblemSchema },
    },
    handler: async (request, reply) => {
      const resolved = await resolveTrackingToken(orders, request.params.token);
      reply.header('cache-control', 'no-store');
      reply.header('referrer-policy', 'no-referrer');
      return {
        ...trackingView(resolved.state),
        driverPosition: await driverPositionOf(resolved.state, positions),
        expiresAt: resolved.expiresAt === null ? null : new Date(resolved.expiresAt).toISOString(),
      };
    },
  });

  app.get('/track/:token', { schema: { hide: true, params: TrackParams } }, async (request, reply) => {
    reply.header('content-security-policy', pageCsp(request.headers.host));
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
    reply.header('content-type', 'text/html; charset=utf-8');
    // The token is read by the script from the URL; nothing from the request is echoed into the page.
    return reply.send(PAGE);
  });
  app.get('/track/assets/track.js', { schema: { hide: true } }, async (_request, reply) =>
    sendAsset(reply, 'text/javascript; charset=utf-8', SCRIPT),
  );
  app.get('/track/assets/track.css', { schema: { hide: true } }, async (_request, reply) =>
    sendAsset(reply, 'text/css; charset=utf-8', STYLE),
  );
}

export const TRACKING_PAGE_BYTES =
  Buffer.byteLength(PAGE) + Buffer.byteLength(SCRIPT) + Buffer.byteLength(STYLE);
