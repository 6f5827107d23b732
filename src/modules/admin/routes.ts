/**
 * The admin context's HTTP edge (docs/admin.md): feature flags and maintenance mode (admins
 * only), bulk user actions with a dry run, the caller's evaluated flags and the public
 * maintenance notice; and the maintenance hook over every route.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import Type, { type Static } from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { withIdempotency } from '../../http/idempotency.js';
import { ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import { ROLES, type Role } from '../../shared/principal.js';
import { ANY_SIGNED_IN, signedInActorOf, type AuditFunction } from '../identity/index.js';
import { BULK_ACTIONS, BULK_MAX_ITEMS, type BulkAction } from './rules.js';
import { MAX_FLAGS, type AdminService } from './service.js';
import type { StoredFlag } from './store.js';
import { CASES_PAGE_MAX, type FraudDetection } from './fraud.js';
import { CASE_DECISIONS, FRAUD_RULES, type CaseDecision } from './fraud-rules.js';
import { CASE_STATUSES, type CaseStatus } from './tables.js';
import type { Retention } from './retention.js';
import { registerRetentionRoutes } from './retention-routes.js';
import { registerRateLimitRoutes } from './rate-limit-routes.js';
import { registerDashboardRoute } from './dashboard-routes.js';
import type { LiveDashboard } from './live.js';
import type { WithdrawalHolds } from './withdrawal-holds.js';
import { registerWithdrawalHoldRoutes } from './withdrawal-hold-routes.js';
import type { Analytics } from './analytics.js';
import type { Insights } from './insights.js';
import { registerAnalyticsRoutes } from './analytics-routes.js';
import type { Partnerships } from './partnerships.js';
import { registerPartnershipRoutes } from './partnership-routes.js';
import type { PromoSlots } from './promo-slots.js';
import { registerPromoSlotRoutes } from './promo-slot-routes.js';
import { registerConsoleRoutes } from './console-routes.js';
import type { Newsletters } from './newsletters.js';
import { registerNewsletterRoutes } from './newsletter-routes.js';

export interface AdminRouteServices {
  admin: AdminService;
  fraud: FraudDetection;
  retention: Retention;
  live: LiveDashboard;
  withdrawalHolds: WithdrawalHolds;
  analytics: Analytics;
  insights: Insights;
  partnerships: Partnerships;
  promoSlots: PromoSlots;
  newsletters: Newsletters;
  /** Identity's audit log: reads of personal figures (analytics, insights) are audited too. */
  audit: AuditFunction;
  runtime: Runtime;
}

/** Only admins (FULL_SYSTEM_ACCESS is the admin role's own permission). */
const ADMINS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const USER_ADMINS: RouteAccess = { permissions: ['USER_MANAGEMENT'] };
const tags = ['admin'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
  429: ProblemSchema,
};
/** Reads without a body or path parameter answer no 404, 409 or 422 (a smaller document). */
const readErrors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 429: ProblemSchema };
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const FlagKey = Type.String({
  pattern: '^[a-z][a-z0-9_.-]{1,63}$',
  description: 'lower-case, 2-64 characters',
});
const City = Type.String({ pattern: '^[A-Za-z][A-Za-z-]{1,39}$', description: 'e.g. douala' });
/** A string from a fixed list, as one `enum` (an `anyOf` of literals is several times larger). */
const enumOf = <T extends string>(values: readonly T[]) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values] });
const RoleSchema = enumOf<Role>(ROLES);
const FlagBody = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 300 })),
    enabled: Type.Boolean(),
    roles: Type.Array(RoleSchema, {
      maxItems: ROLES.length,
      uniqueItems: true,
      description: 'empty: every role',
    }),
    percentage: Type.Integer({ minimum: 0, maximum: 100, description: 'share of users, by a stable hash' }),
    cities: Type.Array(City, { maxItems: 50, uniqueItems: true, description: 'empty: every city' }),
    expectedVersion: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'the version read (0: create only)',
      }),
    ),
  },
  { additionalProperties: false },
);
const Flag = Type.Object({
  key: Type.String(),
  description: Type.String(),
  enabled: Type.Boolean(),
  roles: Type.Array(Type.String()),
  percentage: Type.Integer(),
  cities: Type.Array(Type.String()),
  version: Type.Integer(),
  updatedBy: Nullable(Type.String()),
  updatedAt: Type.String({ format: 'date-time' }),
});
const MaintenanceView = Type.Object({
  enabled: Type.Boolean(),
  message: Type.String(),
  until: Nullable(Type.String({ format: 'date-time' })),
});
const BulkBody = Type.Object(
  {
    action: enumOf(BULK_ACTIONS),
    userIds: Type.Array(Type.String({ format: 'uuid' }), {
      minItems: 1,
      maxItems: BULK_MAX_ITEMS,
      uniqueItems: true,
    }),
    reason: Type.Optional(Type.String({ minLength: 3, maxLength: 300, description: 'required to suspend' })),
    dryRun: Type.Boolean({ description: 'true: report what each item would do, change nothing' }),
  },
  { additionalProperties: false },
);
const BulkAnswer = Type.Object({
  action: Type.String(),
  dryRun: Type.Boolean(),
  results: Type.Array(
    Type.Object({
      userId: Type.String(),
      outcome: enumOf(['applied', 'would_apply', 'skipped', 'refused', 'failed'] as const),
      code: Type.Optional(Type.String()),
      detail: Type.Optional(Type.String()),
    }),
  ),
});

function flagView(flag: StoredFlag) {
  return {
    key: flag.key,
    description: flag.description,
    enabled: flag.enabled,
    roles: [...flag.roles],
    percentage: flag.percentage,
    cities: [...flag.cities],
    version: flag.version,
    updatedBy: flag.updatedBy,
    updatedAt: flag.updatedAt.toISOString(),
  };
}

/**
 * Maintenance mode over every route (registered with the identity hook's principal already set):
 * a write by a non-staff caller is a 503 `maintenance_mode` with the admin's message and a
 * Retry-After; reads, staff, sign-in and providers' webhooks go on (rules.ts, maintenanceDecision).
 * Runs after authentication's own checks (preParsing, registered later), so a bad token is still a 401.
 */
export const maintenanceHook = fp(
  async (app: FastifyInstance, options: { admin: AdminService }) => {
    app.addHook('preParsing', async (request, _reply, payload) => {
      const refusal = await options.admin.maintenance.check({
        method: request.method,
        route: request.routeOptions.url ?? '',
        roles: request.principal?.roles ?? [],
      });
      if (refusal !== undefined) throw refusal;
      return payload;
    });
  },
  { name: 'admin-maintenance', fastify: '5.x', dependencies: ['identity-auth'] },
);

const FraudCase = Type.Object({
  id: Type.String(),
  rule: Type.String({ description: FRAUD_RULES.join(', ') }),
  subject: Type.String({
    description:
      '`user:<id>`, `phone:<keyed hash>`, `coupon:<id>:phone|address:<keyed hash>` or `pair:<keyed hash>`',
  }),
  userId: Nullable(Type.String()),
  relatedUserId: Nullable(
    Type.String({ description: 'a pair rule’s second person (collusion: the customer)' }),
  ),
  score: Type.Integer({ minimum: 0, maximum: 100 }),
  signals: Type.Integer(),
  reason: Type.String(),
  status: Type.String({ description: CASE_STATUSES.join(', ') }),
  openedAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  decidedBy: Nullable(Type.String()),
  decidedAt: Nullable(Type.String({ format: 'date-time' })),
  decisionNote: Nullable(Type.String()),
});

function registerFraudRoutes(app: FastifyInstance, fraud: FraudDetection, runtime: Runtime): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get(
    '/v1/admin/fraud/cases',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Fraud cases for review, newest first, cursor-paginated',
        querystring: Type.Object({
          status: Type.Optional(enumOf(CASE_STATUSES)),
          cursor: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CASES_PAGE_MAX, default: 20 })),
        }),
        response: {
          200: Type.Object({ items: Type.Array(FraudCase), nextCursor: Nullable(Type.String()) }),
          ...readErrors,
        },
      },
    },
    async (request) => fraud.list(request.query as { status?: CaseStatus; cursor?: string; limit?: number }),
  );

  typed.post(
    '/v1/admin/fraud/cases/:id/decision',
    {
      config: { access: ADMINS, idempotency: 'optional' },
      schema: {
        tags,
        summary: 'Dismiss (a false alarm) or confirm (fraud) an open case, with a note (audited)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        body: Type.Object(
          {
            decision: enumOf(CASE_DECISIONS),
            note: Type.String({ minLength: 3, maxLength: 500 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: FraudCase, ...errors },
      },
    },
    async (request, reply) => {
      const actor = signedInActorOf(request);
      const { id } = request.params as { id: string };
      const body = request.body as { decision: CaseDecision; note: string };
      const answer = await withIdempotency(
        runtime.database.db,
        request,
        reply,
        { scope: `admin:fraud-decision:${actor.userId}` },
        async () => ({ statusCode: 200, body: await fraud.decide(id, body, actor) }),
      );
      return answer as Static<typeof FraudCase>;
    },
  );

  typed.post(
    '/v1/admin/fraud/cases/:id/release-hold',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: "Release a decided case's hold on its person's payouts, with a note (audited)",
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        body: Type.Object(
          { note: Type.String({ minLength: 3, maxLength: 500 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ caseId: Type.String({ format: 'uuid' }), held: Type.Boolean() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return fraud.releaseHold(id, request.body as { note: string }, signedInActorOf(request));
    },
  );
}

export function registerAdminRoutes(
  root: FastifyInstance,
  {
    admin,
    fraud,
    retention,
    live,
    withdrawalHolds,
    analytics,
    insights,
    partnerships,
    promoSlots,
    newsletters,
    audit,
    runtime,
  }: AdminRouteServices,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = runtime.database.db;
  registerFraudRoutes(root, fraud, runtime);
  registerRetentionRoutes(root, retention);
  registerRateLimitRoutes(root, admin.rateLimits, runtime);
  registerDashboardRoute(root, live);
  registerWithdrawalHoldRoutes(root, withdrawalHolds, runtime);
  registerAnalyticsRoutes(root, analytics, insights, audit);
  registerPartnershipRoutes(root, partnerships, runtime);
  registerPromoSlotRoutes(root, promoSlots, runtime);
  registerConsoleRoutes(root);
  registerNewsletterRoutes(root, newsletters, runtime);

  app.get(
    '/v1/admin/feature-flags',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: `Every feature flag, by key (at most ${MAX_FLAGS})`,
        response: { 200: Type.Object({ items: Type.Array(Flag) }), ...readErrors },
      },
    },
    async () => ({ items: (await admin.flags.list()).map(flagView) }),
  );

  app.get(
    '/v1/admin/feature-flags/:key',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'One feature flag',
        params: Type.Object({ key: FlagKey }),
        response: { 200: Flag, ...errors },
      },
    },
    async (request) => flagView(await admin.flags.get(request.params.key)),
  );

  app.put(
    '/v1/admin/feature-flags/:key',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary:
          'Create or replace a feature flag (audited; every instance applies it within ADMIN_SETTINGS_CACHE_MS)',
        params: Type.Object({ key: FlagKey }),
        body: FlagBody,
        response: { 200: Flag, ...errors },
      },
    },
    async (request) =>
      flagView(await admin.flags.put(request.params.key, request.body, signedInActorOf(request))),
  );

  app.delete(
    '/v1/admin/feature-flags/:key',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Delete a feature flag (audited); it then evaluates to false everywhere',
        params: Type.Object({ key: FlagKey }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await admin.flags.remove(request.params.key, signedInActorOf(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/feature-flags',
    {
      config: { access: { permissions: ANY_SIGNED_IN, allowGuest: true } },
      schema: {
        tags: ['me'],
        summary: 'The feature flags as they apply to you (by your roles, your user id and the city you name)',
        querystring: Type.Object({ city: Type.Optional(City) }),
        response: { 200: Type.Object({ flags: Type.Record(Type.String(), Type.Boolean()) }), ...readErrors },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, max-age=30');
      const principal = request.principal;
      return {
        flags: await admin.featureFlags.evaluateAll({
          userId: principal?.userId,
          roles: principal?.roles ?? [],
          city: request.query.city,
        }),
      };
    },
  );

  app.get(
    '/v1/admin/maintenance',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Maintenance mode as it is now',
        response: { 200: MaintenanceView, ...readErrors },
      },
    },
    async () => maintenanceView(await admin.maintenance.current()),
  );

  app.put(
    '/v1/admin/maintenance',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Switch maintenance mode on (read-only for non-staff, with a message) or off (audited)',
        body: Type.Object(
          {
            enabled: Type.Boolean(),
            message: Type.Optional(Type.String({ maxLength: 300, description: 'required to switch it on' })),
            until: Type.Optional(
              Nullable(Type.String({ format: 'date-time', description: 'the expected end' })),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: MaintenanceView, ...errors },
      },
    },
    async (request) => maintenanceView(await admin.maintenance.set(request.body, signedInActorOf(request))),
  );

  app.get(
    '/v1/maintenance',
    {
      config: { access: { public: true, description: 'the notice apps show during maintenance' } },
      schema: {
        tags: ['health'],
        summary: 'Whether the service is in maintenance (read-only), with the message to show',
        response: { 200: MaintenanceView },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=5');
      return maintenanceView(await admin.maintenance.current());
    },
  );

  app.post(
    '/v1/admin/users/bulk',
    {
      config: { access: USER_ADMINS, idempotency: 'optional' },
      schema: {
        tags,
        summary: `Suspend, reinstate or log out up to ${BULK_MAX_ITEMS} users (dry run: what each would do); one result per user`,
        body: BulkBody,
        response: { 200: BulkAnswer, ...errors },
      },
    },
    async (request, reply) => {
      const actor = signedInActorOf(request);
      const body = request.body as {
        action: BulkAction;
        userIds: string[];
        reason?: string;
        dryRun: boolean;
      };
      const answer = await withIdempotency(
        db,
        request,
        reply,
        { scope: `admin:bulk-users:${actor.userId}` },
        async () => ({ statusCode: 200, body: await admin.users.bulk(body, actor) }),
      );
      return answer as Static<typeof BulkAnswer>;
    },
  );
}

function maintenanceView(maintenance: { enabled: boolean; message: string; until: Date | null }) {
  return {
    enabled: maintenance.enabled,
    message: maintenance.message,
    until: maintenance.until?.toISOString() ?? null,
  };
}
