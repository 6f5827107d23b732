/**
 * The SQL of drivers' earnings: credits to a driver's payable from the ledger's read model
 * (`ledger_entries`, the statement the ledger projects; never a table of ours), the deliveries the
 * ledger booked a driver fee for, the trails that give their distance, and the incentive rules.
 */
import { sql } from 'kysely';
import { driverPayableId } from '../../../ledger/rules/index.js';
import type { EarningEntry, IncentiveKind } from './earnings-rules.js';
import type { DispatchDb } from './tables.js';

/** The most statement lines one earnings read or one settlement takes. */
export const EARNINGS_MAX_ENTRIES = 20_000;
export const EARNING_CODES = ['driver_fee', 'tip', 'driver_incentive'] as const;
const NS_PER_MS = 1_000_000n;

export interface IncentiveRuleRow {
  id: string;
  kind: IncentiveKind;
  name: string;
  amount_minor: bigint;
  params: Record<string, unknown>;
  active: boolean;
  created_by: string;
  created_at: Date;
}

/**
 * The statement `bookedDeliveries` runs, apart so that a test can read its plan: one range of the
 * ledger projection's `ledger_entries_credit_code_time_idx` (credits by code and time), in order.
 */
export function bookedDeliveriesQuery(from: Date, to: Date) {
  return sql<{ account_id: string; timestamp_ns: bigint; order_id: string | null }>`
    SELECT account_id, timestamp_ns, user_data->>'orderId' AS order_id FROM ledger_entries
    WHERE code = 'driver_fee' AND side = 'credit' AND phase IN ('posted', 'post_pending')
      AND account_id LIKE 'payable:driver:%'
      AND timestamp_ns >= ${BigInt(from.getTime()) * NS_PER_MS} AND timestamp_ns < ${BigInt(to.getTime()) * NS_PER_MS}
    ORDER BY timestamp_ns LIMIT ${EARNINGS_MAX_ENTRIES}`;
}

export function createEarningsRepository(db: DispatchDb) {
  return {
    /**
     * The driver's earning credits booked in [from, to), oldest first, and the reversals of a
     * driver fee after a dispute (debits, as `driver_fee_reversal` with a negative amount).
     */
    async credits(driverId: string, from: Date, to: Date): Promise<EarningEntry[]> {
      const rows = await sql<{
        transfer_id: string;
        code: string;
        amount_minor: bigint;
        timestamp_ns: bigint;
        user_data: Record<string, string> | null;
      }>`
        SELECT transfer_id,
          CASE WHEN side = 'debit' THEN 'driver_fee_reversal' ELSE code END AS code,
          CASE WHEN side = 'debit' THEN -amount_minor ELSE amount_minor END AS amount_minor,
          timestamp_ns, user_data FROM ledger_entries
        WHERE account_id = ${driverPayableId(driverId, 'XAF')} AND phase IN ('posted', 'post_pending')
          AND ((side = 'credit' AND code = ANY(${[...EARNING_CODES]}::text[]))
            OR (side = 'debit' AND code = 'reversal' AND user_data->>'reversal' = 'driver_fee'))
          AND timestamp_ns >= ${BigInt(from.getTime()) * NS_PER_MS} AND timestamp_ns < ${BigInt(to.getTime()) * NS_PER_MS}
        ORDER BY entry_no LIMIT ${EARNINGS_MAX_ENTRIES}`.execute(db);
      return rows.rows.map((row) => ({
        transferId: row.transfer_id,
        code: row.code,
        amountMinor: BigInt(row.amount_minor),
        atMs: Number(BigInt(row.timestamp_ns) / NS_PER_MS),
        orderId: row.user_data?.orderId ?? null,
        incentive: row.user_data?.incentive ?? null,
        reason: row.user_data?.reason ?? null,
      }));
    },

    /** The driver fee the ledger booked for an order (one credit to a driver's payable), if any. */
    async driverFeeOf(orderId: string): Promise<{ driverId: string; amountMinor: bigint } | undefined> {
      const rows = await sql<{ account_id: string; amount_minor: bigint }>`
        SELECT account_id, amount_minor FROM ledger_entries
        WHERE code = 'driver_fee' AND side = 'credit' AND phase IN ('posted', 'post_pending')
          AND account_id LIKE 'payable:driver:%' AND user_data->>'orderId' = ${orderId}
        ORDER BY entry_no LIMIT 2`.execute(db);
      if (rows.rows.length > 1) throw new Error(`order ${orderId} has two driver fees on the statement`);
      const row = rows.rows[0];
      if (row === undefined) return undefined;
      return { driverId: row.account_id.split(':')[2]!, amountMinor: BigInt(row.amount_minor) };
    },

    /** Every driver fee the ledger booked in [from, to): one delivery each (driver, order, when). */
    async bookedDeliveries(
      from: Date,
      to: Date,
    ): Promise<{ orderId: string; driverId: string; bookedAtMs: number }[]> {
      const rows = await bookedDeliveriesQuery(from, to).execute(db);
      return rows.rows
        .filter((row) => row.order_id !== null)
        .map((row) => ({
          orderId: row.order_id!,
          driverId: row.account_id.split(':')[2]!,
          bookedAtMs: Number(BigInt(row.timestamp_ns) / NS_PER_MS),
        }));
    },

    /** The trail points of these orders, in order (at most DISPATCH_TRAIL_MAX_POINTS each). */
    async trails(orderIds: readonly string[]) {
      if (orderIds.length === 0) return [];
      return db
        .selectFrom('order_driver_trails')
        .select(['order_id', 'seq', 'latitude', 'longitude'])
        .where('order_id', 'in', orderIds)
        .orderBy('order_id')
        .orderBy('seq')
        .execute();
    },

    async insertRule(rule: {
      id: string;
      kind: IncentiveKind;
      name: string;
      amountMinor: bigint;
      params: Record<string, unknown>;
      createdBy: string;
    }): Promise<void> {
      await db
        .insertInto('driver_incentive_rules')
        .values({
          id: rule.id,
          kind: rule.kind,
          name: rule.name,
          amount_minor: rule.amountMinor,
          params: JSON.stringify(rule.params),
          created_by: rule.createdBy,
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
    },

    async rule(id: string): Promise<IncentiveRuleRow | undefined> {
      return db
        .selectFrom('driver_incentive_rules')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst() as Promise<IncentiveRuleRow | undefined>;
    },

    async rules(activeOnly: boolean, limit: number): Promise<IncentiveRuleRow[]> {
      let query = db.selectFrom('driver_incentive_rules').selectAll();
      if (activeOnly) query = query.where('active', '=', true);
      return query.orderBy('created_at').orderBy('id').limit(limit).execute() as Promise<IncentiveRuleRow[]>;
    },

    async deactivate(id: string): Promise<boolean> {
      const result = await db
        .updateTable('driver_incentive_rules')
        .set({ active: false })
        .where('id', '=', id)
        .where('active', '=', true)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

export type EarningsRepository = ReturnType<typeof createEarningsRepository>;
