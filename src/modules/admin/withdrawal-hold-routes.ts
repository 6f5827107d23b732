/**
 * Admins' holds on payouts and withdrawals (docs/admin.md "Withdrawal holds"): place one on a
 * driver, a restaurant or a customer (audited; Idempotency-Key), list them, release one (audited).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { idempotencyKey, keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import { signedInActorOf } from '../identity/index.js';
import type { WithdrawalPayeeKind } from './tables.js';
import { HOLDS_PAGE_MAX, WITHDRAWAL_PAYEE_KINDS, type WithdrawalHolds } from './withdrawal-holds.js';

const ADMINS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const tags = ['admin'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  429: ProblemSchema,
};
const PayeeKind = Type.Unsafe<WithdrawalPayeeKind>({ type: 'string', enum: [...WITHDRAWAL_PAYEE_KINDS] });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Hold = Type.Object({
  id: Type.String({ format: 'uuid' }),
  payeeKind: PayeeKind,
  payeeId: Type.String({ format: 'uuid' }),
  reason: Type.String(),
  placedBy: Type.String(),
  placedAt: Type.String({ format: 'date-time' }),
  releasedAt: Nullable(Type.String({ format: 'date-time' })),
  releasedBy: Nullable(Type.String()),
  releaseNote: Nullable(Type.String()),
});
const Reason = Type.String({ minLength: 3, maxLength: 500 });

export function registerWithdrawalHoldRoutes(
  root: FastifyInstance,
  holds: WithdrawalHolds,
  runtime: Runtime,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/admin/withdrawal-holds',
    {
      config: { access: ADMINS, idempotency: 'optional', location: true },
      schema: {
        tags,
        summary:
          "Hold a driver's, restaurant's or customer's payouts and withdrawals, with a reason (audited)",
        body: Type.Object(
          { payeeKind: PayeeKind, payeeId: Type.String({ format: 'uuid' }), reason: Reason },
          { additionalProperties: false },
        ),
        response: { 201: Hold, ...errors },
      },
    },
    async (request, reply) => {
      const actor = signedInActorOf(request);
      const body = request.body as { payeeKind: WithdrawalPayeeKind; payeeId: string; reason: string };
      const scope = `admin:withdrawal-hold:${actor.userId}`;
      const key = idempotencyKey(request, false);
      const answer = await withIdempotency(runtime.database.db, request, reply, { scope }, async () => {
        const hold = await holds.place(
          body,
          actor,
          key === undefined ? undefined : keyedUuid('withdrawal-hold', scope, key),
        );
        reply.header('location', `/v1/admin/withdrawal-holds/${hold.id}`);
        return { statusCode: 201, body: hold };
      });
      return answer as Static<typeof Hold>;
    },
  );

  app.get(
    '/v1/admin/withdrawal-holds',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Withdrawal holds, newest first (cursor pages)',
        querystring: Type.Object(
          {
            active: Type.Optional(Type.Boolean({ description: 'true: in force; false: released' })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: HOLDS_PAGE_MAX })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Hold), nextCursor: Nullable(Type.String()) }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request) => holds.list(request.query),
  );

  app.get(
    '/v1/admin/withdrawal-holds/:id',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'One withdrawal hold',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: Hold, ...errors },
      },
    },
    async (request) => holds.get(request.params.id),
  );

  app.post(
    '/v1/admin/withdrawal-holds/:id/release',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Release a withdrawal hold, with a note (audited; again: the same answer)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        body: Type.Object({ note: Reason }, { additionalProperties: false }),
        response: { 200: Hold, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      return holds.release(id, request.body, signedInActorOf(request));
    },
  );
}
