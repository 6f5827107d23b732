import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerPointsId } from '../../ledger/rules/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../integration/payments/helpers.js';

/**
 * A model-based test (fast-check `commands`) of tiers and expiry against the real ledger, its
 * read model and the award decisions: random sequences of orders earning at an instant inside the
 * year of the earlier awards or more than a year later, replayed orders, and expiry runs at random
 * days. The model is a running sum: silver from 100 points earned in the last 365 days, gold from
 * 300, multipliers 1, 1.25, 1.5, rounded down; expiry takes the whole balance once per period
 * after EXPIRY_DAYS and never lowers the tier (tiers count what was earned, not what is left).
 */
let testApp: TestApp;
const EXPIRY_DAYS = 30;
const DAY_MS = 86_400_000;

beforeAll(async () => {
  testApp = await createTestApp({
    env: {
      LOYALTY_POINTS_EXPIRY_DAYS: String(EXPIRY_DAYS),
      LOYALTY_SILVER_POINTS: '100',
      LOYALTY_GOLD_POINTS: '300',
    },
  });
});
afterAll(async () => testApp?.close());

interface Model {
  /** Points of every award so far (all booked now: within the year of any instant < 365 days ahead). */
  earned: bigint;
  balance: bigint;
  lastOrder: string | undefined;
  expiredPeriods: Set<number>;
}
interface Real {
  userId: string;
  start: number;
}

/** The model's rule, written plainly (not the system's `tierOf`). */
function tierOfModel(earned: bigint): { tier: string; hundredths: bigint } {
  if (earned >= 300n) return { tier: 'gold', hundredths: 150n };
  if (earned >= 100n) return { tier: 'silver', hundredths: 125n };
  return { tier: 'bronze', hundredths: 100n };
}

/** The read model holds what the writer holds for the account (tiers and expiry read it). */
async function caughtUp(accountId: string): Promise<void> {
  const writer = await testApp.services.ledger.account(accountId);
  if (writer === null) return;
  await until(
    async () =>
      (
        await sql<{ credits: string; debits: string }>`SELECT credits_posted::text AS credits,
          debits_posted::text AS debits FROM ledger_accounts WHERE id = ${accountId}`.execute(
          testApp.services.db,
        )
      ).rows[0],
    (row) =>
      row !== undefined &&
      row.credits === writer.creditsPosted.toString() &&
      row.debits === writer.debitsPosted.toString(),
  );
}

async function expectModel(model: Model, real: Real): Promise<void> {
  const accountId = customerPointsId(real.userId);
  await caughtUp(accountId);
  const summary = await testApp.services.loyalty.summary(real.userId);
  expect(summary.balance).toBe(model.balance);
  expect(summary.balance >= 0n).toBe(true);
  expect(summary.earnedLast12Months).toBe(model.earned);
  expect(summary.tier).toBe(tierOfModel(model.earned).tier);
}

class Earn implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly baseMinor: bigint,
    readonly dayOffset: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const orderId = randomUUID();
    // Within the year of the earlier awards, the tier is the model's; past it, bronze again.
    const inYear = this.dayOffset < 365;
    const { tier, hundredths } = inYear ? tierOfModel(model.earned) : tierOfModel(0n);
    const outcome = await testApp.services.loyalty.grant({
      orderId,
      userId: real.userId,
      baseMinor: this.baseMinor,
      sourceEvent: 'OrderCompleted',
      at: new Date(real.start + this.dayOffset * DAY_MS),
    });
    const points = ((this.baseMinor / 100n) * hundredths) / 100n;
    expect(outcome).toBe(points === 0n ? 'nothing' : 'booked');
    const decided = await testApp.services.db
      .selectFrom('loyalty_awards')
      .select(['tier', 'points'])
      .where('order_id', '=', orderId)
      .executeTakeFirstOrThrow();
    expect(decided).toEqual({ tier, points });
    model.earned += points;
    model.balance += points;
    model.lastOrder = orderId;
    await expectModel(model, real);
  }
  toString = () => `earn(${this.baseMinor}, day ${this.dayOffset})`;
}

class Replay implements fc.AsyncCommand<Model, Real> {
  constructor(readonly baseMinor: bigint) {}
  check = (model: Readonly<Model>) => model.lastOrder !== undefined;
  async run(model: Model, real: Real): Promise<void> {
    // The event again, whatever its figures now: the recorded decision stands, nothing new.
    const outcome = await testApp.services.loyalty.grant({
      orderId: model.lastOrder!,
      userId: real.userId,
      baseMinor: this.baseMinor,
      sourceEvent: 'OrderCompleted',
      at: new Date(),
    });
    expect(['exists', 'nothing']).toContain(outcome);
    await expectModel(model, real);
  }
  toString = () => `replay(${this.baseMinor})`;
}

class Expire implements fc.AsyncCommand<Model, Real> {
  constructor(readonly dayOffset: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    await testApp.services.loyalty.expirePoints(new Date(real.start + this.dayOffset * DAY_MS));
    // Every lot of this run is due after EXPIRY_DAYS (+ the day boundary); a period runs once.
    if (this.dayOffset > EXPIRY_DAYS && !model.expiredPeriods.has(this.dayOffset)) model.balance = 0n;
    model.expiredPeriods.add(this.dayOffset);
    await expectModel(model, real);
  }
  toString = () => `expire(day ${this.dayOffset})`;
}

const commands = [
  fc
    .tuple(
      fc.bigInt({ min: 0n, max: 30_000n }),
      fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) },
        fc.integer({ min: 366, max: 500 }),
      ),
    )
    .map(([base, day]) => new Earn(base, day)),
  fc.bigInt({ min: 0n, max: 30_000n }).map((base) => new Replay(base)),
  fc
    .oneof(fc.integer({ min: 0, max: EXPIRY_DAYS - 1 }), fc.integer({ min: EXPIRY_DAYS + 2, max: 90 }))
    .map((day) => new Expire(day)),
];

describe('loyalty tiers and expiry (model-based, real ledger)', () => {
  it('the tier, the multiplier, the balance and what was earned follow the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 8 }), async (sequence) => {
        const model: Model = { earned: 0n, balance: 0n, lastOrder: undefined, expiredPeriods: new Set() };
        const real: Real = { userId: randomUUID(), start: Date.now() };
        await fc.asyncModelRun(() => ({ model, real }), sequence);
      }),
      { numRuns: 10 },
    );
    const report = await testApp.services.ledger.verify();
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
  }, 300_000);
});
