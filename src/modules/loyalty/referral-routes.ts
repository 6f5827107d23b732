/**
 * Referrals (docs/loyalty.md "Referrals"): `GET /v1/loyalty/referral` (one's code and link),
 * `POST /v1/loyalty/referral` (a new customer enters a code), `GET /v1/loyalty/referrals` (the
 * people one referred: status and reward, never who they are).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { MAX_REFERRALS_PAGE, REFERRAL_CODE_PATTERN, type Referrals } from './referrals.js';

const OWN: RouteAccess = { permissions: ['LOYALTY_PROGRAM'], ownership: "the caller's own referrals" };
const problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 429: ProblemSchema };
const Status = Type.Union([Type.Literal('pending'), Type.Literal('rewarded'), Type.Literal('refused')]);
const RewardKind = Type.Union([Type.Literal('points'), Type.Literal('wallet')]);

const ReferralSchema = Type.Object({
  code: Type.String({ description: 'the code to share (8 characters)' }),
  link: Type.String({ description: 'a link carrying the code' }),
  reward: Type.Object({
    kind: RewardKind,
    referrer: Type.Integer({ description: 'points or XAF the referrer gets per rewarded referral' }),
    referee: Type.Integer({ description: 'points or XAF the referee gets' }),
    monthlyCap: Type.Integer({ description: 'referrals rewarded to the referrer per month (UTC)' }),
  }),
  referrals: Type.Object({
    pending: Type.Integer(),
    rewarded: Type.Integer(),
    refused: Type.Integer(),
    rewardedThisMonth: Type.Integer(),
  }),
  referredStatus: Type.Union([Status, Type.Null()], {
    description: "the caller's own referral as a referee, if they entered a code",
  }),
});

const ClaimBody = Type.Object(
  { code: Type.String({ pattern: REFERRAL_CODE_PATTERN, description: 'the referrer’s code' }) },
  { additionalProperties: false },
);
const ClaimSchema = Type.Object({ status: Status });

const ListQuery = Type.Object({
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_REFERRALS_PAGE, default: 20 })),
});
const ListSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      status: Status,
      reason: Type.Union([Type.String(), Type.Null()], {
        description:
          'same_payment_phone or same_device (refused), referrer_monthly_cap (the referee alone rewarded), erased',
      }),
      reward: Type.Union([Type.Object({ kind: RewardKind, amount: Type.Integer() }), Type.Null()], {
        description: "the referrer's reward for this referral",
      }),
      referredAt: Type.String({ format: 'date-time' }),
      decidedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

function userIdOf(request: FastifyRequest): string {
  if (request.principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return request.principal.userId;
}

export function registerReferralRoutes(app: FastifyInstance, referrals: Referrals): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get('/v1/loyalty/referral', {
    config: { access: OWN },
    schema: {
      tags: ['loyalty'],
      summary: 'Your referral code and link, the rewards, and how your referrals stand',
      response: { 200: ReferralSchema, ...problems },
    },
    handler: async (request) => referrals.summary(userIdOf(request)),
  });
  typed.post('/v1/loyalty/referral', {
    config: { access: OWN, location: true },
    schema: {
      tags: ['loyalty'],
      summary:
        'Enter a referral code before your first completed order (201; the same code again 200; once per customer)',
      body: ClaimBody,
      response: {
        200: ClaimSchema,
        201: ClaimSchema,
        ...problems,
        409: ProblemSchema,
        422: ProblemSchema,
      },
    },
    handler: async (request, reply) => {
      const outcome = await referrals.claim(userIdOf(request), request.body.code);
      // Where the referee reads their referral (`referredStatus`).
      if (outcome.created) reply.header('location', '/v1/loyalty/referral');
      return reply.code(outcome.created ? 201 : 200).send({ status: outcome.status as 'pending' });
    },
  });
  typed.get('/v1/loyalty/referrals', {
    config: { access: OWN },
    schema: {
      tags: ['loyalty'],
      summary: 'The customers you referred, newest first: status and your reward (never who they are)',
      querystring: ListQuery,
      response: { 200: ListSchema, ...problems },
    },
    handler: async (request) => referrals.list(userIdOf(request), request.query),
  });
}
