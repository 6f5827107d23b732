/**
 * Card funding routes (issue #28): a funder opens a funding and pays on the card provider's hosted
 * page; the recipient of someone else's funding consents first; the provider's webhook and the
 * payer's return only make us read the funding back from the provider.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { idempotencyKey, withIdempotency } from '../../http/idempotency.js';
import { ProblemSchema } from '../../http/problem.js';
import type { CardFundingView } from './card-funding.js';
import * as S from './schemas.js';
import { paymentsErrors } from './errors.js';
import {
  categoryControlsOf,
  isAdmin,
  paymentTier,
  principalOf,
  WALLET,
  type PaymentRouteServices,
} from './routes.js';

const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
  429: ProblemSchema,
};
const Iso = Type.String({ format: 'date-time' });

const CardFundingBody = Type.Object(
  {
    amountMinor: Type.Integer({
      minimum: 100,
      maximum: 100_000_000,
      description: 'cents of `currency` to pay (≥ 100)',
    }),
    currency: Type.Union([Type.Literal('USD'), Type.Literal('EUR')], {
      description:
        'USD lands in the USD wallet; EUR is converted at once into the XAF wallet (at the EUR rate: the peg, 655.957 XAF), its terms fixed now',
    }),
    recipientPhone: Type.Optional(
      Type.String({
        minLength: 9,
        maxLength: 20,
        description: 'fund this customer’s wallet instead of your own (they consent on first use)',
      }),
    ),
  },
  { additionalProperties: false },
);

const CardFundingSchema = Type.Object({
  fundingId: Type.String(),
  txRef: Type.String(),
  status: Type.Union([
    Type.Literal('PENDING'),
    Type.Literal('CREDITED'),
    Type.Literal('FAILED'),
    Type.Literal('REVIEW'),
  ]),
  amountMinor: Type.Integer(),
  currency: Type.Union([Type.Literal('USD'), Type.Literal('EUR')]),
  walletCurrency: Type.Union([Type.Literal('USD'), Type.Literal('XAF')], {
    description: 'the wallet it lands in',
  }),
  conversion: Type.Union(
    [
      Type.Object({
        rate: Type.String({ description: 'XAF per EUR, exact decimal' }),
        rateAt: Iso,
        rateSource: Type.String(),
        spreadBps: Type.Integer(),
        creditMinor: Type.Integer({ description: 'francs the XAF wallet receives' }),
        spreadMinor: Type.Integer(),
        roundingMinor: Type.Integer(),
      }),
      Type.Null(),
    ],
    { description: 'a EUR funding’s conversion to XAF, fixed when it was created; null for USD' },
  ),
  role: Type.Union([Type.Literal('self'), Type.Literal('funder'), Type.Literal('recipient')]),
  checkoutUrl: Type.Union([Type.String(), Type.Null()], { description: 'the provider’s hosted card page' }),
  failureReason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Iso,
  creditedAt: Type.Union([Iso, Type.Null()]),
});

const FunderSchema = Type.Object({
  funderUserId: Type.String(),
  funderPhone: Type.Union([Type.String(), Type.Null()], { description: 'masked' }),
  status: Type.Union([Type.Literal('requested'), Type.Literal('granted'), Type.Literal('refused')]),
  requestedAt: Iso,
  decidedAt: Type.Union([Iso, Type.Null()]),
});

function fundingJson(view: CardFundingView) {
  return {
    ...view,
    amountMinor: Number(view.amountMinor),
    conversion:
      view.conversion === null
        ? null
        : {
            ...view.conversion,
            rateAt: view.conversion.rateAt.toISOString(),
            creditMinor: Number(view.conversion.creditMinor),
            spreadMinor: Number(view.conversion.spreadMinor),
            roundingMinor: Number(view.conversion.roundingMinor),
          },
    createdAt: view.createdAt.toISOString(),
    creditedAt: view.creditedAt?.toISOString() ?? null,
  };
}

export function registerCardRoutes(app: FastifyInstance, services: PaymentRouteServices): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { cards } = services.payments;
  const db = services.runtime.database.db;
  const tags = ['wallet'];

  typed.post('/v1/wallet/card-fundings', {
    config: { access: WALLET, idempotency: 'required', rateLimit: paymentTier(services), location: true },
    schema: {
      tags,
      summary:
        'Fund a wallet (yours or a consenting relative’s) by card in USD or EUR (EUR lands converted in XAF): 201 with the provider’s hosted page',
      body: CardFundingBody,
      response: { 201: CardFundingSchema, 502: ProblemSchema, 503: ProblemSchema, ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const key = idempotencyKey(request, true)!;
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `card-funding:${principal.userId}`, required: true },
        async () => {
          const view = await cards.create({
            funderUserId: principal.userId,
            amountMinor: BigInt(request.body.amountMinor),
            currency: request.body.currency,
            ...(request.body.recipientPhone === undefined
              ? {}
              : { recipientPhone: request.body.recipientPhone }),
            idempotencyKey: key,
          });
          reply.header('location', `/v1/wallet/card-fundings/${view.fundingId}`);
          return { statusCode: 201, body: fundingJson(view) };
        },
      ) as never;
    },
  });

  typed.get('/v1/wallet/card-fundings', {
    config: { access: WALLET },
    schema: {
      tags,
      summary: 'Your card fundings, sent and received (newest 50)',
      response: { 200: Type.Object({ items: Type.Array(CardFundingSchema) }), ...errors },
    },
    handler: async (request) => ({
      items: (await cards.list(principalOf(request).userId)).map(fundingJson),
    }),
  });

  typed.get('/v1/wallet/card-fundings/:fundingId', {
    config: { access: WALLET },
    schema: {
      tags,
      summary:
        'One card funding (its funder, its recipient or finance); a pending one is read back from the provider',
      params: Type.Object({ fundingId: Type.String({ format: 'uuid' }) }),
      response: { 200: CardFundingSchema, 502: ProblemSchema, 503: ProblemSchema, ...errors },
    },
    handler: async (request) => {
      const principal = principalOf(request);
      return fundingJson(await cards.get(request.params.fundingId, principal.userId, isAdmin(principal)));
    },
  });

  typed.get('/v1/wallet/funders', {
    config: { access: WALLET },
    schema: {
      tags,
      summary: 'Who asked to fund your wallet by card, and your answers',
      response: { 200: Type.Object({ items: Type.Array(FunderSchema) }), ...errors },
    },
    handler: async (request) => ({
      items: (await cards.funders(principalOf(request).userId)).map((item) => ({
        ...item,
        requestedAt: item.requestedAt.toISOString(),
        decidedAt: item.decidedAt?.toISOString() ?? null,
      })),
    }),
  });

  typed.put('/v1/wallet/funders/:funderUserId', {
    config: { access: WALLET },
    schema: {
      tags,
      summary: 'Accept or refuse card funding from someone who asked (audited)',
      params: Type.Object({ funderUserId: Type.String({ format: 'uuid' }) }),
      body: Type.Object({ allow: Type.Boolean() }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          funderUserId: Type.String(),
          status: Type.Union([Type.Literal('granted'), Type.Literal('refused')]),
        }),
        ...errors,
      },
    },
    handler: async (request) => {
      const recipientUserId = principalOf(request).userId;
      const decided = await cards.decide(recipientUserId, request.params.funderUserId, request.body.allow);
      // Stopping a funder's funding also ends their hold on this wallet's controls.
      if (!request.body.allow)
        await services.payments.wallets.releaseFunderControls(recipientUserId, request.params.funderUserId);
      return decided;
    },
  });

  typed.put('/v1/wallet/funded/:recipientUserId/controls', {
    config: { access: WALLET },
    schema: {
      tags,
      summary:
        'Set the spending controls of a wallet you fund (the owner accepted your funding); the owner cannot loosen them (audited)',
      params: Type.Object({ recipientUserId: Type.String({ format: 'uuid' }) }),
      body: Type.Object(
        {
          currency: Type.Optional(Type.Union([Type.Literal('XAF'), Type.Literal('USD')])),
          categoryControls: S.WalletSettingsBody.properties.categoryControls,
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          recipientUserId: Type.String(),
          currency: Type.String(),
          categoryControls: Type.Array(
            Type.Object({
              category: Type.String(),
              blocked: Type.Boolean(),
              monthlyLimitMinor: Type.Union([Type.Integer(), Type.Null()]),
            }),
          ),
        }),
        ...errors,
      },
    },
    handler: async (request) => {
      const funderUserId = principalOf(request).userId;
      const { recipientUserId } = request.params;
      if (!(await cards.fundingGranted(recipientUserId, funderUserId)))
        throw paymentsErrors.of(
          'not_found',
          'funded_wallet_not_found',
          'You fund no wallet of this person (they have not accepted your funding).',
        );
      if (request.body.categoryControls === undefined)
        throw paymentsErrors.of('validation', 'validation_failed', 'Send categoryControls.');
      const currency = request.body.currency ?? 'XAF';
      const summary = await services.payments.wallets.updateSettings(
        recipientUserId,
        currency,
        { categoryControls: categoryControlsOf(request.body.categoryControls) },
        funderUserId,
      );
      return {
        recipientUserId,
        currency,
        categoryControls: summary.categoryControls.map((control) => ({
          category: control.category,
          blocked: control.blocked,
          monthlyLimitMinor: control.monthlyLimitMinor === null ? null : Number(control.monthlyLimitMinor),
        })),
      };
    },
  });

  typed.post('/v1/webhooks/flutterwave', {
    config: {
      access: {
        public: true,
        description: 'carries the verif-hash secret (checked, then the funding is verified)',
      },
    },
    schema: {
      tags: ['webhooks'],
      summary: 'Flutterwave webhook: verif-hash checked, then the transaction is verified and applied once',
      response: {
        200: Type.Object({ received: Type.Boolean(), applied: Type.Boolean() }),
        401: ProblemSchema,
        404: ProblemSchema,
        502: ProblemSchema,
        503: ProblemSchema,
      },
    },
    handler: async (request) => {
      const result = await cards.webhook(request.headers, request.body);
      return { received: true, applied: result.applied };
    },
  });

  typed.get('/v1/card-fundings/return', {
    config: {
      access: {
        public: true,
        description: 'the payer’s browser back from the hosted page; reads the funding back',
      },
    },
    schema: {
      tags: ['wallet'],
      summary:
        'Where the card provider sends the payer back: the funding is read from the provider (the query is not trusted)',
      querystring: Type.Object({
        tx_ref: Type.String({ maxLength: 100 }),
        status: Type.Optional(Type.String({ maxLength: 32 })),
        transaction_id: Type.Optional(Type.String({ maxLength: 32 })),
      }),
      response: {
        200: Type.Object({ status: CardFundingSchema.properties.status }),
        400: ProblemSchema,
        404: ProblemSchema,
      },
    },
    handler: async (request) => cards.returned(request.query.tx_ref),
  });
}
