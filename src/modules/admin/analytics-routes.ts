/**
 * Order analytics for admins (docs/admin.md "Analytics"): a report by day, restaurant or city in
 * cursor pages, and the same as a CSV streamed page by page; the insights and their CSV. Every
 * read and export is audited (`admin.analytics_viewed`, `admin.analytics_exported`: which report,
 * which days), since customer figures (RFM, churn risk, lifetime value) are among them.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import { signedInActorOf, type AuditFunction } from '../identity/index.js';
import { ANALYTICS_GROUPS, ANALYTICS_PAGE_MAX, type Analytics, type AnalyticsGroup } from './analytics.js';
import { INSIGHT_REPORTS, INSIGHTS_ROWS_MAX, type InsightReport, type Insights } from './insights.js';

const ADMINS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const tags = ['admin'];
const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 429: ProblemSchema };
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a Douala day, YYYY-MM-DD' });
const Group = Type.Unsafe<AnalyticsGroup>({ type: 'string', enum: [...ANALYTICS_GROUPS] });
const Row = Type.Object({
  key: Type.String(),
  label: Type.String(),
  orders: Type.Integer(),
  paid: Type.Integer(),
  delivered: Type.Integer(),
  cancelled: Type.Integer(),
  grossMinor: Type.Integer(),
  discountMinor: Type.Integer(),
  deliveryFeesMinor: Type.Integer(),
  tipsMinor: Type.Integer(),
  averageBasketMinor: Type.Integer(),
});

const Report = Type.Unsafe<InsightReport>({ type: 'string', enum: [...INSIGHT_REPORTS] });
const InsightQuery = Type.Object(
  {
    from: Day,
    to: Day,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: INSIGHTS_ROWS_MAX })),
  },
  { additionalProperties: false },
);

export function registerAnalyticsRoutes(
  root: FastifyInstance,
  analytics: Analytics,
  insights: Insights,
  audit: AuditFunction,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const audited = (
    request: FastifyRequest,
    action: 'admin.analytics_viewed' | 'admin.analytics_exported',
    report: string,
    query: { from: string; to: string; groupBy?: string },
  ) =>
    audit({
      action,
      actor: signedInActorOf(request),
      resource: `analytics:${report}`,
      newValue: {
        report,
        from: query.from,
        to: query.to,
        ...(query.groupBy === undefined ? {} : { groupBy: query.groupBy }),
      },
    });

  app.get(
    '/v1/admin/analytics/orders',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Orders and revenue by day, restaurant or city over Douala days (cursor pages)',
        querystring: Type.Object(
          {
            groupBy: Group,
            from: Day,
            to: Day,
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: ANALYTICS_PAGE_MAX })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Row), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const page = await analytics.page(request.query);
      await audited(request, 'admin.analytics_viewed', 'orders', request.query);
      return page;
    },
  );

  app.get(
    '/v1/admin/analytics/orders.csv',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'The same report as CSV (UTF-8 with BOM), streamed',
        querystring: Type.Object({ groupBy: Group, from: Day, to: Day }, { additionalProperties: false }),
        response: { 200: Type.String(), ...errors },
      },
    },
    async (request, reply) => {
      const { groupBy, from, to } = request.query;
      const stream = analytics.csv({ groupBy, from, to });
      await audited(request, 'admin.analytics_exported', 'orders', request.query);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="orders-by-${groupBy}-${from}-${to}.csv"`)
        .send(stream as never);
    },
  );

  app.get(
    '/v1/admin/insights/:report',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary:
          'Peak hours, best sellers, customers (RFM, churn risk, lifetime value), restaurant health or the revenue forecast over Douala days',
        params: Type.Object({ report: Report }),
        querystring: InsightQuery,
        response: {
          200: Type.Object({
            report: Report,
            items: Type.Array(Type.Object({}, { additionalProperties: true })),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const answer = await insights.report({ report: request.params.report, ...request.query });
      await audited(request, 'admin.analytics_viewed', request.params.report, request.query);
      return answer;
    },
  );

  app.get(
    '/v1/admin/insights/:report/csv',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'The same insight report as CSV (UTF-8 with BOM)',
        params: Type.Object({ report: Report }),
        querystring: InsightQuery,
        response: { 200: Type.String(), ...errors },
      },
    },
    async (request, reply) => {
      const { report } = request.params;
      const stream = await insights.csv({ report, ...request.query });
      await audited(request, 'admin.analytics_exported', report, request.query);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="${report}-${request.query.from}-${request.query.to}.csv"`,
        )
        .send(stream as never);
    },
  );
}
