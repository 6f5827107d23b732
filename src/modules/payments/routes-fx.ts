/**
 * Currency conversion routes (issue #28): a customer asks a quote to convert part of their USD
 * wallet to XAF (rate, spread, what they will get, an expiry), then accepts it once.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { idempotencyKey, withIdempotency } from '../../http/idempotency.js';
import { ProblemSchema } from '../../http/problem.js';
import type { FxQuoteView } from './fx-conversion.js';
import { paymentTier, principalOf, WALLET, type PaymentRouteServices } from './routes.js';

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

const QuoteBody = Type.Object(
  {
    fromCurrency: Type.Literal('USD'),
    toCurrency: Type.Literal('XAF'),
    amountMinor: Type.Integer({
      minimum: 1,
      maximum: 100_000_000,
      description: 'US cents of your USD wallet to convert',
    }),
  },
  { additionalProperties: false },
);

const QuoteSchema = Type.Object({
  quoteId: Type.String({ format: 'uuid' }),
  fromCurrency: Type.Literal('USD'),
  toCurrency: Type.Literal('XAF'),
  fromMinor: Type.Integer(),
  toMinor: Type.Integer(),
  rate: Type.String({ description: 'XAF per USD (mid), exact' }),
  rateAt: Iso,
  rateSource: Type.String(),
  spreadBps: Type.Integer(),
  spreadMinor: Type.Integer(),
  roundingMinor: Type.Integer(),
  status: Type.String({ enum: ['OPEN', 'CONVERTING', 'CONVERTED', 'FAILED'] }),
  failureReason: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Iso,
  convertedAt: Type.Union([Iso, Type.Null()]),
});

function quoteJson(view: FxQuoteView) {
  return {
    ...view,
    fromMinor: Number(view.fromMinor),
    toMinor: Number(view.toMinor),
    spreadMinor: Number(view.spreadMinor),
    roundingMinor: Number(view.roundingMinor),
    rateAt: view.rateAt.toISOString(),
    expiresAt: view.expiresAt.toISOString(),
    convertedAt: view.convertedAt?.toISOString() ?? null,
  };
}

export function registerFxRoutes(app: FastifyInstance, services: PaymentRouteServices): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { fx } = services.payments;
  const db = services.runtime.database.db;
  const tags = ['wallet'];

  typed.post('/v1/wallet/fx/quotes', {
    config: { access: WALLET, idempotency: 'optional', location: true },
    schema: {
      tags,
      summary: 'Quote a conversion of your USD wallet to XAF: rate, spread, what you get, an expiry',
      body: QuoteBody,
      response: { 201: QuoteSchema, 503: ProblemSchema, ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const key = idempotencyKey(request, false);
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `fx-quote:${principal.userId}`, required: false },
        async () => {
          const view = await fx.quote({
            userId: principal.userId,
            fromCurrency: request.body.fromCurrency,
            toCurrency: request.body.toCurrency,
            fromMinor: BigInt(request.body.amountMinor),
            ...(key === undefined ? {} : { idempotencyKey: key }),
          });
          reply.header('location', `/v1/wallet/fx/quotes/${view.quoteId}`);
          return { statusCode: 201, body: quoteJson(view) };
        },
      ) as never;
    },
  });

  typed.get('/v1/wallet/fx/quotes/:quoteId', {
    config: { access: WALLET },
    schema: {
      tags,
      summary: 'One of your conversion quotes',
      params: Type.Object({ quoteId: Type.String({ format: 'uuid' }) }),
      response: { 200: QuoteSchema, 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema },
    },
    handler: async (request) => quoteJson(await fx.get(request.params.quoteId, principalOf(request).userId)),
  });

  typed.post('/v1/wallet/fx/conversions', {
    config: { access: WALLET, idempotency: 'required', rateLimit: paymentTier(services) },
    schema: {
      tags,
      summary:
        'Accept a quote before it expires: USD wallet → XAF wallet at its terms, booked once (402 insufficient funds: nothing moves)',
      body: Type.Object({ quoteId: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
      response: { 200: QuoteSchema, 402: ProblemSchema, ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `fx-conversion:${principal.userId}`, required: true },
        async () => ({
          statusCode: 200,
          body: quoteJson(await fx.convert(request.body.quoteId, principal.userId)),
        }),
      ) as never;
    },
  });
}
