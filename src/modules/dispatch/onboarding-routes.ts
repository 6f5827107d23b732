/**
 * The routes of drivers' onboarding, earnings and safety (issue #20, docs/dispatch.md):
 * applications and their review queue, earnings from the ledger and incentive rules, the
 * emergency button, incident reports and speed alerts. Each route declares `config.access`; the
 * driver routes also check the driver role (an administrator passes every permission check).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Principal, RouteAccess } from '../../http/access.js';
import { keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import type { DeliveryProof } from './delivery-proof.js';
import { FAILURE_REASONS } from './delivery-proof.js';
import type { Earnings } from './earnings.js';
import type { Performance } from './performance.js';
import { EARNINGS_MAX_RANGE_DAYS, RULES_PAGE_MAX } from './earnings.js';
import { INCENTIVE_KINDS } from './earnings-rules.js';
import { dispatchErrors } from './errors.js';
import type { Onboarding, OnboardingActor } from './onboarding.js';
import { QUEUE_PAGE_MAX } from './onboarding.js';
import { APPLICATION_STATUSES, BACKGROUND_CHECKS, REVIEW_DECISIONS } from './onboarding-rules.js';
import type { Safety } from './safety.js';
import { INCIDENT_CATEGORIES, INCIDENT_PHOTOS_MAX, SAFETY_PAGE_MAX } from './safety.js';
import { SPEED_ALERTS_PAGE_MAX } from './speed-alerts.js';
import type { DispatchService } from './service.js';

export interface DriverRouteServices {
  dispatch: DispatchService;
  onboarding: Onboarding;
  earnings: Earnings;
  safety: Safety;
  deliveryProof: DeliveryProof;
  performance: Performance;
  runtime: Runtime;
}

const tags = ['drivers'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
};
const APPLICANT: RouteAccess = {
  permissions: ['PROFILE_MANAGEMENT', 'ORDER_ACCEPTANCE'],
  ownership: "the caller's own application (a customer applying, or a driver renewing)",
};
const DRIVER: RouteAccess = {
  permissions: ['LOCATION_SHARING'],
  ownership: 'the driver themselves (driver role)',
};
const EARNER: RouteAccess = { permissions: ['EARNINGS_TRACKING'], ownership: "the driver's own earnings" };
const ADMIN: RouteAccess = { permissions: ['USER_MANAGEMENT'], ownership: 'administrators' };
const FINANCE: RouteAccess = {
  permissions: ['FINANCIAL_OVERSIGHT'],
  stepUp: true,
  ownership: 'finance administrators',
};
const STAFF: RouteAccess = {
  permissions: ['TICKET_MANAGEMENT', 'SECURITY_MONITORING'],
  ownership: 'support and administrators',
};

const Uuid = Type.String({ format: 'uuid' });
const Day = Type.String({ format: 'date', maxLength: 10 });
const Vehicle = Type.Union([Type.Literal('motorbike'), Type.Literal('car'), Type.Literal('bicycle')]);
const literals = <T extends string>(values: readonly T[]) =>
  Type.Union(values.map((value) => Type.Literal(value)));
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });

const ApplicationBody = Type.Object(
  {
    vehicle: Vehicle,
    plate: Type.Optional(Type.String({ minLength: 2, maxLength: 16, pattern: '^[A-Za-z0-9 -]+$' })),
    licenceExpiresOn: Day,
    insuranceExpiresOn: Type.Optional(Day),
    documents: Type.Object(
      {
        identity: Type.Optional(Uuid),
        licence: Type.Optional(Uuid),
        photo: Type.Optional(Uuid),
        vehicle_registration: Type.Optional(Uuid),
        insurance: Type.Optional(Uuid),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
const Application = Type.Object({
  userId: Type.String(),
  status: Type.String({ description: APPLICATION_STATUSES.join(', ') }),
  vehicle: Vehicle,
  plate: Type.Union([Type.String(), Type.Null()]),
  licenceExpiresOn: Type.String(),
  insuranceExpiresOn: Type.Union([Type.String(), Type.Null()]),
  documents: Type.Record(Type.String(), Type.String()),
  backgroundCheck: Type.String({ description: BACKGROUND_CHECKS.join(', ') }),
  reason: Type.Union([Type.String(), Type.Null()]),
  reviewedAt: Type.Union([Type.String(), Type.Null()]),
  submittedAt: Type.String(),
});
const UserParams = Type.Object({ userId: Uuid }, { additionalProperties: false });
const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

const Money = Type.Integer();
const EarningsResponse = Type.Object({
  driverId: Type.String(),
  period: Type.String({ description: 'day, week, month' }),
  from: Type.String(),
  to: Type.String(),
  totals: Type.Object({ feesMinor: Money, tipsMinor: Money, incentivesMinor: Money, totalMinor: Money }),
  buckets: Type.Array(
    Type.Object({
      periodStart: Type.String(),
      deliveries: Type.Integer(),
      feesMinor: Money,
      tipsMinor: Money,
      incentivesMinor: Money,
      totalMinor: Money,
    }),
  ),
  deliveries: Type.Array(
    Type.Object({
      orderId: Type.String(),
      feeMinor: Money,
      tipMinor: Money,
      incentivesMinor: Money,
      bookedAt: Type.String(),
    }),
  ),
  otherIncentives: Type.Array(
    Type.Object({
      reason: Type.Union([Type.String(), Type.Null()]),
      incentive: Type.Union([Type.String(), Type.Null()]),
      amountMinor: Money,
      bookedAt: Type.String(),
    }),
  ),
});
const PeriodQuery = Type.Object(
  {
    period: Type.Optional(literals(['day', 'week', 'month'] as const)),
    from: Type.String({ format: 'date-time', maxLength: 40 }),
    to: Type.String({ format: 'date-time', maxLength: 40 }),
  },
  { additionalProperties: false },
);
const RuleBody = Type.Object(
  {
    kind: literals(INCENTIVE_KINDS),
    name: Text(120),
    amountMinor: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'XAF; per km for fuel_per_km' }),
    weekdays: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { minItems: 1, maxItems: 7 }),
    ),
    startHour: Type.Optional(Type.Integer({ minimum: 0, maximum: 23 })),
    endHour: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 })),
    target: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    from: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  },
  { additionalProperties: false },
);
const Rule = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: INCENTIVE_KINDS.join(', ') }),
  name: Type.String(),
  amountMinor: Money,
  params: Type.Record(Type.String(), Type.Unknown()),
  active: Type.Boolean(),
  createdAt: Type.String(),
});
const Report = Type.Object({
  id: Type.String(),
  driverId: Type.String(),
  kind: Type.String({ description: 'emergency, incident' }),
  category: Type.Union([Type.String(), Type.Null()]),
  orderId: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  position: Type.Union([
    Type.Object({
      latitude: Type.Number(),
      longitude: Type.Number(),
      recordedAt: Type.Union([Type.String(), Type.Null()]),
    }),
    Type.Null(),
  ]),
  photos: Type.Array(Type.String()),
  status: Type.String({ description: 'open, resolved' }),
  createdAt: Type.String(),
});
const Limit = (max: number) => Type.Optional(Type.Integer({ minimum: 1, maximum: max, default: 20 }));

function userOf(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user')
    throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return principal;
}
function driverOf(request: FastifyRequest): Principal {
  const principal = userOf(request);
  if (!principal.roles.includes('driver'))
    throw dispatchErrors.of('forbidden', 'not_a_driver', 'Only drivers have earnings and safety reports.');
  return principal;
}
function actorOf(request: FastifyRequest): OnboardingActor {
  return {
    kind: 'user',
    userId: userOf(request).userId,
    ip: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
    requestId: request.id,
  };
}
/** Amounts leave as numbers (XAF has no minor unit; every sum stays far below 2^53). */
const numbers = (value: unknown): never =>
  JSON.parse(
    JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? Number(item) : item)),
  ) as never;
function keyedId(request: FastifyRequest, namespace: string, scope: string): string | undefined {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' ? keyedUuid(namespace, scope, key) : undefined;
}

export function registerDriverRoutes(root: FastifyInstance, services: DriverRouteServices): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { onboarding, earnings, safety, dispatch, deliveryProof, performance } = services;
  const db = services.runtime.database.db;

  // --- onboarding
  app.put('/v1/drivers/me/application', {
    config: { access: APPLICANT },
    schema: {
      tags,
      summary:
        'Apply to drive (or resubmit): vehicle, expiries and driver documents uploaded to POST /v1/files',
      description:
        'Documents are file ids of purpose driver_document with the matching documentKind, uploaded by the caller. ' +
        'A bicycle needs identity, licence and photo; a motorbike or car also vehicle_registration, insurance, plate and insuranceExpiresOn. PUT: the same body again changes nothing.',
      body: ApplicationBody,
      response: { 200: Application, ...errors },
    },
    handler: async (request) => {
      const body = request.body;
      return onboarding.apply(
        userOf(request).userId,
        {
          vehicle: body.vehicle,
          plate: body.plate?.toUpperCase() ?? null,
          licenceExpiresOn: body.licenceExpiresOn,
          insuranceExpiresOn: body.insuranceExpiresOn ?? null,
          documents: body.documents,
        },
        actorOf(request),
      );
    },
  });

  app.get('/v1/drivers/me/application', {
    config: { access: APPLICANT },
    schema: {
      tags,
      summary: 'My application to drive and its review',
      response: { 200: Application, ...errors },
    },
    handler: async (request) => onboarding.mine(userOf(request).userId),
  });

  app.get('/v1/admin/drivers/applications', {
    config: { access: ADMIN },
    schema: {
      tags,
      summary: 'The review queue: applications in one status, oldest first',
      querystring: Type.Object(
        {
          status: Type.Optional(literals(APPLICATION_STATUSES)),
          cursor: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Limit(QUEUE_PAGE_MAX),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          items: Type.Array(Application),
          nextCursor: Type.Union([Type.String(), Type.Null()]),
        }),
        ...errors,
      },
    },
    handler: async (request) =>
      onboarding.queue(request.query.status ?? 'pending', request.query.cursor, request.query.limit ?? 20),
  });

  app.get('/v1/admin/drivers/applications/:userId', {
    config: { access: ADMIN },
    schema: {
      tags,
      summary: 'One application with its document file ids (read them with GET /v1/files/{id})',
      params: UserParams,
      response: { 200: Application, ...errors },
    },
    handler: async (request) => onboarding.read(request.params.userId),
  });

  app.post('/v1/admin/drivers/applications/:userId/review', {
    config: { access: ADMIN },
    schema: {
      tags,
      summary: 'Approve (grants the driver role), reject or ask for more, with a reason; audited',
      params: UserParams,
      body: Type.Object(
        { decision: literals(REVIEW_DECISIONS), reason: Type.Optional(Text(500)) },
        { additionalProperties: false },
      ),
      response: { 200: Application, ...errors },
    },
    handler: async (request) =>
      onboarding.review(
        request.params.userId,
        { decision: request.body.decision, reason: request.body.reason ?? null },
        actorOf(request),
      ),
  });

  app.put('/v1/admin/drivers/applications/:userId/background-check', {
    config: { access: ADMIN },
    schema: {
      tags,
      summary: 'Set the background-check status (no external service); audited',
      params: UserParams,
      body: Type.Object({ status: literals(BACKGROUND_CHECKS) }, { additionalProperties: false }),
      response: { 200: Application, ...errors },
    },
    handler: async (request) =>
      onboarding.setBackgroundCheck(request.params.userId, request.body.status, actorOf(request)),
  });

  // --- earnings
  app.get('/v1/drivers/me/earnings', {
    config: { access: EARNER },
    schema: {
      tags,
      summary: 'My earnings from the ledger: per delivery, and day, week or month totals (Douala time)',
      description: `Credits booked to the driver's payable (driver fee, tip, incentives) in [from, to), at most ${EARNINGS_MAX_RANGE_DAYS} days.`,
      querystring: PeriodQuery,
      response: { 200: EarningsResponse, ...errors },
    },
    handler: async (request) => {
      const { userId } = driverOf(request);
      const { period, from, to } = request.query;
      return numbers(await earnings.earnings(userId, period ?? 'day', new Date(from), new Date(to)));
    },
  });

  app.post('/v1/admin/drivers/incentive-rules', {
    config: { access: FINANCE, idempotency: 'optional', location: true },
    schema: {
      tags,
      summary: 'Create an incentive rule: fuel per km, a peak-hour incentive or a bonus challenge; audited',
      body: RuleBody,
      response: { 201: Rule, ...errors },
    },
    handler: async (request, reply) => {
      const actor = actorOf(request);
      const scope = `driver-incentive-rule:${actor.userId}`;
      return (await withIdempotency(db, request, reply, { scope }, async () => {
        const rule = await earnings.createRule(
          request.body,
          actor,
          keyedId(request, 'driver-incentive-rule', scope),
        );
        reply.header('location', `/v1/admin/drivers/incentive-rules/${rule.id}`);
        return { statusCode: 201, body: rule };
      })) as never;
    },
  });

  app.get('/v1/admin/drivers/incentive-rules', {
    config: { access: FINANCE },
    schema: {
      tags,
      summary: 'Incentive rules, oldest first',
      querystring: Type.Object(
        { active: Type.Optional(Type.Boolean()), limit: Limit(RULES_PAGE_MAX) },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ items: Type.Array(Rule) }), ...errors },
    },
    handler: async (request) => earnings.rules(request.query.active ?? false, request.query.limit ?? 20),
  });

  app.get('/v1/admin/drivers/incentive-rules/:id', {
    config: { access: FINANCE },
    schema: { tags, summary: 'One incentive rule', params: IdParams, response: { 200: Rule, ...errors } },
    handler: async (request) => earnings.rule(request.params.id),
  });

  app.post('/v1/admin/drivers/incentive-rules/:id/deactivate', {
    config: { access: FINANCE },
    schema: {
      tags,
      summary: 'Stop a rule (past bookings stay); audited',
      params: IdParams,
      response: { 200: Rule, ...errors },
    },
    handler: async (request) => earnings.deactivateRule(request.params.id, actorOf(request)),
  });

  app.post('/v1/admin/drivers/incentives/settle', {
    config: { access: FINANCE, idempotency: 'optional' },
    schema: {
      tags,
      summary:
        'Book the incentives of a period on the ledger (from the delivery expense); running it again books nothing twice',
      body: Type.Object(
        {
          from: Type.String({ format: 'date-time', maxLength: 40 }),
          to: Type.String({ format: 'date-time', maxLength: 40 }),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          from: Type.String(),
          to: Type.String(),
          transfers: Type.Integer(),
          booked: Type.Integer(),
          alreadyBooked: Type.Integer(),
          refused: Type.Integer(),
          bookedMinor: Money,
        }),
        ...errors,
      },
    },
    handler: async (request, reply) => {
      const actor = actorOf(request);
      return (await withIdempotency(
        db,
        request,
        reply,
        { scope: `driver-incentives:${actor.userId}` },
        async () => ({
          statusCode: 200,
          body: numbers(await earnings.settle(new Date(request.body.from), new Date(request.body.to), actor)),
        }),
      )) as never;
    },
  });

  // --- performance
  const RatingPeriod = Type.Object({
    average: Type.Union([Type.Number(), Type.Null()]),
    count: Type.Integer(),
  });
  const PerformanceResponse = Type.Object({
    driverId: Type.String(),
    from: Type.String(),
    to: Type.String(),
    deliveries: Type.Integer(),
    failedDeliveries: Type.Integer(),
    successRate: Type.Union([Type.Number(), Type.Null()]),
    acceptanceRate: Type.Union([Type.Number(), Type.Null()]),
    offers: Type.Object({ answered: Type.Integer(), accepted: Type.Integer() }),
    onTimeRate: Type.Union([Type.Number(), Type.Null()]),
    punctuality: Type.Object({
      delivered: Type.Integer(),
      onTime: Type.Integer(),
      graceMinutes: Type.Integer(),
    }),
    rating: Type.Object({ average: Type.Union([Type.Number(), Type.Null()]), count: Type.Integer() }),
    ratingTrend: Type.Object({
      current: RatingPeriod,
      previous: RatingPeriod,
      change: Type.Union([Type.Number(), Type.Null()]),
    }),
    complaints: Type.Object({
      orders: Type.Integer(),
      rate: Type.Union([Type.Number(), Type.Null()]),
      byCategory: Type.Record(Type.String(), Type.Integer()),
    }),
    safety: Type.Object({
      emergencies: Type.Integer(),
      incidents: Type.Integer(),
      speedAlerts: Type.Integer(),
    }),
  });
  const Range = Type.Object(
    {
      from: Type.String({ format: 'date-time', maxLength: 40 }),
      to: Type.String({ format: 'date-time', maxLength: 40 }),
    },
    { additionalProperties: false },
  );
  app.get('/v1/drivers/me/performance', {
    config: { access: EARNER },
    schema: {
      tags,
      summary:
        'My performance over a period: deliveries, success, acceptance and on-time rates, rating and its trend, complaints, safety',
      querystring: Range,
      response: { 200: PerformanceResponse, ...errors },
    },
    handler: async (request) =>
      performance.of(driverOf(request).userId, new Date(request.query.from), new Date(request.query.to)),
  });
  app.get('/v1/admin/drivers/:userId/performance', {
    config: { access: STAFF },
    schema: {
      tags,
      summary: "A driver's performance over a period (support and administrators)",
      params: UserParams,
      querystring: Range,
      response: { 200: PerformanceResponse, ...errors },
    },
    handler: async (request) =>
      performance.of(request.params.userId, new Date(request.query.from), new Date(request.query.to)),
  });

  // --- delivery proof
  app.post('/v1/drivers/me/orders/:orderId/delivery-failed', {
    config: { access: { permissions: ['ORDER_ACCEPTANCE'], ownership: 'the driver who claimed the order' } },
    schema: {
      tags,
      summary:
        'Delivery failed (PICKED_UP → DELIVERY_FAILED) with its reason, a delivery photo and my position',
      description:
        'The photo is a delivery_photo of this order the driver uploaded (POST /v1/files). The position follows the rules of a fix ' +
        '(range, accuracy, not too old, not in the future). Staff report a failure without proof on POST /v1/orders/{id}/delivery-failed.',
      params: Type.Object({ orderId: Uuid }, { additionalProperties: false }),
      body: Type.Object(
        {
          reason: literals(FAILURE_REASONS),
          photoFileId: Uuid,
          latitude: Type.Number({ minimum: -90, maximum: 90 }),
          longitude: Type.Number({ minimum: -180, maximum: 180 }),
          accuracyMeters: Type.Number({ minimum: 0, maximum: 10_000 }),
          recordedAt: Type.String({ format: 'date-time', maxLength: 40 }),
          note: Type.Optional(Text(500)),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          orderId: Type.String(),
          reason: Type.String(),
          photoFileId: Type.String(),
          position: Type.Object({
            latitude: Type.Number(),
            longitude: Type.Number(),
            accuracyMeters: Type.Number(),
            recordedAt: Type.String(),
          }),
          note: Type.Union([Type.String(), Type.Null()]),
        }),
        ...errors,
      },
    },
    handler: async (request) => {
      const { userId } = driverOf(request);
      const body = request.body;
      return deliveryProof.failDelivery(userId, request.params.orderId, {
        reason: body.reason,
        photoFileId: body.photoFileId,
        latitude: body.latitude,
        longitude: body.longitude,
        accuracyMeters: body.accuracyMeters,
        recordedAt: Date.parse(body.recordedAt),
        note: body.note,
      });
    },
  });

  // --- safety
  app.post('/v1/drivers/me/emergency', {
    config: { access: DRIVER, idempotency: 'optional', location: true },
    schema: {
      tags,
      summary: 'The emergency button: support and admins are alerted at once with my last position',
      body: Type.Object(
        { note: Type.Optional(Text(500)), orderId: Type.Optional(Uuid) },
        { additionalProperties: false },
      ),
      response: { 201: Report, ...errors },
    },
    handler: async (request, reply) => {
      const { userId } = driverOf(request);
      const scope = `driver-emergency:${userId}`;
      return (await withIdempotency(db, request, reply, { scope }, async () => {
        const report = await safety.emergency(
          userId,
          request.body,
          keyedId(request, 'driver-emergency', scope),
        );
        reply.header('location', `/v1/drivers/me/safety-reports/${report.id}`);
        return { statusCode: 201, body: report };
      })) as never;
    },
  });

  app.post('/v1/drivers/me/incidents', {
    config: { access: DRIVER, idempotency: 'optional', location: true },
    schema: {
      tags,
      summary: 'Report an incident with photos (file ids I uploaded)',
      body: Type.Object(
        {
          category: literals(INCIDENT_CATEGORIES),
          description: Text(2_000),
          orderId: Type.Optional(Uuid),
          photos: Type.Array(Uuid, { maxItems: INCIDENT_PHOTOS_MAX }),
        },
        { additionalProperties: false },
      ),
      response: { 201: Report, ...errors },
    },
    handler: async (request, reply) => {
      const { userId } = driverOf(request);
      const scope = `driver-incident:${userId}`;
      return (await withIdempotency(db, request, reply, { scope }, async () => {
        const report = await safety.incident(
          userId,
          request.body,
          keyedId(request, 'driver-incident', scope),
        );
        reply.header('location', `/v1/drivers/me/safety-reports/${report.id}`);
        return { statusCode: 201, body: report };
      })) as never;
    },
  });

  app.get('/v1/drivers/me/safety-reports', {
    config: { access: DRIVER },
    schema: {
      tags,
      summary: 'My emergencies and incident reports, newest first',
      querystring: Type.Object({ limit: Limit(SAFETY_PAGE_MAX) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(Report) }), ...errors },
    },
    handler: async (request) => safety.mine(driverOf(request).userId, request.query.limit ?? 20),
  });

  app.get('/v1/drivers/me/safety-reports/:id', {
    config: { access: DRIVER },
    schema: {
      tags,
      summary: 'One of my safety reports',
      params: IdParams,
      response: { 200: Report, ...errors },
    },
    handler: async (request) => safety.mineById(driverOf(request).userId, request.params.id),
  });

  app.get('/v1/admin/drivers/safety-reports', {
    config: { access: STAFF },
    schema: {
      tags,
      summary: 'Emergencies and incidents, newest first',
      querystring: Type.Object(
        { status: Type.Optional(literals(['open', 'resolved'] as const)), limit: Limit(SAFETY_PAGE_MAX) },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ items: Type.Array(Report) }), ...errors },
    },
    handler: async (request) => safety.queue(request.query.status ?? 'open', request.query.limit ?? 20),
  });

  app.post('/v1/admin/drivers/safety-reports/:id/resolve', {
    config: { access: STAFF },
    schema: {
      tags,
      summary: 'Close a report with a note; audited',
      params: IdParams,
      body: Type.Object({ note: Text(1_000) }, { additionalProperties: false }),
      response: { 200: Report, ...errors },
    },
    handler: async (request) => safety.resolve(request.params.id, request.body.note, actorOf(request)),
  });

  app.get('/v1/admin/drivers/:userId/speed-alerts', {
    config: { access: STAFF },
    schema: {
      tags,
      summary:
        "A driver's stored speed alerts (each speeding leg of a carried order, as fixes arrived), newest first",
      params: UserParams,
      querystring: Type.Object(
        {
          from: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
          to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
          cursor: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Limit(SPEED_ALERTS_PAGE_MAX),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          vehicle: Type.String({ description: "the driver's vehicle now" }),
          limitKmh: Type.Number({ description: "that vehicle's alert threshold now" }),
          items: Type.Array(
            Type.Object({
              id: Type.String({ format: 'uuid' }),
              driverId: Type.String({ format: 'uuid' }),
              orderId: Type.String({ format: 'uuid' }),
              vehicle: Type.String(),
              speedKmh: Type.Number(),
              limitKmh: Type.Number({ description: 'the threshold when the alert was raised' }),
              from: Type.Object({
                latitude: Type.Number(),
                longitude: Type.Number(),
                recordedAt: Type.String({ format: 'date-time' }),
              }),
              to: Type.Object({
                latitude: Type.Number(),
                longitude: Type.Number(),
                recordedAt: Type.String({ format: 'date-time' }),
              }),
              createdAt: Type.String({ format: 'date-time' }),
            }),
          ),
          nextCursor: Type.Union([Type.String(), Type.Null()]),
        }),
        ...errors,
      },
    },
    handler: async (request) => {
      const { from, to, cursor } = request.query;
      const since = from === undefined ? undefined : new Date(from);
      const until = to === undefined ? undefined : new Date(to);
      if (since !== undefined && until !== undefined && since.getTime() >= until.getTime())
        throw dispatchErrors.of('unprocessable', 'invalid_period', '`from` must be before `to`.');
      const vehicle = (await dispatch.availability(request.params.userId)).vehicle;
      return safety.speedAlerts(request.params.userId, vehicle, {
        from: since,
        to: until,
        cursor,
        limit: request.query.limit ?? 20,
      });
    },
  });
}
