/**
 * Weekly fraud summaries (docs/admin.md "Weekly fraud summaries"): admins list and read them;
 * every read is audited. The summaries are written by the weekly job (fraud-summaries.ts).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import { signedInActorOf } from '../identity/index.js';
import { SUMMARIES_PAGE_MAX, type FraudSummaries } from './fraud-summaries.js';

const ADMINS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const tags = ['admin'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  429: ProblemSchema,
};
const Summary = Type.Object({
  id: Type.String({ format: 'uuid' }),
  weekStart: Type.String({ format: 'date', description: 'the Monday (Africa/Douala) the week starts' }),
  periodStart: Type.String({ format: 'date-time' }),
  periodEnd: Type.String({ format: 'date-time' }),
  figures: Type.Unknown({
    description:
      'our figures (SQL): signals and cases by rule against the week before, decisions, payout holds, top scores',
  }),
  summary: Type.Object({ fr: Type.String(), en: Type.String() }),
  source: Type.Union([Type.Literal('model'), Type.Literal('template')], {
    description: 'model (Gemini wrote the prose around the figures) or template',
  }),
  model: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

export function registerFraudSummaryRoutes(root: FastifyInstance, summaries: FraudSummaries): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/admin/fraud/summaries',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Weekly fraud summaries, newest week first, cursor-paginated (audited)',
        querystring: Type.Object(
          {
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SUMMARIES_PAGE_MAX, default: 10 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(Summary),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) =>
      summaries.list(request.query as { cursor?: string; limit?: number }, signedInActorOf(request)),
  );

  app.get(
    '/v1/admin/fraud/summaries/:id',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'One weekly fraud summary (audited)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: Summary, ...errors },
      },
    },
    async (request) => summaries.read((request.params as { id: string }).id, signedInActorOf(request)),
  );
}
