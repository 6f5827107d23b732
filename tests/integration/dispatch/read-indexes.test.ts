/**
 * Issue #20's two reads that lacked an index, on PostgreSQL: a driver's deliveries of a period
 * (`deliveredBy`, orders' repository, read by dispatch's performance figures) and every driver fee
 * of a period (`bookedDeliveries`, the earnings settlement). Each projection's setup creates its
 * index in a new generation; a migration adds it to a generation built before (no rebuild). The
 * tests fill a few thousand rows, then read the plan PostgreSQL chooses for the exact statement the
 * repository runs (its parameters bound as the repository binds them): without the index, a
 * sequential scan; after the migration, an index scan on it. The planner runs with its defaults
 * (sequential scans allowed): at this size it prefers the index on its own. It chooses a bitmap
 * index scan of it (then sorts the period's few dozen rows); a plain index scan would pass too.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectionRunner } from '../../../projections/index.js';
import { LEDGER_PROJECTION, ledgerProjection } from '../../../ledger/projections/index.js';
import { createPersonalDataVault } from '../../../src/eventstore/personal-data.js';
import { createPostgresAdapter } from '../../../src/eventstore/postgres/adapter.js';
import { createEventStore } from '../../../src/eventstore/store.js';
import type { EventStore } from '../../../src/eventstore/index.js';
import { up as addDriverIndex } from '../../../src/db/migrations/2026-12-07T0640_orders_view_driver_index.js';
import { up as addCodeIndex } from '../../../src/db/migrations/2026-12-07T0641_ledger_entries_code_index.js';
import { ORDERS_PROJECTION, ordersProjection } from '../../../src/modules/orders/projection.js';
import { createOrdersRepository, deliveredByQuery } from '../../../src/modules/orders/repository.js';
import {
  bookedDeliveriesQuery,
  createEarningsRepository,
} from '../../../src/modules/dispatch/earnings-repository.js';
import type { OrdersDb } from '../../../src/modules/orders/tables.js';
import type { DispatchDb } from '../../../src/modules/dispatch/tables.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

const DRIVER_INDEX = 'orders_view_driver_delivered_idx';
const CODE_INDEX = 'ledger_entries_credit_code_time_idx';
const DAY_MS = 86_400_000;
const NS_PER_MS = 1_000_000n;
/** 60 days of history ending here. */
const END = Date.parse('2026-12-01T00:00:00.000Z');
const START = END - 60 * DAY_MS;

let database: TestDatabase;
let store: EventStore;

/** A deterministic sequence, so a failure can be run again as it was. */
function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const uuid = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

async function activeSchema(name: string): Promise<string> {
  const row = await sql<{ schema_name: string }>`SELECT schema_name FROM projection_generations
    WHERE name = ${name} AND status = 'active'`.execute(database.db);
  return row.rows[0]!.schema_name;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

function planOf(rows: readonly Record<string, unknown>[]): PlanNode[] {
  const document = rows[0]!['QUERY PLAN'] as { Plan: PlanNode }[];
  return nodes(document[0]!.Plan);
}

const INDEX_SCANS = ['Index Scan', 'Index Only Scan', 'Bitmap Index Scan'];
const scansWith = (plan: PlanNode[], index: string) =>
  plan.filter((node) => node['Index Name'] === index && INDEX_SCANS.includes(node['Node Type']));
const seqScansOf = (plan: PlanNode[], relation: string) =>
  plan.filter((node) => node['Node Type'] === 'Seq Scan' && node['Relation Name'] === relation);

beforeAll(async () => {
  database = await createTestDatabase();
  const adapter = createPostgresAdapter({ pool: database.pool, connectionString: database.url });
  store = createEventStore({
    adapter,
    vault: createPersonalDataVault({ db: database.db, masterKey: randomBytes(32) }),
  });
  // The runner creates each projection's first generation (its setup) and the views in public.
  const runner = createProjectionRunner({
    db: database.db,
    store,
    projections: [ordersProjection, ledgerProjection],
  });
  await runner.start();
  await runner.waitUntilCaughtUp(ORDERS_PROJECTION, 20_000);
  await runner.waitUntilCaughtUp(LEDGER_PROJECTION, 20_000);
  await runner.stop();
}, 120_000);

afterAll(async () => {
  await store?.close();
  await database?.drop();
});

describe("orders_view by driver (deliveredBy, dispatch's performance figures)", () => {
  const DRIVERS = Array.from({ length: 40 }, (_, index) => uuid('d0000000', index + 1));
  const ORDERS = 6_000;
  const delivered: { orderId: string; driverId: string; deliveredAt: number }[] = [];

  beforeAll(async () => {
    const schema = await activeSchema(ORDERS_PROJECTION);
    const random = sequence(20);
    const rows = Array.from({ length: ORDERS }, (_, index) => {
      const createdAt = START + Math.floor(random() * 60 * DAY_MS);
      // One order in six has no driver yet; one in ten of those with a driver is still on the road.
      const driverId = random() < 1 / 6 ? null : DRIVERS[Math.floor(random() * DRIVERS.length)]!;
      const deliveredAt = driverId !== null && random() >= 0.1 ? createdAt + 40 * 60_000 : null;
      const orderId = uuid('a0000000', index + 1);
      if (driverId !== null && deliveredAt !== null) delivered.push({ orderId, driverId, deliveredAt });
      return {
        order_id: orderId,
        customer_id: `c${index % 500}`,
        customer_kind: 'user',
        restaurant_id: uuid('b0000000', (index % 30) + 1),
        restaurant_owner_id: `owner${index % 30}`,
        restaurant_name: 'Chez Mama',
        driver_id: driverId,
        status: deliveredAt !== null ? 'DELIVERED' : driverId !== null ? 'PICKED_UP' : 'PLACED',
        total_minor: 5_000n,
        subtotal_minor: 4_500n,
        discount_minor: 0n,
        item_count: 2,
        lines: '[]',
        created_at: new Date(createdAt),
        placed_at: new Date(createdAt + 60_000),
        delivered_at: deliveredAt === null ? null : new Date(deliveredAt),
        updated_at: new Date(deliveredAt ?? createdAt),
        last_revision: 5n,
      };
    });
    // The projection inserts orders as they are created: the table is in that order.
    rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
    for (let start = 0; start < rows.length; start += 1_000)
      await database.db
        .withSchema(schema)
        .insertInto('orders_view')
        .values(rows.slice(start, start + 1_000))
        .execute();
    await sql`ANALYZE ${sql.id(schema, 'orders_view')}`.execute(database.db);
  }, 60_000);

  it('returns the driver’s deliveries of the period, newest first, up to the limit', async () => {
    const repository = createOrdersRepository(database.db as unknown as OrdersDb);
    const driverId = DRIVERS[7]!;
    const from = END - 14 * DAY_MS;
    const to = END - 7 * DAY_MS;
    const expected = delivered
      .filter((row) => row.driverId === driverId && row.deliveredAt >= from && row.deliveredAt < to)
      .sort((a, b) => b.deliveredAt - a.deliveredAt)
      .map((row) => row.orderId);
    expect(expected.length).toBeGreaterThan(3);
    const all = await repository.deliveredBy(driverId, new Date(from), new Date(to), 100);
    expect(all).toEqual(expected);
    expect(await repository.deliveredBy(driverId, new Date(from), new Date(to), 3)).toEqual(
      expected.slice(0, 3),
    );
  });

  it('is a sequential scan without the index, and an index scan on it once the migration added it', async () => {
    const db = database.db as unknown as OrdersDb;
    const schema = await activeSchema(ORDERS_PROJECTION);
    const query = () =>
      deliveredByQuery(db, DRIVERS[7]!, new Date(END - 7 * DAY_MS), new Date(END), 100).explain('json');
    // The setup made it in this generation; drop it to stand for a generation built before.
    expect(scansWith(planOf(await query()), DRIVER_INDEX)).toHaveLength(1);
    await sql`DROP INDEX ${sql.id(schema, DRIVER_INDEX)}`.execute(database.db);
    const before = planOf(await query());
    expect(before.some((node) => node['Index Name'] === DRIVER_INDEX)).toBe(false);
    expect(seqScansOf(before, 'orders_view')).toHaveLength(1);

    await addDriverIndex(database.db);
    await addDriverIndex(database.db); // again: harmless
    const after = planOf(await query());
    expect(scansWith(after, DRIVER_INDEX)).toHaveLength(1);
    expect(seqScansOf(after, 'orders_view')).toHaveLength(0);
  });
});

describe('ledger_entries by code (bookedDeliveries, the earnings settlement)', () => {
  const TRANSFERS = 4_000;
  /** What one transfer books, by its place in a cycle of five (one driver fee in five). */
  const KINDS = [
    {
      code: 'payment_capture',
      debit: () => 'clearing:provider:mtn:XAF',
      credit: (n: number) => `escrow:order:${n}:XAF`,
    },
    {
      code: 'driver_fee',
      debit: (n: number) => `escrow:order:${n}:XAF`,
      credit: (n: number) => `payable:driver:${uuid('d0000000', (n % 40) + 1)}:XAF`,
    },
    {
      code: 'commission',
      debit: (n: number) => `escrow:order:${n}:XAF`,
      credit: () => 'revenue:commission:platform:XAF',
    },
    {
      code: 'restaurant_share',
      debit: (n: number) => `escrow:order:${n}:XAF`,
      credit: (n: number) => `payable:restaurant:r${n % 30}:XAF`,
    },
    {
      code: 'tip',
      debit: () => 'clearing:provider:mtn:XAF',
      credit: (n: number) => `payable:driver:${uuid('d0000000', (n % 40) + 1)}:XAF`,
    },
  ];
  const fees: { orderId: string; driverId: string; atMs: number }[] = [];

  beforeAll(async () => {
    const schema = await activeSchema(LEDGER_PROJECTION);
    const random = sequence(75);
    const entryNumbers = new Map<string, number>();
    const entryNo = (account: string) => {
      const next = (entryNumbers.get(account) ?? 0) + 1;
      entryNumbers.set(account, next);
      return next;
    };
    // The projection appends entries as transfers are booked: the table is in time order.
    const times = Array.from({ length: TRANSFERS }, () => START + Math.floor(random() * 60 * DAY_MS)).sort(
      (a, b) => a - b,
    );
    const rows = Array.from({ length: TRANSFERS }, (_, index) => {
      const kind = KINDS[index % KINDS.length]!;
      const order = Math.floor(index / KINDS.length);
      const atMs = times[index]!;
      const debit = kind.debit(order);
      const credit = kind.credit(order);
      const orderId = uuid('a0000000', order + 1);
      // One driver fee in ten is still pending (not settled: the query leaves it out).
      const phase = kind.code === 'driver_fee' && random() < 0.1 ? 'pending' : 'posted';
      if (kind.code === 'driver_fee' && phase === 'posted')
        fees.push({ orderId, driverId: credit.split(':')[2]!, atMs });
      const entry = (account: string, counterparty: string, side: 'debit' | 'credit') => ({
        account_id: account,
        entry_no: entryNo(account),
        transfer_id: `t${index}`,
        stream: `ledger-${index % 8}`,
        event_revision: index,
        timestamp_ns: (BigInt(atMs) * NS_PER_MS).toString(),
        code: kind.code,
        side,
        phase,
        amount_minor: 500,
        released_minor: 0,
        counterparty_account_id: counterparty,
        debits_pending: 0,
        debits_posted: 0,
        credits_pending: 0,
        credits_posted: 0,
        user_data: JSON.stringify({ orderId }),
      });
      return [entry(debit, credit, 'debit'), entry(credit, debit, 'credit')];
    }).flat();
    const table = sql.id(schema, 'ledger_entries');
    const columns = Object.keys(rows[0]!);
    for (let start = 0; start < rows.length; start += 1_000) {
      const values = rows.slice(start, start + 1_000).map((row) => sql`(${sql.join(Object.values(row))})`);
      await sql`INSERT INTO ${table} (${sql.join(columns.map((column) => sql.id(column)))})
        VALUES ${sql.join(values)}`.execute(database.db);
    }
    await sql`ANALYZE ${table}`.execute(database.db);
  }, 60_000);

  it('returns every settled driver fee of the period once, oldest first', async () => {
    const repository = createEarningsRepository(database.db as unknown as DispatchDb);
    const from = END - 3 * DAY_MS;
    const to = END - 2 * DAY_MS;
    const expected = fees.filter((fee) => fee.atMs >= from && fee.atMs < to).sort((a, b) => a.atMs - b.atMs);
    expect(expected.length).toBeGreaterThan(3);
    const booked = await repository.bookedDeliveries(new Date(from), new Date(to));
    expect(booked.map((row) => row.bookedAtMs)).toEqual(expected.map((fee) => fee.atMs));
    expect(new Set(booked.map((row) => `${row.orderId} ${row.driverId}`))).toEqual(
      new Set(expected.map((fee) => `${fee.orderId} ${fee.driverId}`)),
    );
  });

  it('is a sequential scan without the index, and an index scan on it once the migration added it', async () => {
    const schema = await activeSchema(LEDGER_PROJECTION);
    const explain = async () =>
      planOf(
        (
          await sql<Record<string, unknown>>`EXPLAIN (FORMAT JSON) ${bookedDeliveriesQuery(
            new Date(END - 2 * DAY_MS),
            new Date(END - DAY_MS),
          )}`.execute(database.db)
        ).rows,
      );
    expect(scansWith(await explain(), CODE_INDEX)).toHaveLength(1);
    await sql`DROP INDEX ${sql.id(schema, CODE_INDEX)}`.execute(database.db);
    const before = await explain();
    expect(before.some((node) => node['Index Name'] === CODE_INDEX)).toBe(false);
    expect(seqScansOf(before, 'ledger_entries')).toHaveLength(1);

    await addCodeIndex(database.db);
    await addCodeIndex(database.db); // again: harmless
    const after = await explain();
    expect(scansWith(after, CODE_INDEX)).toHaveLength(1);
    expect(seqScansOf(after, 'ledger_entries')).toHaveLength(0);
  });
});
