/**
 * The first-line assistant (assistant.ts, docs/support.md "First-line assistant"):
 * `POST /v1/support/assistant` for customers, restaurant owners and drivers. An answer from the
 * knowledge base or the order's status, or a hand-over to a person on a ticket. Idempotent with
 * an Idempotency-Key: the hand-over's ticket and message ids are derived from it.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { withIdempotency } from '../../http/idempotency.js';
import { ProblemSchema } from '../../http/problem.js';
import { preferredLanguage } from '../../http/problem-catalogue.js';
import type { Runtime } from '../../runtime.js';
import type { AssistantAnswer, SupportAssistant } from './assistant.js';
import { assistantKeyedIds, assistantScope } from './assistant-chat.js';
import { QUESTION_MAX } from './assistant-rules.js';
import { callerOf } from './routes.js';

const OPENER: RouteAccess = {
  permissions: ['PROFILE_MANAGEMENT', 'ORDER_PROCESSING', 'ORDER_ACCEPTANCE'],
  ownership: 'customers, restaurant owners and drivers, about their own orders and tickets (others: 404)',
};
const Uuid = Type.String({ format: 'uuid' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const QuestionBody = Type.Object(
  {
    question: Type.String({ minLength: 1, maxLength: QUESTION_MAX }),
    orderId: Type.Optional(Type.String({ format: 'uuid', description: 'an order you are party to' })),
    ticketId: Type.Optional(
      Type.String({ format: 'uuid', description: 'your ticket: a hand-over writes the question there' }),
    ),
  },
  { additionalProperties: false },
);
const Answer = Type.Object({
  answer: Type.String(),
  source: Type.String({ description: 'knowledge_base, order_status or handover' }),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  handover: Nullable(
    Type.Object({ reason: Type.String({ description: 'asked or unsure' }), ticketId: Uuid }),
  ),
  articles: Type.Array(Type.Object({ slug: Type.String(), locale: Type.String(), title: Type.String() })),
  order: Nullable(Type.Object({ orderId: Uuid, status: Type.String() })),
  model: Nullable(Type.String({ description: 'the model that phrased the answer; null: our own text' })),
});

function keyedIds(request: FastifyRequest, userId: string) {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' ? assistantKeyedIds(userId, key) : {};
}

export function registerAssistantRoutes(
  root: FastifyInstance,
  { assistant, runtime }: { assistant: SupportAssistant; runtime: Runtime },
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = runtime.database.db;
  app.post(
    '/v1/support/assistant',
    {
      config: { idempotency: 'optional', access: OPENER },
      schema: {
        tags: ['support'],
        summary:
          'Ask the first-line assistant: an answer from the help articles or your order’s status, or a hand-over to a person on a ticket',
        body: QuestionBody,
        response: {
          200: Answer,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
          422: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const scope = assistantScope(caller.userId);
      const answer = await withIdempotency(db, request, reply, { scope }, async () => ({
        statusCode: 200,
        body: await assistant.ask(
          caller,
          request.body,
          preferredLanguage(request.headers['accept-language']),
          keyedIds(request, caller.userId),
        ),
      }));
      return answer as AssistantAnswer;
    },
  );
}
