/**
 * The in-app centre (`/v1/notifications`), acknowledgements, devices (`/v1/me/devices`) and the
 * dead letters for administrators. Preferences are identity's (`/v1/me/notification-preferences`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Permission, Principal, RouteAccess } from '../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { ANY_SIGNED_IN } from '../identity/index.js';
import { notifyErrors } from './errors.js';
import { PAGE_MAX } from './repository.js';
import type { Notify } from './service.js';

const problems = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  422: ProblemSchema,
  429: ProblemSchema,
};
const SELF: RouteAccess = {
  permissions: ANY_SIGNED_IN,
  allowGuest: true,
  ownership: 'self: the caller’s own notifications and devices',
};
const ADMIN: RouteAccess = { permissions: ['SECURITY_MONITORING'] as Permission[] };
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

const Item = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.String(),
  category: Type.String(),
  title: Type.String(),
  body: Type.String(),
  orderId: Type.Union([Type.String(), Type.Null()]),
  requiresAck: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  readAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  acknowledgedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const Device = Type.Object({
  id: Type.String({ format: 'uuid' }),
  platform: Type.Union([Type.Literal('android'), Type.Literal('ios'), Type.Literal('web')]),
  createdAt: Type.String({ format: 'date-time' }),
});
const DeadLetter = Type.Object({
  id: Type.String({ format: 'uuid' }),
  intentId: Type.String({ format: 'uuid' }),
  channel: Type.String(),
  queue: Type.String(),
  reason: Type.String(),
  attempts: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
});
const Page = Type.Object({
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE_MAX, default: 20 })),
});

const deviceView = (row: { id: string; platform: 'android' | 'ios' | 'web'; created_at: Date }) => ({
  id: row.id,
  platform: row.platform,
  createdAt: row.created_at.toISOString(),
});

function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return request.principal;
}

export function registerNotifyRoutes(app: FastifyInstance, notify: Notify): void {
  app.get(
    '/v1/notifications',
    {
      config: { access: SELF },
      schema: {
        tags: ['notifications'],
        summary: 'My notifications, newest first, with the unread count',
        querystring: Page,
        response: {
          200: Type.Object({
            items: Type.Array(Item),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
            unreadCount: Type.Integer({ minimum: 0 }),
          }),
          ...problems,
        },
      },
    },
    async (request) =>
      notify.centre.list(principalOf(request).userId, request.query as { cursor?: string; limit?: number }),
  );

  for (const [action, ack] of [
    ['read', false],
    ['ack', true],
  ] as const) {
    app.post(
      `/v1/notifications/:id/${action}`,
      {
        config: { access: SELF },
        schema: {
          tags: ['notifications'],
          summary: ack
            ? 'Acknowledge a notification (a new paid order: no SMS follows); also marks it read'
            : 'Mark a notification read (reading a critical one acknowledges it too)',
          params: IdParams,
          response: { 200: Item, ...problems },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        // Reading is acknowledging: the person has seen it in the app.
        return notify.centre.markRead(principalOf(request).userId, id, true);
      },
    );
  }

  app.post(
    '/v1/notifications/read-all',
    {
      config: { access: SELF },
      schema: {
        tags: ['notifications'],
        summary: 'Mark all my notifications read',
        response: { 200: Type.Object({ updated: Type.Integer({ minimum: 0 }) }), ...problems },
      },
    },
    async (request) => notify.centre.markAllRead(principalOf(request).userId),
  );

  app.post(
    '/v1/me/devices',
    {
      config: { access: SELF, location: true },
      schema: {
        tags: ['devices'],
        summary: 'Register this device for push (idempotent per token: 201 new, 200 known)',
        body: Type.Object(
          {
            token: Type.String({ minLength: 16, maxLength: 4096, pattern: '^[\\x21-\\x7E]+$' }),
            platform: Type.Union([Type.Literal('android'), Type.Literal('ios'), Type.Literal('web')]),
          },
          { additionalProperties: false },
        ),
        response: { 200: Device, 201: Device, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body as { token: string; platform: 'android' | 'ios' | 'web' };
      const device = await notify.repository.registerDevice(
        principalOf(request).userId,
        body.token,
        body.platform,
        new Date(),
      );
      if (device === 'too_many')
        throw notifyErrors.of(
          'unprocessable',
          'too_many_devices',
          'An account registers at most 10 devices.',
        );
      reply.code(device.created ? 201 : 200);
      reply.header('location', `/v1/me/devices/${device.id}`);
      return { id: device.id, platform: device.platform, createdAt: device.createdAt.toISOString() };
    },
  );

  app.get(
    '/v1/me/devices',
    {
      config: { access: SELF },
      schema: {
        tags: ['devices'],
        summary: 'My devices registered for push (never their tokens)',
        response: { 200: Type.Object({ items: Type.Array(Device) }), ...problems },
      },
    },
    async (request) => ({
      items: (await notify.repository.devices(principalOf(request).userId)).map(deviceView),
    }),
  );

  app.get(
    '/v1/me/devices/:id',
    {
      config: { access: SELF },
      schema: {
        tags: ['devices'],
        summary: 'One of my devices',
        params: IdParams,
        response: { 200: Device, ...problems },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const device = (await notify.repository.devices(principalOf(request).userId)).find(
        (row) => row.id === id,
      );
      if (device === undefined)
        throw notifyErrors.of('not_found', 'device_not_found', 'There is no such device among yours.');
      return deviceView(device);
    },
  );

  app.delete(
    '/v1/me/devices/:id',
    {
      config: { access: SELF },
      schema: {
        tags: ['devices'],
        summary: 'Forget one of my devices (no more push to it)',
        params: IdParams,
        response: { 204: Type.Null(), ...problems },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      if (!(await notify.repository.removeDevice(principalOf(request).userId, id)))
        throw notifyErrors.of('not_found', 'device_not_found', 'There is no such device among yours.');
      reply.code(204);
      return null;
    },
  );

  app.get(
    '/v1/admin/notifications/dead-letters',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['admin'],
        summary: 'Sends given up after their last retry (ids and reasons, no personal data)',
        querystring: Page,
        response: {
          200: Type.Object({
            items: Type.Array(DeadLetter),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...problems,
        },
      },
    },
    async (request) => notify.deadLetters(request.query as { cursor?: string; limit?: number }),
  );
}

// Compact on purpose (the OpenAPI document has a size budget): counts are non-negative integers.
const Counts = (keys: readonly string[]) =>
  Type.Object(Object.fromEntries(keys.map((key) => [key, Type.Integer()])));
const Rate = Type.Union([Type.Number(), Type.Null()]);
const ChannelStats = Type.Object({
  channel: Type.String(),
  sends: Counts(['sent', 'failed', 'capped', 'sending']),
  successRate: Rate,
  receipts: Counts(['queued', 'sent', 'delivered', 'failed']),
  deliveredRate: Rate,
  costXaf: Counts(['total', 'fromProvider', 'estimated', 'unitCostXaf']),
});

export function registerNotifyStatsRoute(app: FastifyInstance, notify: Pick<Notify, 'stats'>): void {
  app.get(
    '/v1/admin/notifications/stats',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['admin'],
        summary:
          'Per-channel sends, success and delivered rates, and cost over a period (default: the last 24 h)',
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ from: Type.String(), to: Type.String(), channels: Type.Array(ChannelStats) }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
        },
      },
    },
    async (request) => notify.stats(request.query as { from?: string; to?: string }),
  );
}
