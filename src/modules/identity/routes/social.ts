import type { FastifyInstance, FastifyReply } from 'fastify';
import Type from 'typebox';
import { ProblemSchema } from '../../../http/problem.js';
import { SOCIAL_PROVIDERS, type SocialProviderName } from '../social-providers.js';
import type { SocialOutcome } from '../social.js';
import { toPublicUser } from '../views.js';
import {
  authTier,
  bodyPhone,
  Client,
  OtpCode,
  Phone,
  requestContext,
  sendTokens,
  TokensSchema,
  TotpOrBackupCode,
  type IdentityRouteServices,
} from './common.js';
import { ANY_SIGNED_IN, principalOf } from './me.js';

const PUBLIC = { public: true as const };
const ACCOUNT = { permissions: ANY_SIGNED_IN, ownership: 'self: the caller’s own account' };
const problems = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  429: ProblemSchema,
  503: ProblemSchema,
};
const Provider = Type.Union(
  SOCIAL_PROVIDERS.map((name) => Type.Literal(name)),
  { description: 'google or facebook' },
);
const ProviderParams = Type.Object({ provider: Provider });
const Ticket = Type.String({ minLength: 10, maxLength: 100, description: 'the `ticket` of the callback' });
const Locale = Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')]));

const SignedIn = Type.Intersect([Type.Object({ status: Type.Literal('signed_in') }), TokensSchema]);
const TicketIssued = Type.Object({
  status: Type.Union([Type.Literal('phone_required'), Type.Literal('two_factor_required')], {
    description:
      'phone_required: POST /v1/auth/social/phone, then /complete with the SMS code; two_factor_required: /complete with `totp`',
  }),
  ticket: Type.String(),
  expiresInSeconds: Type.Integer(),
});
const LinkedIdentity = Type.Object({
  provider: Provider,
  linkedAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

function answer(reply: FastifyReply, outcome: SocialOutcome, client: 'web' | 'mobile') {
  reply.header('cache-control', 'no-store');
  if (outcome.status !== 'signed_in') {
    reply.code(202);
    return outcome;
  }
  return {
    status: 'signed_in' as const,
    ...sendTokens(reply, outcome.tokens, client, toPublicUser(outcome.user, outcome.twoFactor)),
  };
}

/** Sign-in and sign-up with Google and Facebook (social.ts); linked accounts under /v1/me. */
export function registerSocialRoutes(app: FastifyInstance, services: IdentityRouteServices): void {
  const { identity, runtime } = services;
  const { config } = runtime;
  const social = identity.social;

  app.post(
    '/v1/auth/social/:provider/start',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['auth'],
        summary: 'Begin signing in with Google or Facebook: the URL to send the person to',
        description:
          'Code flow with PKCE, `state` and (Google) `nonce`, kept server-side 10 min. The provider returns to SOCIAL_REDIRECT_URI with `code`, `state` (and `iss`): post them to the callback.',
        params: ProviderParams,
        response: {
          200: Type.Object({
            authorizationUrl: Type.String(),
            state: Type.String(),
            expiresInSeconds: Type.Integer(),
          }),
          ...problems,
        },
      },
    },
    async (request, reply) => {
      const { provider } = request.params as { provider: SocialProviderName };
      reply.header('cache-control', 'no-store');
      return social.start(provider);
    },
  );

  app.post(
    '/v1/auth/social/:provider/callback',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['auth'],
        summary: 'Finish the provider step: signs in a linked account, or asks for the phone',
        description:
          '200 `signed_in` for a linked account; else 202 with a ticket (`phone_required` or `two_factor_required`). Refused, nothing changed: bad `state` 400, refused code 400, ID token failing its checks 401, unverified e-mail 403.',
        params: ProviderParams,
        body: Type.Object(
          {
            code: Type.String({ minLength: 1, maxLength: 2048 }),
            state: Type.String({ minLength: 1, maxLength: 512 }),
            iss: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
            client: Type.Optional(Client),
          },
          { additionalProperties: false },
        ),
        response: { 200: SignedIn, 202: TicketIssued, ...problems },
      },
    },
    async (request, reply) => {
      const { provider } = request.params as { provider: SocialProviderName };
      const body = request.body as { code: string; state: string; iss?: string; client?: 'web' | 'mobile' };
      const client = body.client ?? 'mobile';
      const outcome = await social.callback(provider, { ...body, client }, requestContext(request));
      return answer(reply, outcome, client);
    },
  );

  app.post(
    '/v1/auth/social/phone',
    {
      config: {
        access: PUBLIC,
        rateLimit: authTier(config, identity.limitKey, 'social-phone', bodyPhone),
      },
      schema: {
        tags: ['auth'],
        summary: 'Name the phone number of a social sign-in; a 6-digit code is sent to it by SMS',
        description: 'The same 202 whether or not the number has an account.',
        body: Type.Object({ ticket: Ticket, phone: Phone, locale: Locale }, { additionalProperties: false }),
        response: {
          202: Type.Object({ status: Type.Literal('verification_sent'), expiresInSeconds: Type.Integer() }),
          ...problems,
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { ticket: string; phone: string; locale?: string };
      const sent = await social.sendCode(body, requestContext(request));
      reply.code(202);
      return { status: 'verification_sent' as const, expiresInSeconds: sent.expiresInSeconds };
    },
  );

  app.post(
    '/v1/auth/social/complete',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['auth'],
        summary: 'Complete a social sign-in with the SMS code (and `totp` when the account has 2FA)',
        description:
          'Links the account of the proved number, or creates a verified customer, and signs in. With 2FA: 401 `two_factor_code_required`, then `totp` with the same ticket.',
        body: Type.Object(
          {
            ticket: Ticket,
            code: Type.Optional(OtpCode),
            totp: Type.Optional(TotpOrBackupCode),
            client: Type.Optional(Client),
            locale: Locale,
          },
          { additionalProperties: false },
        ),
        response: { 200: SignedIn, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body as {
        ticket: string;
        code?: string;
        totp?: string;
        client?: 'web' | 'mobile';
        locale?: string;
      };
      const client = body.client ?? 'mobile';
      const outcome = await social.complete({ ...body, client }, requestContext(request));
      return answer(reply, outcome, client);
    },
  );

  app.get(
    '/v1/me/social-identities',
    {
      config: { access: ACCOUNT },
      schema: {
        tags: ['me'],
        summary: 'My linked Google and Facebook accounts',
        response: {
          200: Type.Object({ items: Type.Array(LinkedIdentity), available: Type.Array(Provider) }),
          ...problems,
        },
      },
    },
    async (request) => ({
      items: await social.list(principalOf(request).userId),
      available: social.configured(),
    }),
  );

  app.delete(
    '/v1/me/social-identities/:provider',
    {
      config: { access: ACCOUNT },
      schema: {
        tags: ['me'],
        summary: 'Unlink a Google or Facebook account (409 `last_sign_in_method` if it is the only way in)',
        params: ProviderParams,
        response: { 204: Type.Null(), ...problems },
      },
    },
    async (request, reply) => {
      const { provider } = request.params as { provider: SocialProviderName };
      await social.unlink(principalOf(request).userId, provider, requestContext(request));
      return reply.code(204).send();
    },
  );
}
