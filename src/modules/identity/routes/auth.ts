import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { ProblemSchema } from '../../../http/problem.js';
import { HttpProblem } from '../../../http/problem.js';
import { verifiedTokenOf } from '../auth-hook.js';
import { allowedCookieOrigins, assertCookieOrigin } from '../cookie-origin.js';
import { toPublicUser } from '../views.js';
import {
  authTier,
  bodyPhone,
  clearRefreshCookie,
  emptyBodyAsObject,
  Client,
  OtpCode,
  Password,
  Phone,
  REFRESH_COOKIE,
  requestContext,
  sendTokens,
  TokensSchema,
  type IdentityRouteServices,
} from './common.js';

const PUBLIC = { public: true as const };
const problems4xx = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
  429: ProblemSchema,
  503: ProblemSchema,
};
const Accepted = Type.Object({ status: Type.Literal('verification_sent'), expiresInSeconds: Type.Integer() });

export function registerAuthRoutes(app: FastifyInstance, services: IdentityRouteServices): void {
  const { identity, runtime } = services;
  const { config } = runtime;
  const cookieOrigins = allowedCookieOrigins(config);

  app.post(
    '/v1/auth/register',
    {
      config: { access: PUBLIC, rateLimit: authTier(config, identity.limitKey, 'register', bodyPhone) },
      schema: {
        tags: ['auth'],
        summary: 'Register with a phone number; a 6-digit code is sent by SMS',
        description:
          'Answers 202 whether or not the number already has an account (the owner of an existing account gets an SMS instead of a code). Naturally idempotent: repeating it replaces the pending registration and sends a new code.',
        body: Type.Object(
          {
            phone: Phone,
            password: Password,
            name: Type.String({ minLength: 1, maxLength: 100 }),
            email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
            locale: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])),
          },
          { additionalProperties: false },
        ),
        response: { 202: Accepted, ...problems4xx },
      },
    },
    async (request, reply) => {
      const body = request.body as {
        phone: string;
        password: string;
        name: string;
        email?: string;
        locale?: string;
      };
      // Without `locale` in the body, the Accept-Language header chooses (French by default).
      const locale = body.locale ?? preferredLanguage(request.headers['accept-language']);
      const sent = await identity.accounts.register({ ...body, locale }, requestContext(request));
      reply.code(202);
      return { status: 'verification_sent' as const, expiresInSeconds: sent.expiresInSeconds };
    },
  );

  app.post(
    '/v1/auth/verify-phone',
    {
      config: { access: PUBLIC, rateLimit: authTier(config, identity.limitKey, 'verify-phone', bodyPhone) },
      schema: {
        tags: ['auth'],
        summary: 'Confirm the SMS code of a registration; signs the new customer in',
        body: Type.Object(
          { phone: Phone, code: OtpCode, client: Type.Optional(Client) },
          { additionalProperties: false },
        ),
        response: { 200: TokensSchema, ...problems4xx },
      },
    },
    async (request, reply) => {
      const body = request.body as { phone: string; code: string; client?: 'web' | 'mobile' };
      const client = body.client ?? 'mobile';
      const signedIn = await identity.accounts.verifyPhone({ ...body, client }, requestContext(request));
      return sendTokens(reply, signedIn, client, toPublicUser(signedIn.user, false));
    },
  );

  app.post(
    '/v1/auth/login',
    {
      config: { access: PUBLIC, rateLimit: authTier(config, identity.limitKey, 'login', bodyPhone) },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with phone and password (and `totp` when two-factor is on)',
        description:
          'Unknown and known numbers get the same 401 `invalid_credentials` at the same cost. Consecutive failures are answered more slowly and lock the number for 15 minutes after 5 (429 `account_locked`).',
        body: Type.Object(
          {
            phone: Type.String({ minLength: 1, maxLength: 32 }),
            password: Password,
            totp: Type.Optional(Type.String({ maxLength: 16 })),
            client: Type.Optional(Client),
          },
          { additionalProperties: false },
        ),
        response: { 200: TokensSchema, ...problems4xx },
      },
    },
    async (request, reply) => {
      const body = request.body as {
        phone: string;
        password: string;
        totp?: string;
        client?: 'web' | 'mobile';
      };
      const client = body.client ?? 'mobile';
      const signedIn = await identity.accounts.login({ ...body, client }, requestContext(request));
      const twoFactor = await identity.twoFactor.isEnabled(signedIn.user.id);
      return sendTokens(reply, signedIn, client, toPublicUser(signedIn.user, twoFactor));
    },
  );

  app.post(
    '/v1/auth/refresh',
    {
      config: { access: PUBLIC },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token (body or cookie) for new tokens; the old one stops working',
        description:
          'Presenting a refresh token that was already exchanged ends the whole session (401 `refresh_token_reused`). With the cookie, the request must come from an allowed origin (`Origin`, else `Sec-Fetch-Site`, else `Referer`): 403 `origin_not_allowed` otherwise.',
        body: Type.Object(
          { refreshToken: Type.Optional(Type.String({ maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 200: TokensSchema, ...problems4xx },
      },
    },
    async (request, reply) => {
      const fromBody = (request.body as { refreshToken?: string } | undefined)?.refreshToken;
      const token = fromBody ?? request.cookies[REFRESH_COOKIE];
      if (fromBody === undefined && token !== undefined) assertCookieOrigin(request.headers, cookieOrigins);
      if (token === undefined || token === '') {
        throw new HttpProblem(
          401,
          'invalid_refresh_token',
          'Send the refresh token in the body or the cookie.',
        );
      }
      const refreshed = await identity.sessions.refresh(token, requestContext(request));
      return sendTokens(reply, refreshed, refreshed.client);
    },
  );

  app.post(
    '/v1/auth/logout',
    {
      config: { access: PUBLIC },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['auth'],
        summary:
          'End the session: revokes the refresh token and blacklists the access token until it expires',
        body: Type.Object(
          { refreshToken: Type.Optional(Type.String({ maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...problems4xx },
      },
    },
    async (request, reply) => {
      const verified = verifiedTokenOf(request);
      const fromBody = (request.body as { refreshToken?: string } | undefined)?.refreshToken;
      const refreshToken = fromBody ?? request.cookies[REFRESH_COOKIE];
      if (verified === undefined && fromBody === undefined && refreshToken !== undefined)
        assertCookieOrigin(request.headers, cookieOrigins);
      // Idempotent: without a live token there is nothing to end, and the answer is the same.
      await identity.logout({ verified, refreshToken }, requestContext(request));
      clearRefreshCookie(reply);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/auth/password/forgot',
    {
      config: {
        access: PUBLIC,
        rateLimit: authTier(config, identity.limitKey, 'password-forgot', bodyPhone),
      },
      schema: {
        tags: ['auth'],
        summary: 'Send a password-reset link by SMS (always 202)',
        body: Type.Object(
          { phone: Phone, locale: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])) },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ status: Type.Literal('accepted') }), ...problems4xx },
      },
    },
    async (request, reply) => {
      await identity.accounts.requestPasswordReset(
        request.body as { phone: string; locale?: string },
        requestContext(request),
      );
      reply.code(202);
      return { status: 'accepted' as const };
    },
  );

  app.post(
    '/v1/auth/password/reset',
    {
      config: {
        access: PUBLIC,
        rateLimit: authTier(config, identity.limitKey, 'password-reset', (request) =>
          (request.body as { token?: string } | undefined)?.token?.slice(0, 16),
        ),
      },
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with a reset token (one hour, single use); ends every session',
        body: Type.Object(
          { token: Type.String({ minLength: 10, maxLength: 200 }), newPassword: Password },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...problems4xx },
      },
    },
    async (request, reply) => {
      await identity.accounts.resetPassword(
        request.body as { token: string; newPassword: string },
        requestContext(request),
      );
      return reply.code(204).send();
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['auth'],
        summary: 'Public keys that verify access tokens (EdDSA, by kid)',
        response: { 200: Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return (await identity.keyRing.jwks()) as { keys: Record<string, unknown>[] };
    },
  );
}

/** `en` when English comes before French in an Accept-Language header, else `fr`. */
export function preferredLanguage(header: string | undefined): 'fr' | 'en' {
  const ranked = (header ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...parameters] = part.trim().toLowerCase().split(';');
      const quality = parameters
        .map((parameter) => /^q=([0-9.]+)$/.exec(parameter.trim())?.[1])
        .find(Boolean);
      return { language: tag.slice(0, 2), quality: quality === undefined ? 1 : Number(quality) };
    })
    .filter((entry) => (entry.language === 'fr' || entry.language === 'en') && entry.quality > 0)
    .sort((left, right) => right.quality - left.quality);
  return ranked[0]?.language === 'en' ? 'en' : 'fr';
}
