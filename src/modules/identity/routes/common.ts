import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { HttpProblem } from '../../../http/problem.js';
import type { Actor } from '../audit.js';
import type { ClientKind, IssuedTokens, RequestContext } from '../sessions.js';
import { PublicUserSchema, type PublicUser } from '../views.js';
import type { Config } from '../../../config/index.js';
import { normalizePhone } from '../phone.js';
import type { Runtime } from '../../../runtime.js';
import type { Identity } from '../service.js';

export const REFRESH_COOKIE = 'fd_refresh';
export const REFRESH_COOKIE_PATH = '/v1/auth';

export const Phone = Type.String({ minLength: 8, maxLength: 24, description: 'E.164, e.g. +237670000000' });
export const Password = Type.String({ minLength: 1, maxLength: 256 });
export const Client = Type.Union([Type.Literal('web'), Type.Literal('mobile')], {
  default: 'mobile',
  description: 'web: the refresh token travels in an httpOnly cookie; mobile: in the body',
});
export const OtpCode = Type.String({ pattern: '^\\d{6}$' });
export const TotpOrBackupCode = Type.String({ minLength: 6, maxLength: 16 });

export const TokensSchema = Type.Object({
  tokenType: Type.Literal('Bearer'),
  accessToken: Type.String(),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
  accessTokenExpiresAt: Type.String({ format: 'date-time' }),
  refreshToken: Type.Optional(
    Type.String({ description: 'mobile clients only; web clients get the cookie' }),
  ),
  refreshTokenExpiresAt: Type.String({ format: 'date-time' }),
  sessionId: Type.String({ format: 'uuid' }),
  user: Type.Optional(PublicUserSchema),
});

/**
 * An app's install id (`X-Device-Id`): 8 to 128 characters of letters, digits and `._:-`. Anything
 * else is ignored (the header is optional and never refuses a sign-in); only its keyed hash is kept.
 */
const DEVICE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestContext(request: FastifyRequest): RequestContext {
  const userAgent = request.headers['user-agent'];
  const deviceId = request.headers['x-device-id'];
  return {
    ip: request.ip ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 300) : null,
    requestId: request.id,
    deviceId: typeof deviceId === 'string' && DEVICE_ID.test(deviceId) ? deviceId : null,
  };
}

export function actorOf(request: FastifyRequest): Actor {
  const context = requestContext(request);
  const userId = request.principal?.userId ?? null;
  return { kind: userId === null ? 'anonymous' : 'user', userId, ...context };
}

/** The signed-in person acting (401 when nobody is signed in), for routes that audit a change. */
export function signedInActorOf(request: FastifyRequest): Actor & { userId: string } {
  const userId = request.principal?.userId;
  if (userId === undefined) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return { kind: 'user', userId, ...requestContext(request) };
}

/** Web clients get the refresh token as an httpOnly, Secure, SameSite=Strict cookie; mobile in the body. */
export function sendTokens(reply: FastifyReply, tokens: IssuedTokens, client: ClientKind, user?: PublicUser) {
  if (client === 'web') {
    reply.setCookie(REFRESH_COOKIE, tokens.refreshToken, {
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      path: REFRESH_COOKIE_PATH,
      expires: tokens.refreshTokenExpiresAt,
    });
  }
  reply.header('cache-control', 'no-store');
  return {
    tokenType: 'Bearer' as const,
    accessToken: tokens.accessToken,
    expiresIn: Math.max(0, Math.round((tokens.accessTokenExpiresAt.getTime() - Date.now()) / 1000)),
    accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
    ...(client === 'mobile' ? { refreshToken: tokens.refreshToken } : {}),
    refreshTokenExpiresAt: tokens.refreshTokenExpiresAt.toISOString(),
    sessionId: tokens.sessionId,
    ...(user === undefined ? {} : { user }),
  };
}

export function clearRefreshCookie(reply: FastifyReply): void {
  reply.clearCookie(REFRESH_COOKIE, {
    path: REFRESH_COOKIE_PATH,
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
  });
}

/**
 * The auth rate-limit tier (spec §3.4: 5 / 15 min) keyed per identifier, after the body is parsed.
 * A phone number is keyed in E.164, so `+237 6 70…`, `00237670…`, `237670…` and `670…` share one
 * budget; the key holds a keyed hash (`limitKey`), never the number or the address in clear.
 */
export function authTier(
  config: Config,
  limitKey: (value: string) => string,
  name: string,
  identify: (request: FastifyRequest) => string | undefined,
) {
  return {
    // The admin's run-time figure for the tier, else RATE_LIMIT_AUTH_MAX (src/http/rate-limit.ts).
    max: (request: FastifyRequest) => request.server.rateLimitMax('auth'),
    timeWindow: config.RATE_LIMIT_AUTH_WINDOW_MS,
    hook: 'preHandler' as const,
    keyGenerator: (request: FastifyRequest) => {
      const raw = identify(request);
      const identifier =
        raw === undefined
          ? `ip:${request.ip}`
          : (normalizePhone(raw) ?? raw.replace(/[\s().-]/g, '').slice(0, 64));
      return `auth:${name}:${limitKey(identifier)}`;
    },
  };
}

export const bodyPhone = (request: FastifyRequest) => (request.body as { phone?: string } | undefined)?.phone;

/** A body-less POST (web clients sending only the cookie) validates as `{}`. */
export async function emptyBodyAsObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}

/** What the identity routes get: their own context's services and the platform's runtime. */
export interface IdentityRouteServices {
  identity: Identity;
  runtime: Runtime;
}
