/**
 * Commission overrides managed by admins (issue #23): a change sets a restaurant's rate (or sends
 * it back to the tiers with null) from now or from a future moment, each change audited in the
 * same transaction; the history lists every change with its status; a scheduled change can be
 * cancelled before it takes effect. Escrow reads the rate in force when an order is settled.
 */
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import Type from 'typebox';
import { idempotencyKey, keyedUuid } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { CommissionChange } from './commission-repository.js';
import { effectiveFromOf, sameRate } from './commission-rules.js';
import { FINANCE_ADMIN, principalOf, type PaymentRouteServices } from './routes.js';
import * as S from './schemas.js';
import type { PaymentsDb } from './tables.js';

const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
};
const tags = ['commission'];
const Params = Type.Object({ id: Type.String({ format: 'uuid' }) });

function statusOf(change: CommissionChange, inForceId: string | undefined, now: Date) {
  if (change.cancelledAt !== null) return 'cancelled' as const;
  if (change.effectiveFrom.getTime() > now.getTime()) return 'scheduled' as const;
  return change.changeId === inForceId ? ('in_force' as const) : ('superseded' as const);
}

function changeJson(change: CommissionChange, inForceId: string | undefined, now: Date) {
  return {
    changeId: change.changeId,
    rate: change.rate,
    effectiveFrom: change.effectiveFrom.toISOString(),
    reason: change.reason,
    setBy: change.setBy,
    setAt: change.setAt.toISOString(),
    status: statusOf(change, inForceId, now),
    cancelledAt: change.cancelledAt?.toISOString() ?? null,
    cancelledBy: change.cancelledBy,
  };
}

const encodeCursor = (change: CommissionChange) =>
  Buffer.from(`${change.effectiveFrom.toISOString()}|${change.changeId}`).toString('base64url');

function decodeCursor(cursor: string): { effectiveFrom: Date; changeId: string } {
  const [at, changeId] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const effectiveFrom = new Date(at ?? '');
  if (
    Number.isNaN(effectiveFrom.getTime()) ||
    changeId === undefined ||
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(changeId)
  )
    throw new HttpProblem(400, 'invalid_cursor', 'The page cursor is not one this API issued.');
  return { effectiveFrom, changeId };
}

export function registerCommissionRoutes(app: FastifyInstance, services: PaymentRouteServices): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { commission } = services.payments;
  const db = services.runtime.database.db as unknown as PaymentsDb;
  const now = () => new Date();

  async function existingRestaurant(restaurantId: string): Promise<void> {
    if ((await services.catalog.orders.restaurantOwnerId(restaurantId)) === undefined)
      throw new HttpProblem(404, 'restaurant_not_found', 'There is no such restaurant.');
  }

  typed.put('/v1/admin/restaurants/:id/commission', {
    config: { access: FINANCE_ADMIN, idempotency: 'optional' },
    schema: {
      tags,
      summary:
        "Change a restaurant's commission override (null: back to the tiers), now or from `effectiveFrom` (audited; Idempotency-Key)",
      params: Params,
      body: S.CommissionBody,
      response: { 204: Type.Null(), ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const restaurantId = request.params.id;
      const { rate, reason } = request.body;
      const current = now();
      const effective = effectiveFromOf(request.body.effectiveFrom, current);
      if (!effective.ok)
        throw new HttpProblem(
          400,
          effective.code,
          effective.code === 'commission_effective_past'
            ? 'effectiveFrom is in the past: a change takes effect now or later.'
            : 'effectiveFrom is more than a year ahead.',
        );
      await existingRestaurant(restaurantId);
      const key = idempotencyKey(request, false);
      const changeId =
        key === undefined
          ? randomUUID()
          : keyedUuid('commission', `${principal.userId}:${restaurantId}`, key);
      if (key !== undefined) {
        const earlier = await commission.find(changeId);
        if (earlier !== undefined) {
          const same =
            earlier.restaurantId === restaurantId &&
            sameRate(earlier.rate, rate) &&
            earlier.reason === reason &&
            (request.body.effectiveFrom === undefined ||
              new Date(request.body.effectiveFrom).getTime() === earlier.effectiveFrom.getTime());
          if (!same)
            throw new HttpProblem(409, 'idempotency_key_reused', 'This key was used with another request.');
          reply.header('idempotent-replayed', 'true');
          return reply.code(204).send(null);
        }
      }
      await db.transaction().execute(async (trx) => {
        // One change at a time per restaurant: the rate in force is read under this lock.
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`commission:${restaurantId}`}))`.execute(trx);
        const before = await commission.changeInForce(restaurantId, effective.effectiveFrom, trx);
        const later = await trx
          .selectFrom('restaurant_commission_changes')
          .select('change_id')
          .where('restaurant_id', '=', restaurantId)
          .where('cancelled_at', 'is', null)
          .where('effective_from', '>', effective.effectiveFrom)
          .executeTakeFirst();
        if (later === undefined && sameRate(before?.rate, rate))
          throw new HttpProblem(
            409,
            'commission_unchanged',
            'This rate is already the one in force then: nothing to change.',
          );
        await commission.add(
          {
            changeId,
            restaurantId,
            rate,
            effectiveFrom: effective.effectiveFrom,
            reason,
            setBy: principal.userId,
          },
          trx,
        );
        await services.identity.audit(
          {
            action: 'commission.override',
            actor: { kind: 'user', userId: principal.userId },
            resource: `restaurant:${restaurantId}`,
            oldValue: { rate: before?.rate ?? null },
            newValue: { rate, reason, effectiveFrom: effective.effectiveFrom.toISOString(), changeId },
          },
          trx,
        );
      });
      return reply.code(204).send(null);
    },
  });

  typed.get('/v1/admin/restaurants/:id/commission', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary: "A restaurant's commission override in force and its changes, latest effective first",
      params: Params,
      querystring: S.CommissionHistoryQuery,
      response: { 200: S.CommissionHistorySchema, ...errors },
    },
    handler: async (request) => {
      const restaurantId = request.params.id;
      await existingRestaurant(restaurantId);
      const limit = request.query.limit ?? 50;
      const after = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor);
      const current = now();
      const [inForce, page] = await Promise.all([
        commission.changeInForce(restaurantId, current),
        commission.history(restaurantId, limit + 1, after),
      ]);
      const items = page.slice(0, limit);
      return {
        restaurantId,
        overrideRate: inForce?.rate ?? null,
        items: items.map((change) => changeJson(change, inForce?.changeId, current)),
        nextCursor: page.length > limit ? encodeCursor(items[items.length - 1]!) : null,
      };
    },
  });

  typed.delete('/v1/admin/restaurants/:id/commission/changes/:changeId', {
    config: { access: FINANCE_ADMIN },
    schema: {
      tags,
      summary: 'Cancel a scheduled commission change before it takes effect (audited)',
      params: Type.Object({
        id: Type.String({ format: 'uuid' }),
        changeId: Type.String({ format: 'uuid' }),
      }),
      response: { 204: Type.Null(), ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const { id: restaurantId, changeId } = request.params;
      await db.transaction().execute(async (trx) => {
        const change = await commission.find(changeId, trx);
        if (change === undefined || change.restaurantId !== restaurantId)
          throw new HttpProblem(404, 'not_found', 'There is no such commission change.');
        if (change.cancelledAt !== null) return; // cancelled already: a retry changes nothing
        const current = now();
        if (!(await commission.cancel(changeId, principal.userId, current, trx)))
          throw new HttpProblem(
            409,
            'commission_change_in_force',
            'This change has taken effect; set a new rate instead.',
          );
        await services.identity.audit(
          {
            action: 'commission.change_cancelled',
            actor: { kind: 'user', userId: principal.userId },
            resource: `restaurant:${restaurantId}`,
            oldValue: { changeId, rate: change.rate, effectiveFrom: change.effectiveFrom.toISOString() },
          },
          trx,
        );
      });
      return reply.code(204).send(null);
    },
  });
}
