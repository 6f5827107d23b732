/**
 * Card refunds and chargebacks for finance (issue #28): refund a credited card funding to the card,
 * read a funding's chargebacks from the provider now, list what was taken back.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { idempotencyKey, withIdempotency } from '../../http/idempotency.js';
import { ProblemSchema } from '../../http/problem.js';
import type { CardReversalView } from './card-reversals.js';
import { paymentsErrors } from './errors.js';
import { decodeCursor, encodeCursor } from './ids.js';
import type { RecoveryView } from './receivable-recovery.js';
import { FINANCE_ADMIN, principalOf, type PaymentRouteServices } from './routes.js';

const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
  429: ProblemSchema,
  502: ProblemSchema,
  503: ProblemSchema,
};
const Iso = Type.String({ format: 'date-time' });
const Minor = Type.Union([Type.Integer(), Type.Null()]);

const ReversalSchema = Type.Object({
  reversalId: Type.String({ description: '`chargeback:<provider id>` or `refund:<id>`' }),
  fundingId: Type.String(),
  kind: Type.Union([Type.Literal('chargeback'), Type.Literal('refund')]),
  status: Type.Union([
    Type.Literal('REQUESTED'),
    Type.Literal('ASKED'),
    Type.Literal('BOOKED'),
    Type.Literal('FAILED'),
  ]),
  amountMinor: Type.Integer(),
  currency: Type.Union([Type.Literal('USD'), Type.Literal('EUR')]),
  walletCurrency: Type.Union([Type.Literal('USD'), Type.Literal('XAF')], {
    description: 'the wallet it is taken from (a EUR funding landed in XAF)',
  }),
  walletAmountMinor: Type.Integer({
    description: 'its value in the wallet’s currency, at the funding’s own conversion terms',
  }),
  walletMinor: Type.Union([Type.Integer(), Type.Null()], { description: 'taken back from the wallet' }),
  receivableMinor: Type.Union([Type.Integer(), Type.Null()], {
    description: 'already spent: owed by the customer (their wallets go under review)',
  }),
  providerGapMinor: Minor,
  providerReference: Type.Union([Type.String(), Type.Null()]),
  failureReason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Iso,
  bookedAt: Type.Union([Iso, Type.Null()]),
});

const num = (value: bigint | null) => (value === null ? null : Number(value));

function reversalJson(view: CardReversalView) {
  return {
    ...view,
    amountMinor: Number(view.amountMinor),
    walletAmountMinor: Number(view.walletAmountMinor),
    walletMinor: num(view.walletMinor),
    receivableMinor: num(view.receivableMinor),
    providerGapMinor: num(view.providerGapMinor),
    createdAt: view.createdAt.toISOString(),
    bookedAt: view.bookedAt?.toISOString() ?? null,
  };
}

/** Money leaving to a card, or finance closing what it became: a finance admin after a TOTP step-up, as payouts. */
const FINANCE_STEP_UP = {
  permissions: ['FINANCIAL_OVERSIGHT' as const],
  stepUp: true,
  ownership: 'finance admins after a TOTP step-up',
};

const FundingParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const RefundBody = Type.Object(
  {
    amountMinor: Type.Integer({
      minimum: 1,
      maximum: 100_000_000,
      description: 'US cents to refund to the card',
    }),
    reason: Type.String({ minLength: 3, maxLength: 500 }),
  },
  { additionalProperties: false },
);

const RecoverySchema = Type.Object({
  creditTransferId: Type.String({ description: 'the ledger transfer of the credit it was taken from' }),
  recoveryTransferId: Type.String({ description: '`recovery:<uuid>`, derived from the credit' }),
  currency: Type.Union([Type.Literal('USD'), Type.Literal('XAF')]),
  creditCode: Type.String({ description: 'the credit’s transfer code: topup or promotion' }),
  creditMinor: Type.Integer(),
  recoveredMinor: Type.Integer({
    description: 'taken from the wallet to the receivable (0: nothing to take)',
  }),
  owedAfterMinor: Minor,
  status: Type.Union([Type.Literal('DECIDED'), Type.Literal('BOOKED'), Type.Literal('NOTHING')]),
  createdAt: Iso,
  bookedAt: Type.Union([Iso, Type.Null()]),
});

function recoveryJson(view: RecoveryView) {
  return {
    ...view,
    creditMinor: Number(view.creditMinor),
    recoveredMinor: Number(view.recoveredMinor),
    owedAfterMinor: num(view.owedAfterMinor),
    createdAt: view.createdAt.toISOString(),
    bookedAt: view.bookedAt?.toISOString() ?? null,
  };
}

const ReceivableSchema = Type.Object({
  userId: Type.String({ format: 'uuid' }),
  currency: Type.Union([Type.Literal('USD'), Type.Literal('XAF')]),
  owedMinor: Type.Union([Type.Integer(), Type.Null()], {
    description: 'owed now, from the ledger’s read model (it may lag a moment)',
  }),
  recoveredMinor: Type.Integer({ description: 'recovered from later credits so far' }),
  recoveries: Type.Integer(),
  lastRecoveryAt: Type.Union([Iso, Type.Null()]),
});

type ReceivableCursor = { u: string; c: string };
const isReceivableCursor = (value: unknown): value is ReceivableCursor =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as ReceivableCursor).u === 'string' &&
  /^[0-9a-f-]{36}$/.test((value as ReceivableCursor).u) &&
  ((value as ReceivableCursor).c === 'USD' || (value as ReceivableCursor).c === 'XAF');

export function registerCardReversalRoutes(app: FastifyInstance, services: PaymentRouteServices): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { cardReversals } = services.payments;
  const db = services.runtime.database.db;
  const tags = ['payments'];

  typed.post('/v1/admin/card-fundings/:id/refunds', {
    config: { access: FINANCE_STEP_UP, idempotency: 'required' },
    schema: {
      tags,
      summary:
        'Refund part or all of a credited card funding to the card: taken back from the wallet, asked of the provider once (audited)',
      params: FundingParams,
      body: RefundBody,
      response: { 200: ReversalSchema, ...errors },
    },
    handler: async (request, reply) => {
      const adminId = principalOf(request).userId;
      const key = idempotencyKey(request, true)!;
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `card-refund:${request.params.id}`, required: true },
        async () => {
          const view = await cardReversals.refund({
            fundingId: request.params.id,
            adminId,
            amountMinor: BigInt(request.body.amountMinor),
            reason: request.body.reason,
            idempotencyKey: key,
          });
          return { statusCode: 200, body: reversalJson(view) };
        },
      ) as never;
    },
  });

  typed.post('/v1/admin/card-fundings/:id/refunds/:reversalId/resolve', {
    config: { access: FINANCE_STEP_UP },
    schema: {
      tags,
      summary:
        'Close a refund whose answer from the card provider was lost, once finance checked the provider: refunded books it, not_refunded fails it (audited)',
      params: Type.Object({
        id: Type.String({ format: 'uuid' }),
        reversalId: Type.String({ minLength: 1, maxLength: 100 }),
      }),
      body: Type.Object(
        {
          outcome: Type.Union([Type.Literal('refunded'), Type.Literal('not_refunded')]),
          providerReference: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          reason: Type.String({ minLength: 3, maxLength: 500 }),
        },
        { additionalProperties: false },
      ),
      response: { 200: ReversalSchema, ...errors },
    },
    handler: async (request) =>
      reversalJson(
        await cardReversals.resolveRefund({
          fundingId: request.params.id,
          reversalId: request.params.reversalId,
          adminId: principalOf(request).userId,
          outcome: request.body.outcome,
          ...(request.body.providerReference === undefined
            ? {}
            : { providerReference: request.body.providerReference }),
          reason: request.body.reason,
        }),
      ),
  });

  typed.post('/v1/admin/card-fundings/:id/chargebacks/sync', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary:
        'Read a card funding’s chargebacks from the provider now and book those that took the money back',
      params: FundingParams,
      response: { 200: Type.Object({ items: Type.Array(ReversalSchema) }), ...errors },
    },
    handler: async (request) => ({
      items: (await cardReversals.sync(request.params.id)).map(reversalJson),
    }),
  });

  typed.get('/v1/admin/card-fundings/:id/reversals', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary: 'The refunds and chargebacks of a card funding (first 50)',
      params: FundingParams,
      response: { 200: Type.Object({ items: Type.Array(ReversalSchema) }), ...errors },
    },
    handler: async (request) => ({
      items: (await cardReversals.list(request.params.id)).map(reversalJson),
    }),
  });

  typed.get('/v1/admin/receivables', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary:
        'Customers a card chargeback or refund left owing: what they owe now and what later credits recovered (audited)',
      querystring: Type.Object(
        {
          cursor: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          items: Type.Array(ReceivableSchema),
          nextCursor: Type.Union([Type.String(), Type.Null()]),
        }),
        ...errors,
      },
    },
    handler: async (request) => {
      const after = decodeCursor(request.query.cursor, isReceivableCursor);
      if (request.query.cursor !== undefined && after === undefined)
        throw paymentsErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API gave.');
      const limit = request.query.limit ?? 50;
      const rows = await services.payments.receivables.summaries(
        after === undefined ? undefined : { userId: after.u, currency: after.c },
        limit + 1,
      );
      await services.identity.audit({
        action: 'finance.receivables_viewed',
        actor: { kind: 'user', userId: principalOf(request).userId },
        resource: 'receivables',
        newValue: { count: Math.min(rows.length, limit) },
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => ({
          userId: row.user_id,
          currency: row.currency,
          owedMinor: row.owed_minor === null ? null : Number(row.owed_minor),
          recoveredMinor: Number(row.recovered_minor),
          recoveries: Number(row.recoveries),
          lastRecoveryAt: row.last_recovery_at?.toISOString() ?? null,
        })),
        nextCursor:
          rows.length > limit && last !== undefined
            ? encodeCursor({ u: last.user_id, c: last.currency })
            : null,
      };
    },
  });

  typed.get('/v1/admin/receivables/:userId', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary:
        'One customer’s receivables (owed now, from the ledger) and the recoveries from later credits, newest first (first 100; audited)',
      params: Type.Object({ userId: Type.String({ format: 'uuid' }) }),
      response: {
        200: Type.Object({
          owed: Type.Object({ USD: Type.Integer(), XAF: Type.Integer() }),
          recoveries: Type.Array(RecoverySchema),
        }),
        ...errors,
      },
    },
    handler: async (request) => {
      const { userId } = request.params;
      const { receivables } = services.payments;
      const [usd, xaf, recoveries] = await Promise.all([
        receivables.owedNow(userId, 'USD'),
        receivables.owedNow(userId, 'XAF'),
        receivables.recoveries(userId),
      ]);
      await services.identity.audit({
        action: 'finance.receivable_viewed',
        actor: { kind: 'user', userId: principalOf(request).userId },
        subjectUserId: userId,
        resource: `receivable:${userId}`,
      });
      return {
        owed: { USD: Number(usd), XAF: Number(xaf) },
        recoveries: recoveries.map(recoveryJson),
      };
    },
  });
}
