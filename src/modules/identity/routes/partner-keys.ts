import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { Permission } from '../../../http/access.js';
import { idempotencyKey as readIdempotencyKey } from '../../../http/idempotency.js';
import {
  PARTNER_SCOPES,
  ROTATION_GRACE_DEFAULT_DAYS,
  ROTATION_GRACE_MAX_DAYS,
  type IssuedPartnerKey,
  type PartnerKeyView,
} from '../partner-keys.js';
import { actorOf, type IdentityRouteServices } from './common.js';
import { problems4xx } from './me.js';

/**
 * Admin routes for partner API keys (partner-keys.ts). Issuing and rotating hand out secrets, so
 * they want a step-up; revoking is always safe and works at once without one.
 */
const SECURITY = { permissions: ['SECURITY_MONITORING'] as Permission[] };
const KeyParams = Type.Object({ keyId: Type.String({ pattern: '^[0-9a-f]{24}$' }) });
const Scope = Type.Union(PARTNER_SCOPES.map((scope) => Type.Literal(scope)));
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const PartnerKeySchema = Type.Object({
  keyId: Type.String(),
  label: Type.String(),
  restaurantId: Nullable(Type.String()),
  scopes: Type.Array(Type.String()),
  status: Type.Union([
    Type.Literal('active'),
    Type.Literal('rotated'),
    Type.Literal('expired'),
    Type.Literal('revoked'),
  ]),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Nullable(Type.String({ format: 'date-time' })),
  rotatedFrom: Nullable(Type.String()),
  rotatedTo: Nullable(Type.String()),
  revokedAt: Nullable(Type.String({ format: 'date-time' })),
});

const IssuedSchema = Type.Object({
  keyId: Type.String(),
  apiKey: Type.String({ description: 'shown once: send it in x-api-key' }),
  signingSecret: Type.String({ description: 'shown once: the HMAC-SHA256 secret for signed operations' }),
  expiresAt: Type.String({ format: 'date-time' }),
  key: PartnerKeySchema,
});

function present(view: PartnerKeyView) {
  return {
    ...view,
    createdAt: view.createdAt.toISOString(),
    expiresAt: view.expiresAt.toISOString(),
    lastUsedAt: view.lastUsedAt?.toISOString() ?? null,
    revokedAt: view.revokedAt?.toISOString() ?? null,
  };
}

function issued(result: IssuedPartnerKey & { view: PartnerKeyView }) {
  return {
    keyId: result.keyId,
    apiKey: result.apiKey,
    signingSecret: result.signingSecret,
    expiresAt: result.expiresAt.toISOString(),
    key: present(result.view),
  };
}

export function registerPartnerKeyRoutes(app: FastifyInstance, services: IdentityRouteServices): void {
  const { partnerKeys } = services.identity;

  app.post(
    '/v1/admin/partner-keys',
    {
      // The answer holds the secrets, so it is not kept for replay: a retry with the same
      // Idempotency-Key gets 409 naming the key (partner-keys.ts), never a second key.
      config: { access: { ...SECURITY, stepUp: true }, idempotency: 'optional', location: true },
      schema: {
        tags: ['admin'],
        summary: 'Issue a partner API key with scopes (step-up); the key and signing secret are shown once',
        body: Type.Object(
          {
            label: Type.String({ minLength: 1, maxLength: 100 }),
            restaurantId: Type.Optional(
              Type.String({ format: 'uuid', description: 'the restaurant a POS key acts for' }),
            ),
            scopes: Type.Array(Scope, { minItems: 1, maxItems: PARTNER_SCOPES.length, uniqueItems: true }),
          },
          { additionalProperties: false },
        ),
        response: { 201: IssuedSchema, ...problems4xx },
      },
    },
    async (request, reply) => {
      const body = request.body as { label: string; restaurantId?: string; scopes: string[] };
      const idempotencyKey = readIdempotencyKey(request, false);
      const result = await partnerKeys.issue(
        {
          label: body.label,
          restaurantId: body.restaurantId ?? null,
          scopes: body.scopes,
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        },
        actorOf(request),
      );
      reply.header('cache-control', 'no-store');
      reply.header('location', `/v1/admin/partner-keys/${result.keyId}`);
      return reply.code(201).send(issued(result));
    },
  );

  app.get(
    '/v1/admin/partner-keys/:keyId',
    {
      config: { access: SECURITY },
      schema: {
        tags: ['admin'],
        summary: 'One partner API key with its status and last use (never the key)',
        params: KeyParams,
        response: { 200: PartnerKeySchema, ...problems4xx },
      },
    },
    async (request) => present(await partnerKeys.get((request.params as { keyId: string }).keyId)),
  );

  app.get(
    '/v1/admin/partner-keys',
    {
      config: { access: SECURITY },
      schema: {
        tags: ['admin'],
        summary: 'Partner API keys, newest first, with status and last use (never the key)',
        querystring: Type.Object(
          {
            restaurantId: Type.Optional(Type.String({ format: 'uuid' })),
            expiringWithinDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 90 })),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(PartnerKeySchema) }), ...problems4xx },
      },
    },
    async (request) => {
      const query = request.query as { restaurantId?: string; expiringWithinDays?: number; limit: number };
      return { items: (await partnerKeys.list(query)).map(present) };
    },
  );

  app.post(
    '/v1/admin/partner-keys/:keyId/rotate',
    {
      config: { access: { ...SECURITY, stepUp: true }, location: true },
      preValidation: async (request) => void (request.body ??= {}),
      schema: {
        tags: ['admin'],
        summary:
          'Issue the successor of a key (step-up); the old key keeps working for the grace period, then expires',
        params: KeyParams,
        body: Type.Object(
          {
            graceDays: Type.Integer({
              minimum: 0,
              maximum: ROTATION_GRACE_MAX_DAYS,
              default: ROTATION_GRACE_DEFAULT_DAYS,
            }),
          },
          { additionalProperties: false },
        ),
        response: { 201: IssuedSchema, ...problems4xx },
      },
    },
    async (request, reply) => {
      const { keyId } = request.params as { keyId: string };
      const { graceDays } = request.body as { graceDays: number };
      const result = await partnerKeys.rotate(keyId, graceDays, actorOf(request));
      reply.header('cache-control', 'no-store');
      reply.header('location', `/v1/admin/partner-keys/${result.keyId}`);
      return reply.code(201).send(issued(result));
    },
  );

  app.post(
    '/v1/admin/partner-keys/:keyId/revoke',
    {
      config: { access: SECURITY },
      preValidation: async (request) => void (request.body ??= {}),
      schema: {
        tags: ['admin'],
        summary: 'Revoke a partner API key at once (repeating it changes nothing)',
        params: KeyParams,
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: PartnerKeySchema, ...problems4xx },
      },
    },
    async (request) => {
      const { keyId } = request.params as { keyId: string };
      return present(await partnerKeys.revoke(keyId, actorOf(request)));
    },
  );
}
