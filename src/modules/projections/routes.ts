import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { ProjectionRunner } from '../../../projections/index.js';
import { ProblemSchema } from '../../http/problem.js';
import { listProjections, requestProjectionRebuild } from './service.js';

const ProjectionItem = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  generation: Type.Integer(),
  status: Type.Union([Type.Literal('building'), Type.Literal('active'), Type.Literal('retired')]),
  schema: Type.String(),
  position: Type.Union([Type.String(), Type.Null()]),
  eventsProcessed: Type.Integer(),
  lastEventAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  failed: Type.Union([
    Type.Object({ at: Type.String({ format: 'date-time' }), event: Type.Unknown(), error: Type.String() }),
    Type.Null(),
  ]),
  lagEvents: Type.Union([Type.Integer(), Type.Null()]),
  lagSeconds: Type.Union([Type.Number(), Type.Null()]),
  running: Type.Boolean(),
  registered: Type.Boolean(),
});

const admin = { access: { permissions: ['FULL_SYSTEM_ACCESS' as const] } };
const problems4xx = { 401: ProblemSchema, 403: ProblemSchema };

export function registerProjectionRoutes(app: FastifyInstance, runner: ProjectionRunner): void {
  app.get(
    '/v1/admin/projections',
    {
      config: admin,
      schema: {
        tags: ['admin', 'projections'],
        summary: 'Projections with their generation, checkpoint, lag and failure',
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ items: Type.Array(ProjectionItem) }), ...problems4xx },
      },
    },
    async () => listProjections(runner),
  );

  app.post(
    '/v1/admin/projections/:name/rebuild',
    {
      config: admin,
      schema: {
        tags: ['admin', 'projections'],
        summary: 'Rebuild a projection into new tables while the current ones serve; swapped when caught up',
        security: [{ bearer: [] }],
        params: Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$' }) }),
        response: {
          202: Type.Object({
            name: Type.String(),
            generation: Type.Integer(),
            status: Type.Literal('building'),
          }),
          400: ProblemSchema,
          404: ProblemSchema,
          ...problems4xx,
        },
      },
    },
    async (request, reply) => {
      const { name } = request.params as { name: string };
      reply.code(202);
      return requestProjectionRebuild(runner, name);
    },
  );
}
