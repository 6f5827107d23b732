/** Payouts, commission overrides, reconciliation and reports routes. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import Type from 'typebox';
import { idempotencyKey, keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import {
  FINANCE_ADMIN,
  isAdmin,
  PAYEE,
  paymentTier,
  payoutJson,
  principalOf,
  type PaymentRouteServices,
} from './routes.js';
import * as S from './schemas.js';
import type { CsvDelimiter } from './reconciliation.js';
import type { PayoutStatus } from './tables.js';
import { registerCommissionRoutes } from './routes-commission.js';

const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
  429: ProblemSchema,
};
const num = (value: bigint | null) => (value === null ? null : Number(value));
const PAYOUT_STATUSES = [
  'REQUESTED',
  'APPROVED',
  'PROCESSING',
  'SUCCEEDED',
  'FAILED',
  'REJECTED',
  'NEEDS_REVIEW',
] as const satisfies readonly PayoutStatus[];

export function registerFinanceRoutes(app: FastifyInstance, services: PaymentRouteServices): void {
  registerPayoutRoutes(app, services);
  registerReconciliationRoutes(app, services);
  registerReportRoutes(app, services);
}

function registerPayoutRoutes(app: FastifyInstance, services: PaymentRouteServices): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { payouts } = services.payments;
  const db = services.runtime.database.db;
  const tags = ['payouts'];

  async function payeeOf(
    principalId: string,
    admin: boolean,
    kind: 'restaurant' | 'driver',
    restaurantId: string | undefined,
  ): Promise<string> {
    if (kind === 'driver') return principalId;
    if (restaurantId === undefined) throw new HttpProblem(400, 'validation_failed', 'Name the restaurantId.');
    const owner = await services.catalog.orders.restaurantOwnerId(restaurantId);
    if (owner === undefined || (owner !== principalId && !admin))
      throw new HttpProblem(404, 'restaurant_not_found', 'There is no such restaurant of yours.');
    return restaurantId;
  }

  typed.post('/v1/payouts', {
    config: { access: PAYEE, idempotency: 'optional', rateLimit: paymentTier(services) },
    schema: {
      tags,
      summary:
        'Request a payout to your verified Mobile Money number (at most your available balance; Idempotency-Key)',
      body: S.PayoutBody,
      response: { 201: S.PayoutSchema, ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      if (request.body.payeeKind === 'driver' && !principal.roles.includes('driver'))
        throw new HttpProblem(403, 'forbidden', 'Only drivers have driver earnings.');
      const scope = `payout:${principal.userId}`;
      const key = idempotencyKey(request, false);
      return withIdempotency(db, request, reply, { scope }, async () => {
        const row = await payouts.request({
          ...(key === undefined ? {} : { payoutId: keyedUuid('payout', scope, key) }),
          requesterId: principal.userId,
          kind: request.body.payeeKind,
          ...(request.body.restaurantId === undefined ? {} : { restaurantId: request.body.restaurantId }),
          amountMinor: BigInt(request.body.amountMinor),
          isAdmin: isAdmin(principal),
        });
        return { statusCode: 201, body: payoutJson(row) };
      }) as never;
    },
  });

  typed.get('/v1/payouts', {
    config: { access: PAYEE },
    schema: {
      tags,
      summary: 'Your payouts and what you can request now',
      querystring: S.PayoutListQuery,
      response: { 200: S.PayoutListSchema, ...errors },
    },
    handler: async (request) => {
      const principal = principalOf(request);
      const payeeId = await payeeOf(
        principal.userId,
        isAdmin(principal),
        request.query.payeeKind,
        request.query.restaurantId,
      );
      const [rows, available] = await Promise.all([
        payouts.list(request.query.payeeKind, payeeId),
        payouts.requestable(request.query.payeeKind, payeeId),
      ]);
      return { availableMinor: Number(available > 0n ? available : 0n), items: rows.map(payoutJson) };
    },
  });

  typed.put('/v1/payouts/settings', {
    config: { access: PAYEE },
    schema: {
      tags,
      summary: 'Opt in or out of the daily automatic settlement above a minimum',
      body: S.PayoutSettingsBody,
      response: { 204: Type.Null(), ...errors },
    },
    handler: async (request, reply: FastifyReply) => {
      const principal = principalOf(request);
      const payeeId = await payeeOf(
        principal.userId,
        isAdmin(principal),
        request.body.payeeKind,
        request.body.restaurantId,
      );
      await payouts.updateSettings({
        kind: request.body.payeeKind,
        payeeId,
        autoEnabled: request.body.autoEnabled,
        minimumMinor: BigInt(request.body.minimumMinor),
        by: principal.userId,
      });
      return reply.code(204).send();
    },
  });

  typed.post('/v1/admin/payouts/:id/approve', {
    config: {
      access: {
        permissions: ['FINANCIAL_OVERSIGHT'],
        stepUp: true,
        ownership: 'finance admins after a TOTP step-up',
      },
    },
    schema: {
      tags,
      summary: 'Approve a requested payout (2FA step-up); a job then disburses it',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: S.PayoutSchema, ...errors },
    },
    handler: async (request) =>
      payoutJson(await payouts.approve(request.params.id, principalOf(request).userId)),
  });

  typed.post('/v1/admin/payouts/:id/reject', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary: 'Reject a payout not yet being sent: its held amount is available again (audited)',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      body: S.PayoutRejectBody,
      response: { 200: S.PayoutSchema, ...errors },
    },
    handler: async (request) =>
      payoutJson(await payouts.reject(request.params.id, principalOf(request).userId, request.body.reason)),
  });

  typed.post('/v1/admin/payouts/:id/resolve', {
    config: {
      access: {
        permissions: ['FINANCIAL_OVERSIGHT'],
        stepUp: true,
        ownership: 'finance admins after a TOTP step-up',
      },
    },
    schema: {
      tags,
      summary:
        'Settle a payout in NEEDS_REVIEW once finance knows whether the payee got the money (2FA step-up, audited)',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      body: S.PayoutResolveBody,
      response: { 200: S.PayoutSchema, ...errors },
    },
    handler: async (request) =>
      payoutJson(
        await payouts.resolveReview({
          payoutId: request.params.id,
          adminId: principalOf(request).userId,
          outcome: request.body.outcome,
          reason: request.body.reason,
          ...(request.body.providerReference === undefined
            ? {}
            : { providerReference: request.body.providerReference }),
        }),
      ),
  });

  typed.get('/v1/admin/payouts', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary:
        'Payouts in one status (REQUESTED: waiting for approval), oldest change first, in cursor pages',
      querystring: Type.Object(
        {
          status: Type.Union(PAYOUT_STATUSES.map((status) => Type.Literal(status))),
          cursor: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          items: Type.Array(S.PayoutSchema),
          nextCursor: Type.Union([Type.String(), Type.Null()]),
        }),
        ...errors,
      },
    },
    handler: async (request) => {
      const page = await payouts.byStatus(
        request.query.status,
        request.query.limit ?? 50,
        request.query.cursor,
      );
      return { items: page.items.map(payoutJson), nextCursor: page.nextCursor };
    },
  });

  typed.get('/v1/admin/payouts/:id', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary: 'One payout',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: S.PayoutSchema, ...errors },
    },
    handler: async (request) => {
      const row = await payouts.get(request.params.id);
      if (row === undefined) throw new HttpProblem(404, 'payout_not_found', 'There is no such payout.');
      return payoutJson(row);
    },
  });

  registerCommissionRoutes(app, services);
}

function runJson(page: Awaited<ReturnType<PaymentRouteServices['payments']['reconciliation']['get']>>) {
  const { run, items, more } = page;
  return {
    runId: run.run_id,
    provider: run.provider,
    from: run.period_from.toISOString(),
    to: run.period_to.toISOString(),
    status: run.status,
    counts: run.counts,
    error: run.error,
    items: items.map((item) => ({
      itemNo: item.item_no,
      status: item.status,
      kind: item.kind,
      providerReference: item.provider_reference,
      internalId: item.internal_id,
      providerAmountMinor: num(item.provider_amount_minor),
      ledgerAmountMinor: num(item.ledger_amount_minor),
      providerFeeMinor: num(item.provider_fee_minor),
      providerStatus: item.provider_status,
      internalStatus: item.internal_status,
      detail: item.detail,
      resolvedAt: item.resolved_at?.toISOString() ?? null,
      resolutionReason: item.resolution_reason,
      resolutionTransferId: item.resolution_transfer_id,
    })),
    nextAfter: more ? (items.at(-1)?.item_no ?? null) : null,
  };
}

function registerReconciliationRoutes(app: FastifyInstance, services: PaymentRouteServices): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { reconciliation } = services.payments;
  const db = services.runtime.database.db;
  const tags = ['reconciliation'];
  const RunParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

  typed.post('/v1/admin/reconciliation/runs', {
    config: { access: FINANCE_ADMIN, idempotency: 'optional', location: true },
    schema: {
      tags,
      summary:
        "Reconcile a provider's statement for [from, to) with our payments, payouts and ledger (audited; Idempotency-Key)",
      body: S.ReconciliationRunBody,
      response: { 201: S.ReconciliationRunSchema, 503: ProblemSchema, ...errors },
    },
    handler: async (request, reply) => {
      const requestedBy = principalOf(request).userId;
      // A retry with the same key answers the first run again: no second run, no second audit line.
      return withIdempotency(db, request, reply, { scope: `reconciliation-run:${requestedBy}` }, async () => {
        const runId = await reconciliation.run({
          provider: request.body.provider,
          from: new Date(request.body.from),
          to: new Date(request.body.to),
          requestedBy,
        });
        reply.header('location', `/v1/admin/reconciliation/runs/${runId}`);
        return {
          statusCode: 201,
          body: runJson(await reconciliation.get(runId, { onlyExceptions: true })),
        };
      }) as never;
    },
  });

  typed.get('/v1/admin/reconciliation/runs', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary: 'Reconciliation runs, newest first (one provider when named), in cursor pages; items by run',
      querystring: Type.Object(
        {
          provider: Type.Optional(Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z_]+$' })),
          cursor: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          items: Type.Array(
            Type.Object({
              runId: Type.String(),
              provider: Type.String(),
              from: Type.String(),
              to: Type.String(),
              status: Type.String(),
              counts: Type.Unknown(),
              error: Type.Union([Type.String(), Type.Null()]),
              requestedBy: Type.String(),
              createdAt: Type.String(),
              completedAt: Type.Union([Type.String(), Type.Null()]),
            }),
          ),
          nextCursor: Type.Union([Type.String(), Type.Null()]),
        }),
        ...errors,
      },
    },
    handler: async (request) => {
      const page = await reconciliation.runs({
        limit: request.query.limit ?? 50,
        provider: request.query.provider,
        cursor: request.query.cursor,
      });
      return {
        items: page.items.map((run) => ({
          runId: run.run_id,
          provider: run.provider,
          from: run.period_from.toISOString(),
          to: run.period_to.toISOString(),
          status: run.status,
          counts: run.counts,
          error: run.error,
          requestedBy: run.requested_by,
          createdAt: run.created_at.toISOString(),
          completedAt: run.completed_at?.toISOString() ?? null,
        })),
        nextCursor: page.nextCursor,
      };
    },
  });

  typed.get('/v1/admin/reconciliation/runs/:id', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary: 'A run with its items (exceptionsOnly=true for what needs a person)',
      params: RunParams,
      querystring: S.ReconciliationRunQuery,
      response: { 200: S.ReconciliationRunSchema, ...errors },
    },
    handler: async (request) =>
      runJson(
        await reconciliation.get(request.params.id, {
          onlyExceptions: request.query.exceptionsOnly ?? false,
          ...(request.query.after === undefined ? {} : { afterItem: request.query.after }),
          ...(request.query.limit === undefined ? {} : { limit: request.query.limit }),
        }),
      ),
  });

  typed.get('/v1/admin/reconciliation/runs/:id/export.csv', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary:
        'Every item of a run as CSV (UTF-8 with BOM; delimiter=semicolon for French-locale spreadsheets)',
      params: RunParams,
      querystring: S.CsvQuery,
      response: { 200: Type.String(), ...errors },
    },
    handler: async (request, reply) =>
      sendCsv(
        reply,
        await reconciliation.csv(request.params.id, csvDelimiter(request.query)),
        `reconciliation-${request.params.id}.csv`,
      ),
  });

  typed.post('/v1/admin/reconciliation/runs/:id/items/:itemNo/resolve', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary: 'Resolve an exception: books a corrective transfer with the reason (never an edit)',
      params: S.ResolveParams,
      body: S.ResolveBody,
      response: { 200: S.ReconciliationItemSchema, ...errors },
    },
    handler: async (request) => {
      const item = await reconciliation.resolve({
        runId: request.params.id,
        itemNo: request.params.itemNo,
        reason: request.body.reason,
        adminId: principalOf(request).userId,
      });
      return {
        itemNo: item.item_no,
        status: item.status,
        kind: item.kind,
        providerReference: item.provider_reference,
        internalId: item.internal_id,
        providerAmountMinor: num(item.provider_amount_minor),
        ledgerAmountMinor: num(item.ledger_amount_minor),
        providerFeeMinor: num(item.provider_fee_minor),
        providerStatus: item.provider_status,
        internalStatus: item.internal_status,
        detail: item.detail,
        resolvedAt: item.resolved_at?.toISOString() ?? null,
        resolutionReason: item.resolution_reason,
        resolutionTransferId: item.resolution_transfer_id,
      };
    },
  });
}

function registerReportRoutes(app: FastifyInstance, services: PaymentRouteServices): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { reports } = services.payments;
  const tags = ['reports'];
  const json = (value: unknown) =>
    JSON.parse(
      JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? Number(item) : item)),
    ) as never;

  typed.get('/v1/reports/restaurants/:id/revenue', {
    config: {
      access: { permissions: ['FINANCIAL_REPORTS'], ownership: "the restaurant's owner (or finance admins)" },
    },
    schema: {
      tags,
      summary: 'Revenue with the commission breakdown per tier',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      querystring: S.PeriodQuery,
      response: { 200: Type.Object({}, { additionalProperties: true }), ...errors },
    },
    handler: async (request) => {
      const principal = principalOf(request);
      const owner = await services.catalog.orders.restaurantOwnerId(request.params.id);
      if (owner === undefined || (owner !== principal.userId && !isAdmin(principal)))
        throw new HttpProblem(404, 'restaurant_not_found', 'There is no such restaurant of yours.');
      return json(
        await reports.restaurantRevenue(
          request.params.id,
          new Date(request.query.from),
          new Date(request.query.to),
        ),
      );
    },
  });

  typed.get('/v1/reports/drivers/me/earnings', {
    config: { access: { permissions: ['EARNINGS_TRACKING'], ownership: "the driver's own earnings" } },
    schema: {
      tags,
      summary: 'Driver earnings (fees and tips) by day, week or month',
      querystring: S.EarningsQuery,
      response: { 200: Type.Object({}, { additionalProperties: true }), ...errors },
    },
    handler: async (request) =>
      json(
        await reports.driverEarnings(
          principalOf(request).userId,
          request.query.period ?? 'day',
          new Date(request.query.from),
          new Date(request.query.to),
        ),
      ),
  });

  typed.get('/v1/admin/reports/platform-revenue', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary: 'Platform revenue: commission, delivery margin, provider fees',
      querystring: S.PeriodQuery,
      response: { 200: Type.Object({}, { additionalProperties: true }), ...errors },
    },
    handler: async (request) =>
      json(await reports.platformRevenue(new Date(request.query.from), new Date(request.query.to))),
  });

  typed.get('/v1/admin/reports/tax.csv', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary:
        'Tax collected per Douala day (CSV, UTF-8 with BOM; delimiter=semicolon for French-locale spreadsheets)',
      querystring: S.CsvPeriodQuery,
      response: { 200: Type.String(), ...errors },
    },
    handler: async (request, reply) => {
      const { from, to } = request.query;
      const text = await reports.taxCsv(new Date(from), new Date(to), csvDelimiter(request.query));
      return sendCsv(reply, text, `tax-${from.slice(0, 10)}-${to.slice(0, 10)}.csv`);
    },
  });
}

function csvDelimiter(query: { delimiter?: 'comma' | 'semicolon' }): CsvDelimiter {
  return query.delimiter === 'semicolon' ? ';' : ',';
}

/**
 * A download a spreadsheet opens correctly: the UTF-8 byte order mark makes Excel read accents
 * (Ndolè, Yaoundé) as UTF-8 instead of the locale's code page, and the file has a name.
 */
function sendCsv(reply: FastifyReply, text: string, fileName: string): string {
  reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  return `\uFEFF${text}`;
}
