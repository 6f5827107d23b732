import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { ProblemSchema } from '../../http/problem.js';
import { CHANNELS, OUTBOX_PAGE_MAX, type OutboxReader } from './outbox.js';

const Message = Type.Object({
  id: Type.String(),
  channel: Type.Union(CHANNELS.map((channel) => Type.Literal(channel))),
  to: Type.String(),
  subject: Type.Union([Type.String(), Type.Null()]),
  body: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' }),
});

/**
 * `GET /v1/dev/outbox?to=…`: what the recording transport "sent". Registered only while the
 * outbox is on, which the config forbids in production, so the route does not exist there.
 */
export function registerOutboxRoutes(app: FastifyInstance, outbox: OutboxReader): void {
  app.get(
    '/v1/dev/outbox',
    {
      config: { access: { public: true, description: 'development only: messages the outbox recorded' } },
      schema: {
        tags: ['development'],
        summary: 'Messages recorded instead of sent (development and tests only)',
        querystring: Type.Object({
          to: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
          channel: Type.Optional(Type.Union(CHANNELS.map((channel) => Type.Literal(channel)))),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: OUTBOX_PAGE_MAX, default: 20 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(Message) }), 400: ProblemSchema },
      },
    },
    async (request) => {
      const query = request.query as { to?: string; channel?: (typeof CHANNELS)[number]; limit?: number };
      return { items: await outbox.list(query) };
    },
  );
}
