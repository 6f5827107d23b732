/**
 * The data-retention policy's HTTP edge (docs/admin.md "Data retention"): read it, change it
 * (audited), and run it now (the nightly job's work; idempotent).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import { signedInActorOf } from '../identity/index.js';
import { RETENTION_MAX_DAYS, type Retention } from './retention.js';

const ADMINS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const tags = ['admin'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  409: ProblemSchema,
  429: ProblemSchema,
};
const Policy = Type.Object({
  kinds: Type.Array(
    Type.Object({
      kind: Type.String(),
      description: Type.String(),
      defaultDays: Type.Integer(),
      minimumDays: Type.Integer(),
      configuredDays: Type.Union([Type.Integer(), Type.Null()]),
      days: Type.Integer(),
    }),
  ),
  version: Type.Integer(),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const Run = Type.Object({
  at: Type.String({ format: 'date-time' }),
  deleted: Type.Record(Type.String(), Type.Integer()),
  unfinished: Type.Array(Type.String()),
  failed: Type.Array(Type.String()),
});

export function registerRetentionRoutes(root: FastifyInstance, retention: Retention): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/admin/retention',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'The data-retention policy: each kind of data, its period and its default',
        response: {
          200: Policy,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async () => retention.policy(),
  );

  app.put(
    '/v1/admin/retention',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Set (days) or reset (null) the retention period of kinds of data (audited)',
        body: Type.Object(
          {
            days: Type.Record(
              Type.String({ pattern: '^[a-z][a-z_]*\\.[a-z][a-z_]*$', maxLength: 64 }),
              Type.Union([Type.Integer({ minimum: 1, maximum: RETENTION_MAX_DAYS }), Type.Null()]),
              { minProperties: 1, maxProperties: 50 },
            ),
            expectedVersion: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Policy, ...errors },
      },
    },
    async (request) => retention.setPolicy(request.body, signedInActorOf(request)),
  );

  app.post(
    '/v1/admin/retention/runs',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary:
          'Apply the retention policy now (what the nightly job does; running it again deletes nothing more)',
        response: { 200: Run, 401: ProblemSchema, 403: ProblemSchema, 429: ProblemSchema },
      },
    },
    async () => retention.apply(new Date()),
  );
}
