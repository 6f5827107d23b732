import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerPointsId, pointsIssuanceId, type Transfer } from '../../ledger/rules/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../integration/payments/helpers.js';

/**
 * Points against the real ledger (writer, read model, verify): random sequences of earning (some
 * replayed), spending (redemptions booked straight on the ledger, as a redemption would post) and
 * expiry at random days. After every step the customer's points account is never negative, equals
 * the model, and its credits and debits are exactly what was earned, spent and expired; the
 * statement sums to the balance; the whole ledger verifies at the end.
 */
let testApp: TestApp;
const EXPIRY_DAYS = 30;
const DAY_MS = 86_400_000;

beforeAll(async () => {
  testApp = await createTestApp({ env: { LOYALTY_POINTS_EXPIRY_DAYS: String(EXPIRY_DAYS) } });
});
afterAll(async () => testApp?.close());

type Op =
  | { kind: 'earn'; baseMinor: bigint; replay: boolean }
  | { kind: 'spend'; amount: bigint }
  | { kind: 'expire'; dayOffset: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('earn' as const),
    baseMinor: fc.bigInt({ min: 0n, max: 40_000n }),
    replay: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('spend' as const), amount: fc.bigInt({ min: 1n, max: 400n }) }),
  // Days before the expiry (nothing is due) or well after it (every lot of this run is due).
  fc.record({
    kind: fc.constant('expire' as const),
    dayOffset: fc.oneof(
      fc.integer({ min: 0, max: EXPIRY_DAYS - 1 }),
      fc.integer({ min: EXPIRY_DAYS + 2, max: 90 }),
    ),
  }),
);

async function caughtUp(accountId: string): Promise<void> {
  const writer = await testApp.services.ledger.account(accountId);
  if (writer === null) return;
  await until(
    async () =>
      (
        await sql<{ credits: string; debits: string }>`SELECT credits_posted::text AS credits,
          (debits_posted + debits_pending)::text AS debits FROM ledger_accounts WHERE id = ${accountId}`.execute(
          testApp.services.db,
        )
      ).rows[0],
    (row) =>
      row !== undefined &&
      row.credits === writer.creditsPosted.toString() &&
      row.debits === (writer.debitsPosted + writer.debitsPending).toString(),
  );
}

const spendTransfer = (userId: string, amount: bigint): Transfer => ({
  id: `test-spend:${randomUUID()}`,
  debitAccountId: customerPointsId(userId),
  creditAccountId: pointsIssuanceId(),
  amountMinor: amount,
  currency: 'PTS',
  code: 'points_redeem',
  flags: {},
});

describe('loyalty points against the real ledger', () => {
  it('random earn / replay / spend / expire: never negative, always the model, the statement agrees', async () => {
    const { loyalty, ledger } = testApp.services;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
        const userId = randomUUID();
        const accountId = customerPointsId(userId);
        const start = Date.now();
        const model = { earned: 0n, spent: 0n, expired: 0n, periods: new Set<number>(), lastOrder: '' };
        const balance = () => model.earned - model.spent - model.expired;
        for (const step of ops) {
          if (step.kind === 'earn') {
            const replay = step.replay && model.lastOrder !== '';
            const orderId = replay ? model.lastOrder : randomUUID();
            const hundredths = model.earned >= 5_000n ? 150n : model.earned >= 1_000n ? 125n : 100n; // default tiers
            await loyalty.grant({
              orderId,
              userId,
              baseMinor: step.baseMinor,
              sourceEvent: 'OrderCompleted',
              at: new Date(),
            });
            if (!replay) {
              model.earned += ((step.baseMinor / 100n) * hundredths) / 100n;
              model.lastOrder = orderId;
            }
          } else if (step.kind === 'spend') {
            const [outcome] = await ledger.submit([spendTransfer(userId, step.amount)]);
            expect(outcome!.result === 'ok').toBe(step.amount <= balance());
            if (outcome!.result === 'ok') model.spent += step.amount;
          } else {
            await loyalty.expirePoints(new Date(start + step.dayOffset * DAY_MS));
            // A period seen before books nothing new for this customer (its id is taken).
            if (step.dayOffset > EXPIRY_DAYS && !model.periods.has(step.dayOffset))
              model.expired += balance();
            model.periods.add(step.dayOffset);
          }
          await caughtUp(accountId);
          const account = await ledger.account(accountId);
          expect(account?.availableMinor ?? 0n).toBe(balance());
          expect(balance() >= 0n).toBe(true);
          expect(account?.creditsPosted ?? 0n).toBe(model.earned);
          expect(account?.debitsPosted ?? 0n).toBe(model.spent + model.expired);
        }
        const statement = await sql<{
          net: string | null;
        }>`SELECT sum(CASE side WHEN 'credit' THEN amount_minor
            ELSE -amount_minor END)::text AS net FROM ledger_entries WHERE account_id = ${accountId}
            AND phase IN ('posted', 'post_pending')`.execute(testApp.services.db);
        expect(BigInt(statement.rows[0]!.net ?? '0')).toBe(balance());
      }),
      { numRuns: 12 },
    );
    const report = await ledger.verify();
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('a crash between the decision and the booking: the retry books the recorded decision, once', async () => {
    const { loyalty, ledger, db } = testApp.services;
    const userId = randomUUID();
    const orderId = randomUUID();
    // The process recorded the decision (gold then: 150 points) and stopped before the ledger.
    await db
      .insertInto('loyalty_awards')
      .values({
        order_id: orderId,
        user_id: userId,
        base_minor: 10_000n,
        tier: 'gold',
        multiplier: '1.5',
        points: 150n,
        source_event: 'OrderCompleted',
      })
      .execute();
    expect(await ledger.account(customerPointsId(userId))).toBeNull();
    // The redelivered event decides again (bronze now: it would be 100) but the recorded one stands.
    const retry = { orderId, userId, baseMinor: 10_000n, sourceEvent: 'OrderCompleted', at: new Date() };
    expect(await loyalty.grant(retry)).toBe('booked');
    expect(await loyalty.grant(retry)).toBe('exists');
    expect((await ledger.account(customerPointsId(userId)))!.creditsPosted).toBe(150n);
  });

  it('parallel redemptions of the same points: exactly the balance succeeds, never below zero', async () => {
    const { loyalty, ledger } = testApp.services;
    const userId = randomUUID();
    expect(
      await loyalty.grant({
        orderId: randomUUID(),
        userId,
        baseMinor: 5_000n,
        sourceEvent: 'OrderCompleted',
        at: new Date(),
      }),
    ).toBe('booked');
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, () => ledger.submit([spendTransfer(userId, 10n)])),
    );
    expect(outcomes.filter(([outcome]) => outcome!.result === 'ok')).toHaveLength(5);
    expect((await ledger.account(customerPointsId(userId)))!.availableMinor).toBe(0n);
  });
});
