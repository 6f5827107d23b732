import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createProjectionRunner } from '../../projections/index.js';
import { verifyLedger } from '../../ledger/audit/verify.js';
import {
  ledgerProjection,
  LEDGER_PROJECTION,
  LEDGER_PROJECTION_TABLES,
} from '../../ledger/projections/index.js';
import type { Transfer } from '../../ledger/rules/index.js';
import { createLedgerHarness, type LedgerHarness } from '../ledger/harness.js';
import { CLEARING, moveArbitrary, moveTransfer, WALLETS, type MoveSpec } from './ledger-support.js';

/**
 * Property 3: the read models equal a replay from genesis (verify compares every balance,
 * statement, hold and the trial balance) and a rebuild produces identical tables.
 * Property 9: changing one byte of any stored ledger event makes verify fail, and the first
 * mismatch it lists names that event.
 */
const STREAM = 'ledger-main';

type Step =
  | { kind: 'moves'; specs: MoveSpec[] }
  | { kind: 'resolve'; pick: number; post: boolean }
  | { kind: 'expire'; advanceMs: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .array(moveArbitrary, { minLength: 1, maxLength: 6 })
      .map((specs) => ({ kind: 'moves' as const, specs })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ pick: fc.nat(), post: fc.boolean() })
      .map((value) => ({ kind: 'resolve' as const, ...value })),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0, max: 40_000 })
      .map((advanceMs) => ({ kind: 'expire' as const, advanceMs })),
  },
);

/** Writes a random history through the real writer (holds posted, voided and expired). */
async function writeHistory(harness: LedgerHarness, steps: Step[]): Promise<void> {
  const clock = { nowMs: 1_800_000_000_000 };
  const writer = harness.writer({ stream: STREAM, snapshotEveryEvents: 3, clock: () => clock.nowMs });
  let next = 0;
  const holds: Array<{ id: string; currency: Transfer['currency'] }> = [];
  await writer.submit(
    WALLETS.map((wallet, index): Transfer => ({
      id: `fund-${index}`,
      debitAccountId: CLEARING,
      creditAccountId: wallet,
      amountMinor: 8_000n,
      currency: 'XAF',
      code: 'topup',
      flags: {},
    })),
  );
  for (const step of steps) {
    clock.nowMs += 1;
    if (step.kind === 'moves') {
      const transfers = step.specs.map((spec) => moveTransfer(`m-${(next += 1)}`, spec));
      const outcomes = await writer.submit(transfers);
      outcomes.forEach((outcome, index) => {
        const transfer = transfers[index]!;
        if (outcome.result === 'ok' && transfer.flags.pending === true)
          holds.push({ id: transfer.id, currency: transfer.currency });
      });
    } else if (step.kind === 'resolve' && holds.length > 0) {
      const hold = holds[step.pick % holds.length]!;
      await writer.submit([
        {
          id: `r-${(next += 1)}`,
          debitAccountId: '',
          creditAccountId: '',
          amountMinor: 0n,
          currency: hold.currency,
          code: 'payment_capture',
          flags: step.post ? { postPending: true } : { voidPending: true },
          pendingId: hold.id,
        },
      ]);
    } else if (step.kind === 'expire') {
      clock.nowMs += step.advanceMs;
      await writer.expireHolds();
    }
  }
  await writer.close();
}

async function readModels(harness: LedgerHarness): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  for (const table of LEDGER_PROJECTION_TABLES) {
    const rows = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)}`.execute(
      harness.database.db,
    );
    tables[table] = rows.rows
      .map((row) => JSON.stringify(row, (_, value) => (typeof value === 'bigint' ? value.toString() : value)))
      .sort();
  }
  return tables;
}

describe('ledger audit: read models, rebuild and tamper detection (real writer, PostgreSQL)', () => {
  it('read models equal a replay from genesis, a rebuild is identical, and any one changed byte is named', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArbitrary, { minLength: 3, maxLength: 14 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 32, max: 126 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (steps, tampers) => {
          const harness = await createLedgerHarness();
          const runner = createProjectionRunner({
            db: harness.database.db,
            store: harness.store,
            projections: [ledgerProjection],
          });
          try {
            await writeHistory(harness, steps);
            await runner.start();
            await runner.waitUntilCaughtUp(LEDGER_PROJECTION, 20_000);
            const report = await verifyLedger({
              store: harness.store,
              db: harness.database.db,
              stream: STREAM,
            });
            expect(report.mismatches).toEqual([]);
            expect(report.projection).toMatchObject({ compared: true, lagEvents: 0 });
            const before = await readModels(harness);
            await runner.rebuild(LEDGER_PROJECTION);
            expect(await readModels(harness)).toEqual(before);
            await runner.stop();
            for (const [eventPick, offsetPick, byte] of tampers)
              await tamperAndVerify(harness, eventPick, offsetPick, byte);
          } finally {
            await runner.stop();
            await harness.close();
          }
        },
      ),
      { numRuns: 5, endOnFailure: true },
    );
  }, 120_000);
});

describe('ledger audit while the ledger is written', () => {
  it('verify reports no mismatch while transfers land and the read models apply them meanwhile', async () => {
    const harness = await createLedgerHarness();
    const runner = createProjectionRunner({
      db: harness.database.db,
      store: harness.store,
      projections: [ledgerProjection],
    });
    const writer = harness.writer({ stream: STREAM, snapshotEveryEvents: 50 });
    try {
      await writer.submit(
        WALLETS.map((wallet, index): Transfer => ({
          id: `fund-${index}`,
          debitAccountId: CLEARING,
          creditAccountId: wallet,
          amountMinor: 1_000_000n,
          currency: 'XAF',
          code: 'topup',
          flags: {},
        })),
      );
      await runner.start();
      let writing = true;
      let written = 0;
      const load = (async () => {
        while (writing) {
          const batch = Array.from({ length: 5 }, (_, index): Transfer => ({
            id: `live-${written}-${index}`,
            debitAccountId: WALLETS[index % WALLETS.length]!,
            creditAccountId: WALLETS[(index + 1) % WALLETS.length]!,
            amountMinor: 1n,
            currency: 'XAF',
            code: 'adjustment',
            flags: {},
          }));
          await writer.submit(batch);
          written += 1;
        }
      })();
      const reports = [];
      // Eight rounds at least, and on until the writer has landed more than eight batches meanwhile
      // (on a loaded machine eight quick rounds once saw a single batch land).
      for (let round = 0; (round < 8 || written <= 8) && round < 500; round++)
        reports.push(await verifyLedger({ store: harness.store, db: harness.database.db, stream: STREAM }));
      writing = false;
      await load;
      expect(written).toBeGreaterThan(8); // the ledger was written while verify read it
      for (const report of reports) expect(report.mismatches).toEqual([]);
    } finally {
      await writer.close();
      await runner.stop();
      await harness.close();
    }
  }, 120_000);
});

/** Changes one byte of one stored event, checks that verify names it first, then puts it back. */
async function tamperAndVerify(
  harness: LedgerHarness,
  eventPick: number,
  offsetPick: number,
  byte: number,
): Promise<void> {
  const db = harness.database.db;
  const rows = await sql<{
    event_id: string;
    revision: bigint;
    batch: string;
  }>`SELECT event_id::text, revision, data->>'batch' AS batch
    FROM eventstore_events WHERE stream_id = ${STREAM} ORDER BY revision`.execute(db);
  const target = rows.rows[eventPick % rows.rows.length]!;
  const offset = offsetPick % target.batch.length;
  let replacement = String.fromCharCode(byte);
  if (replacement === target.batch[offset]) replacement = String.fromCharCode(byte === 126 ? 32 : byte + 1);
  const tampered = target.batch.slice(0, offset) + replacement + target.batch.slice(offset + 1);
  await sql`UPDATE eventstore_events SET data = jsonb_build_object('batch', ${tampered}::text) WHERE event_id = ${target.event_id}::uuid`.execute(
    db,
  );
  const report = await verifyLedger({ store: harness.store, db, stream: STREAM, projections: false });
  expect(report.ok).toBe(false);
  expect(report.mismatches[0]?.event).toEqual({ revision: target.revision, id: target.event_id });
  await sql`UPDATE eventstore_events SET data = jsonb_build_object('batch', ${target.batch}::text) WHERE event_id = ${target.event_id}::uuid`.execute(
    db,
  );
  expect((await verifyLedger({ store: harness.store, db, stream: STREAM, projections: false })).ok).toBe(
    true,
  );
}
