/**
 * The payments context's HTTP routes: wallet, top-ups, payments, webhooks, payouts,
 * reconciliation and reports. Handlers translate HTTP to service calls; every route declares
 * config.access; money-moving POSTs take an Idempotency-Key and use the payment rate-limit tier.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Principal, RouteAccess } from '../../http/access.js';
import { idempotencyKey, keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import type { CatalogOrdersApi } from '../catalog/index.js';
import type { AuditFunction } from '../identity/index.js';
import type { OrdersService } from '../orders/index.js';
import type { PaymentsContext } from './index.js';
import { isUuid } from './ids.js';
import type { PaymentView } from './payments-service.js';
import type { PayoutRow } from './payouts.js';
import { PROVIDER_NAMES, type ProviderName } from './providers/index.js';
import { registerFinanceRoutes } from './routes-finance.js';
import { registerCardRoutes } from './routes-cards.js';
import { registerCardReversalRoutes } from './routes-card-reversals.js';
import { registerFxRoutes } from './routes-fx.js';
import { WALLET_CATEGORIES, type CategoryControlsUpdate, type WalletSummary } from './wallet-service.js';
import { SPENDING_CATEGORIES } from './wallet-categories.js';
import * as S from './schemas.js';

const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
  429: ProblemSchema,
};

export const WALLET: RouteAccess = {
  permissions: ['WALLET_MANAGEMENT'],
  ownership: "the caller's own wallet",
};
export const PAYEE: RouteAccess = {
  permissions: ['FINANCIAL_REPORTS', 'EARNINGS_TRACKING'],
  ownership: 'restaurant owners for their restaurants, drivers for themselves',
};
export const FINANCE_ADMIN: RouteAccess = { permissions: ['FINANCIAL_OVERSIGHT'] };

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return request.principal;
}

export const isAdmin = (principal: Principal): boolean =>
  principal.permissions.has('FULL_SYSTEM_ACCESS') || principal.permissions.has('FINANCIAL_OVERSIGHT');

/** The payment rate-limit tier (RATE_LIMIT_PAYMENT_MAX per RATE_LIMIT_PAYMENT_WINDOW_MS), per user. */
/** What the payment routes get: their own context, the runtime, and the interfaces payments declared. */
export interface PaymentRouteServices {
  runtime: Runtime;
  payments: PaymentsContext;
  orders: { orders: OrdersService };
  catalog: { orders: Pick<CatalogOrdersApi, 'restaurantOwnerId'> };
  identity: { audit: AuditFunction };
}

export function paymentTier(services: PaymentRouteServices) {
  const { config } = services.runtime;
  return {
    // The admin's run-time figure for the tier, else RATE_LIMIT_PAYMENT_MAX (src/http/rate-limit.ts).
    max: (request: FastifyRequest) => request.server.rateLimitMax('payment'),
    timeWindow: config.RATE_LIMIT_PAYMENT_WINDOW_MS,
    hook: 'preHandler' as const,
    keyGenerator: (request: FastifyRequest) => `payment:${request.principal?.userId ?? `ip:${request.ip}`}`,
  };
}

/** The settings body's controls, amounts as bigint (`null` removes a cap). */
export function categoryControlsOf(
  body: Record<string, { blocked?: boolean; monthlyLimitMinor?: number | null } | undefined>,
): CategoryControlsUpdate {
  const update: CategoryControlsUpdate = {};
  for (const category of SPENDING_CATEGORIES) {
    const control = body[category];
    if (control === undefined) continue;
    update[category] = {
      ...(control.blocked === undefined ? {} : { blocked: control.blocked }),
      ...(control.monthlyLimitMinor === undefined
        ? {}
        : {
            monthlyLimitMinor: control.monthlyLimitMinor === null ? null : BigInt(control.monthlyLimitMinor),
          }),
    };
  }
  return update;
}

export function walletJson(summary: WalletSummary) {
  return {
    currency: summary.currency,
    status: summary.status,
    balanceMinor: Number(summary.balanceMinor),
    availableMinor: Number(summary.availableMinor),
    heldMinor: Number(summary.heldMinor),
    limits: {
      dailyMinor: Number(summary.limits.dailyMinor),
      monthlyMinor: Number(summary.limits.monthlyMinor),
      spentTodayMinor: Number(summary.limits.spentTodayMinor),
      spentThisMonthMinor: Number(summary.limits.spentThisMonthMinor),
    },
    autoTopUp: {
      enabled: summary.autoTopUp.enabled,
      thresholdMinor:
        summary.autoTopUp.thresholdMinor === null ? null : Number(summary.autoTopUp.thresholdMinor),
      amountMinor: summary.autoTopUp.amountMinor === null ? null : Number(summary.autoTopUp.amountMinor),
    },
    categoryControls: summary.categoryControls.map((control) => ({
      category: control.category,
      blocked: control.blocked,
      monthlyLimitMinor: control.monthlyLimitMinor === null ? null : Number(control.monthlyLimitMinor),
      spentThisMonthMinor: Number(control.spentThisMonthMinor),
    })),
  };
}

export function paymentJson(view: PaymentView) {
  return { ...view, amountMinor: Number(view.amountMinor) };
}

export function payoutJson(row: PayoutRow) {
  return {
    payoutId: row.payout_id,
    payeeKind: row.payee_kind,
    payeeId: row.payee_id,
    amountMinor: Number(row.amount_minor),
    currency: row.currency,
    phone: `${row.phone.slice(0, 5)}****${row.phone.slice(-4)}`,
    status: row.status,
    automatic: row.automatic,
    provider: row.provider,
    feeMinor: row.fee_minor === null ? null : Number(row.fee_minor),
    failureReason: row.failure_reason,
    reviewReason: row.review_reason,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function registerWalletRoutes(app: FastifyInstance, services: PaymentRouteServices): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { wallets, payments } = services.payments;
  const db = services.runtime.database.db;
  const tags = ['wallet'];

  typed.get('/v1/wallet', {
    config: { access: WALLET },
    schema: {
      tags,
      summary: 'Balance, available, held, limits (one currency; no conversion)',
      querystring: S.CurrencyQuery,
      response: { 200: S.WalletSchema, ...errors },
    },
    handler: async (request) =>
      walletJson(await wallets.summary(principalOf(request).userId, request.query.currency ?? 'XAF')),
  });

  typed.get('/v1/wallet/transactions', {
    config: { access: WALLET },
    schema: {
      tags,
      summary: 'Statement, newest first (cursor; categories food, delivery, tips, refunds, top-ups)',
      querystring: S.TransactionsQuery,
      response: { 200: S.TransactionsSchema, ...errors },
    },
    handler: async (request) => {
      const page = await wallets.transactions(
        principalOf(request).userId,
        request.query.currency ?? 'XAF',
        request.query,
      );
      return {
        items: page.items.map((item) => ({ ...item, amountMinor: Number(item.amountMinor) })),
        nextCursor: page.nextCursor,
      };
    },
  });

  typed.post('/v1/wallet/topups', {
    config: { access: WALLET, idempotency: 'required', rateLimit: paymentTier(services) },
    schema: {
      tags,
      summary: 'Top up by Mobile Money (Idempotency-Key required): 202 with the USSD code to dial',
      body: S.TopUpBody,
      response: { 202: S.TopUpSchema, 503: ProblemSchema, ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const key = idempotencyKey(request, true)!;
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `topup:${principal.userId}`, required: true },
        async () => {
          const view = await wallets.topUp(
            principal.userId,
            BigInt(request.body.amountMinor),
            request.body.phone,
            key,
          );
          reply.header('location', `/v1/payments/${view.paymentId}`);
          return {
            statusCode: 202,
            body: {
              payment: paymentJson(view),
              ussdCode: view.ussdCode,
              instructions:
                view.ussdCode === null
                  ? 'Approve the payment request on your phone.'
                  : `Dial ${view.ussdCode} and approve the payment.`,
            },
          };
        },
      ) as never;
    },
  });

  typed.put('/v1/wallet/settings', {
    config: { access: WALLET },
    schema: {
      tags,
      summary: 'Lower your spending limits; opt in or out of automatic top-up',
      body: S.WalletSettingsBody,
      response: { 200: S.WalletSchema, ...errors },
    },
    handler: async (request) => {
      const body = request.body;
      const summary = await wallets.updateSettings(principalOf(request).userId, body.currency ?? 'XAF', {
        ...(body.dailyLimitMinor === undefined ? {} : { dailyLimitMinor: BigInt(body.dailyLimitMinor) }),
        ...(body.monthlyLimitMinor === undefined
          ? {}
          : { monthlyLimitMinor: BigInt(body.monthlyLimitMinor) }),
        ...(body.autoTopUp === undefined
          ? {}
          : {
              autoTopUp: {
                enabled: body.autoTopUp.enabled,
                ...(body.autoTopUp.thresholdMinor === undefined
                  ? {}
                  : { thresholdMinor: BigInt(body.autoTopUp.thresholdMinor) }),
                ...(body.autoTopUp.amountMinor === undefined
                  ? {}
                  : { amountMinor: BigInt(body.autoTopUp.amountMinor) }),
                ...(body.autoTopUp.phone === undefined ? {} : { phone: body.autoTopUp.phone }),
              },
            }),
        ...(body.categoryControls === undefined
          ? {}
          : { categoryControls: categoryControlsOf(body.categoryControls) }),
      });
      return walletJson(summary);
    },
  });

  typed.post('/v1/wallet/payments', {
    config: { access: WALLET, idempotency: 'optional', rateLimit: paymentTier(services) },
    schema: {
      tags,
      summary:
        'Pay an order waiting for payment from the wallet (402 insufficient funds, frozen or over a limit: nothing changes)',
      body: S.WalletPaymentBody,
      response: { 200: S.WalletPaymentSchema, 402: ProblemSchema, ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      return withIdempotency(db, request, reply, { scope: `wallet-pay:${principal.userId}` }, async () => {
        const orderId = request.body.orderId;
        const orders = services.orders.orders;
        const { state } = await orders.load(orderId);
        if (state.order?.customer.id !== principal.userId)
          throw new HttpProblem(404, 'order_not_found', 'There is no such order.');
        if (state.status !== 'PENDING_PAYMENT')
          throw new HttpProblem(409, 'order_not_awaiting_payment', `The order is ${state.status}.`, {
            extensions: { currentStatus: state.status },
          });
        const result = await wallets.payOrder({
          userId: principal.userId,
          orderId,
          currency: 'XAF',
          pricing: state.order.pricing,
        });
        if (!result.ok)
          throw new HttpProblem(402, result.code, result.detail, {
            extensions: { orderId, orderStatus: state.status },
          });
        await orders.recordPaymentOutcome(orderId, {
          status: 'captured',
          paymentId: `wallet-${orderId}`,
          amountMinor: BigInt(state.order.pricing.totalMinor),
        });
        return {
          statusCode: 200,
          body: {
            orderId,
            paidMinor: state.order.pricing.totalMinor,
            wallet: walletJson(await wallets.summary(principal.userId, 'XAF')),
          },
        };
      }) as never;
    },
  });

  typed.post('/v1/wallet/withdrawals', {
    config: { access: WALLET, idempotency: 'optional', rateLimit: paymentTier(services) },
    schema: {
      tags,
      summary:
        'Send wallet money (e.g. a refund) to your verified Mobile Money number (Idempotency-Key; no approval needed)',
      body: S.WithdrawalBody,
      response: { 201: S.PayoutSchema, ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const scope = `withdrawal:${principal.userId}`;
      const key = idempotencyKey(request, false);
      return withIdempotency(db, request, reply, { scope }, async () => {
        const summary = await wallets.summary(principal.userId, 'XAF');
        if (summary.status === 'frozen')
          throw new HttpProblem(422, 'wallet_frozen', 'This wallet is frozen; contact support.');
        const row = await services.payments.payouts.request({
          ...(key === undefined ? {} : { payoutId: keyedUuid('payout', scope, key) }),
          requesterId: principal.userId,
          kind: 'customer',
          amountMinor: BigInt(request.body.amountMinor),
          isAdmin: false,
          automatic: true,
        });
        return { statusCode: 201, body: payoutJson(row) };
      }) as never;
    },
  });

  typed.get('/v1/payments/:id', {
    config: {
      access: {
        permissions: ['WALLET_MANAGEMENT', 'GUEST_ORDER', 'FINANCIAL_OVERSIGHT'],
        allowGuest: true,
        ownership: 'the payer (or finance admins)',
      },
    },
    schema: {
      tags: ['payments'],
      summary: 'One Mobile Money payment attempt',
      params: S.IdParams,
      response: { 200: S.PaymentSchema, ...errors },
    },
    handler: async (request) => {
      const principal = principalOf(request);
      if (!isUuid(request.params.id))
        throw new HttpProblem(404, 'payment_not_found', 'There is no such payment.');
      const { state } = await payments.load(request.params.id);
      if (state.initiated === null || (state.initiated.userId !== principal.userId && !isAdmin(principal)))
        throw new HttpProblem(404, 'payment_not_found', 'There is no such payment.');
      const view = await payments.view(request.params.id);
      return paymentJson(view!);
    },
  });

  typed.post('/v1/admin/wallets/:userId/freeze', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary: 'Freeze (or unfreeze) a wallet: no spending, no top-ups; credits still land (audited)',
      params: S.UserParams,
      body: S.FreezeBody,
      response: { 200: S.WalletSchema, ...errors },
    },
    handler: async (request) => {
      const principal = principalOf(request);
      const currency = request.body.currency ?? 'XAF';
      await wallets.setFrozen(
        request.params.userId,
        currency,
        request.body.frozen,
        request.body.reason,
        principal.userId,
      );
      return walletJson(await wallets.summary(request.params.userId, currency));
    },
  });
}

function registerWebhookRoutes(app: FastifyInstance, services: PaymentRouteServices): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const handler = async (request: FastifyRequest<{ Params: { provider: string } }>) => {
    const provider = request.params.provider;
    if (!(PROVIDER_NAMES as readonly string[]).includes(provider))
      throw new HttpProblem(404, 'unknown_provider', 'There is no such payment provider.');
    const result = await services.payments.payments.handleWebhook(provider as ProviderName, {
      method: request.method,
      query: request.query as Record<string, unknown>,
      headers: request.headers,
      body: request.body,
    });
    return { received: true, applied: result.applied };
  };
  for (const method of ['POST', 'PUT', 'GET'] as const) {
    typed.route({
      method,
      url: '/v1/webhooks/:provider',
      config: {
        access: {
          public: true,
          description: 'signed by the provider (verified, then the status is re-read)',
        },
      },
      schema: {
        tags: ['webhooks'],
        summary: `Provider webhook (${method}): verified, then the status is re-read from the provider and applied once`,
        params: Type.Object({ provider: Type.String({ maxLength: 32 }) }),
        response: { 200: S.WebhookAnswer, 401: ProblemSchema, 404: ProblemSchema },
      },
      handler,
    });
  }
}

export function registerPaymentRoutes(app: FastifyInstance, services: PaymentRouteServices): void {
  registerWalletRoutes(app, services);
  registerWebhookRoutes(app, services);
  registerFinanceRoutes(app, services);
  registerCardRoutes(app, services);
  registerCardReversalRoutes(app, services);
  registerFxRoutes(app, services);
}

export { WALLET_CATEGORIES };
