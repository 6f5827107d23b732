import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { toPublicUser } from '../views.js';
import {
  authTier,
  bodyPhone,
  Client,
  OtpCode,
  Password,
  Phone,
  requestContext,
  sendTokens,
  TokensSchema,
  type IdentityRouteServices,
} from './common.js';
import { principalOf, problems4xx } from './me.js';

export function registerGuestRoutes(app: FastifyInstance, services: IdentityRouteServices): void {
  const { identity, runtime } = services;
  const { config } = runtime;

  app.post(
    '/v1/auth/guest',
    {
      config: {
        access: { public: true },
        rateLimit: authTier(config, identity.limitKey, 'guest', bodyPhone),
      },
      schema: {
        tags: ['auth'],
        summary: 'Start a guest session: a 6-digit code is sent to the phone',
        body: Type.Object(
          { phone: Phone, locale: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])) },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ status: Type.Literal('verification_sent'), expiresInSeconds: Type.Integer() }),
          ...problems4xx,
        },
      },
    },
    async (request, reply) => {
      const sent = await identity.guests.start(
        request.body as { phone: string; locale?: string },
        requestContext(request),
      );
      reply.code(202);
      return { status: 'verification_sent' as const, expiresInSeconds: sent.expiresInSeconds };
    },
  );

  app.post(
    '/v1/auth/guest/verify',
    {
      config: {
        access: { public: true },
        rateLimit: authTier(config, identity.limitKey, 'guest-verify', bodyPhone),
      },
      schema: {
        tags: ['auth'],
        summary: 'Confirm the code: a guest session (cart, guest order) for this phone',
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
      const signedIn = await identity.guests.verify({ ...body, client }, requestContext(request));
      return sendTokens(reply, signedIn, client);
    },
  );

  app.post(
    '/v1/auth/guest/convert',
    {
      config: {
        access: {
          permissions: ['GUEST_ORDER'],
          allowGuest: true,
          ownership: 'self: the guest’s own session',
        },
      },
      schema: {
        tags: ['auth'],
        summary: 'Turn the guest into a customer account, keeping its orders (same user id)',
        body: Type.Object(
          {
            password: Password,
            name: Type.String({ minLength: 1, maxLength: 100 }),
            email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
            client: Type.Optional(Client),
          },
          { additionalProperties: false },
        ),
        response: { 200: TokensSchema, ...problems4xx },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body as {
        password: string;
        name: string;
        email?: string;
        client?: 'web' | 'mobile';
      };
      const client = body.client ?? 'mobile';
      const signedIn = await identity.guests.convert(
        { ...body, client, userId: principal.userId, sessionId: principal.sessionId },
        requestContext(request),
      );
      return sendTokens(reply, signedIn, client, toPublicUser(signedIn.user, false));
    },
  );
}
