/**
 * The live dashboard's first paint (docs/admin.md "Live dashboard"): the figures now and the
 * alerts they raise; `/ws/admin` `live-analytics` and `system-alerts` carry the changes after.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import type { LiveDashboard } from './live.js';

const ADMINS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const Count = Type.Number({ minimum: 0 });
const Rate = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]);
export const DashboardSchema = Type.Object({
  at: Type.String({ format: 'date-time' }),
  orders: Type.Object({ perMinute: Count, byStatus: Type.Record(Type.String(), Count) }),
  drivers: Type.Object({ online: Count, busy: Count }),
  payments: Type.Array(
    Type.Object({
      provider: Type.String(),
      attempts: Count,
      succeeded: Count,
      failed: Count,
      successRate: Rate,
    }),
  ),
  payouts: Type.Object({
    open: Count,
    byStatus: Type.Record(Type.String(), Count),
    oldestOpenSeconds: Type.Union([Count, Type.Null()]),
  }),
  projections: Type.Array(
    Type.Object({
      name: Type.String(),
      lagEvents: Type.Union([Type.Number(), Type.Null()]),
      lagSeconds: Type.Union([Type.Number(), Type.Null()]),
      failed: Type.Boolean(),
    }),
  ),
  http: Type.Object({ requests: Count, serverErrors: Count, errorRate: Rate }),
});

export function registerDashboardRoute(root: FastifyInstance, live: LiveDashboard): void {
  root.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/admin/dashboard',
    {
      config: { access: ADMINS },
      schema: {
        tags: ['admin'],
        summary: 'The live dashboard now (first paint; /ws/admin live-analytics and system-alerts follow)',
        response: {
          200: Type.Object({
            dashboard: DashboardSchema,
            alerts: Type.Array(
              Type.Object({
                key: Type.String(),
                severity: Type.Union([Type.Literal('warning'), Type.Literal('critical')]),
                message: Type.String({
                  description: 'English; `code` and `params` word it in other languages',
                }),
                code: Type.String(),
                params: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])),
              }),
            ),
          }),
          401: ProblemSchema,
          403: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async () => {
      const dashboard = await live.snapshot();
      return { dashboard, alerts: live.alertsOf(dashboard) };
    },
  );
}
