/**
 * Public tracking: `GET /v1/track/{token}` (JSON) and `GET /track/{token}` (a small HTML page,
 * no framework, no CDN). The page's script and style are separate same-origin routes, so its CSP
 * allows only 'self' (the app-wide CSP is `default-src 'none'`). Live over `/ws/track`, with
 * polling as the fallback. The link answers 410 a stated time (policy.trackingExpiryMinutes,
 * 24 h) after delivery or after the order ended otherwise.
 *
 * The page and the JSON speak the customer's language (issue #25): `?lang=fr|en` (the page's
 * language link), else Accept-Language, else the profile language of the order's customer, else
 * French for the page (English for the JSON, the API's default). The page is rendered once per
 * language at start; its script takes its texts from the page (tracking-page/texts.ts).
 */
import { readFileSync } from 'node:fs';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { PROFILE_LANGUAGE_DECORATOR, type ProfileLanguageLookup } from '../../http/errors.js';
import { askedPageLanguage, renderLocalisedPage } from '../../http/localised-page.js';
import { pageCsp } from '../../http/security-headers.js';
import { ProblemSchema } from '../../http/problem.js';
import { isDomainError } from '../../shared/errors.js';
import { ordersErrors } from './errors.js';
import type { OrderState } from './decider.js';
import type { DriverPosition, DriverPositionPort } from './ports.js';
import type { OrdersService } from './service.js';
import { TrackingResponse, TrackParams } from './schemas.js';
import { PAGE_TEXTS, pinHint, type PageLanguage } from './tracking-page/texts.js';
import { parseTrackingToken, secretMatches } from './tracking-token.js';
import { trackingExpiresAt, trackingView } from './views.js';

const asset = (name: string) => readFileSync(new URL(`./tracking-page/${name}`, import.meta.url), 'utf8');
const TEMPLATE = asset('track.html');
const SCRIPT = asset('track.js');
const STYLE = asset('track.css');
const PageQuery = Type.Object({
  lang: Type.Optional(Type.String({ maxLength: 8, description: 'fr or en; anything else is ignored' })),
});

/** The page in one language: each `{{key}}` is a text of that language; the script's texts as JSON. */
export function renderTrackingPage(language: PageLanguage): string {
  return renderLocalisedPage('tracking page', TEMPLATE, language, PAGE_TEXTS[language]);
}

const PAGES: Readonly<Record<PageLanguage, string>> = {
  fr: renderTrackingPage('fr'),
  en: renderTrackingPage('en'),
};

/** The profile language of the order's customer (a signed-up customer; guests have none). */
async function customerLanguage(
  request: FastifyRequest,
  state: OrderState,
): Promise<PageLanguage | undefined> {
  const customer = state.order?.customer;
  if (customer?.kind !== 'user' || !request.server.hasDecorator(PROFILE_LANGUAGE_DECORATOR)) return undefined;
  const lookup = (request.server as unknown as Record<string, ProfileLanguageLookup>)[
    PROFILE_LANGUAGE_DECORATOR
  ]!;
  try {
    return await lookup(customer.id);
  } catch (error) {
    request.log.warn({ err: error }, 'profile language lookup failed for the tracking page');
    return undefined;
  }
}

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

/** The customer's language for a page whose token may be invalid or expired (the script says so). */
async function pageCustomerLanguage(
  request: FastifyRequest,
  orders: OrdersService,
  token: string,
): Promise<PageLanguage | undefined> {
  try {
    return await customerLanguage(request, (await resolveTrackingToken(orders, token)).state);
  } catch (error) {
    if (isDomainError(error)) return undefined;
    throw error;
  }
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
      const language =
        askedPageLanguage(request, undefined) ?? (await customerLanguage(request, resolved.state)) ?? 'en';
      reply.header('cache-control', 'no-store');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('content-language', language);
      reply.header('vary', 'Accept-Language');
      return {
        ...trackingView(resolved.state),
        deliveryPinHint: pinHint(language, resolved.state.order!.deliveryPin.length),
        driverPosition: await driverPositionOf(resolved.state, positions),
        expiresAt: resolved.expiresAt === null ? null : new Date(resolved.expiresAt).toISOString(),
      };
    },
  });

  app.get(
    '/track/:token',
    { schema: { hide: true, params: TrackParams, querystring: PageQuery } },
    async (request, reply) => {
      const language =
        askedPageLanguage(request, request.query.lang) ??
        (await pageCustomerLanguage(request, orders, request.params.token)) ??
        'fr';
      reply.header('content-security-policy', pageCsp(request.headers.host));
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cache-control', 'no-store');
      reply.header('content-type', 'text/html; charset=utf-8');
      reply.header('content-language', language);
      reply.header('vary', 'Accept-Language');
      // The token is read by the script from the URL; nothing from the request is echoed into the page.
      return reply.send(PAGES[language]);
    },
  );
  app.get('/track/assets/track.js', { schema: { hide: true } }, async (_request, reply) =>
    sendAsset(reply, 'text/javascript; charset=utf-8', SCRIPT),
  );
  app.get('/track/assets/track.css', { schema: { hide: true } }, async (_request, reply) =>
    sendAsset(reply, 'text/css; charset=utf-8', STYLE),
  );
}

export const TRACKING_PAGE_BYTES =
  Math.max(Buffer.byteLength(PAGES.fr), Buffer.byteLength(PAGES.en)) +
  Buffer.byteLength(SCRIPT) +
  Buffer.byteLength(STYLE);
