import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../ledger/audit/verify.js';
import {
  customerWalletId,
  orderEscrowId,
  providerClearingId,
  type Transfer,
} from '../../ledger/rules/index.js';
import { createLedgerHarness, type LedgerHarness } from '../ledger/harness.js';

/**
 * Property 10: many submitters racing on few accounts through the real writer never overdraw a
 * wallet (pending counted) and never lose a transfer: every submission gets an answer, every `ok`
 * is in the stream (a restarted writer answers `exists` for it), and the balances are exactly
 * the funding minus the accepted spending.
 */
let harness: LedgerHarness;
beforeAll(async () => {
  harness = await createLedgerHarness();
});
afterAll(async () => harness.close());

const clearing = providerClearingId('mtn_momo', 'XAF');

describe('ledger writer under concurrent submitters', () => {
  it('never overdraws a wallet and never loses an accepted transfer', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          submitters: fc.integer({ min: 4, max: 32 }),
          perSubmitter: fc.integer({ min: 3, max: 12 }),
          wallets: fc.integer({ min: 1, max: 3 }),
          fundingMinor: fc.bigInt({ min: 1_000n, max: 20_000n }),
          amounts: fc.array(fc.bigInt({ min: 1n, max: 900n }), { minLength: 1, maxLength: 16 }),
          holdEvery: fc.integer({ min: 2, max: 6 }),
          batchWaitMs: fc.constantFrom(0, 1),
        }),
        async (plan) => {
          run += 1;
          const stream = `ledger-concurrency-${run}`;
          const writer = harness.writer({ stream, snapshotEveryEvents: 5, batchWaitMs: plan.batchWaitMs });
          const wallets = Array.from({ length: plan.wallets }, (_, index) =>
            customerWalletId(`c${run}-${index}`, 'XAF'),
          );
          const funding = wallets.map((wallet, index): Transfer => ({
            id: `fund-${index}`,
            debitAccountId: clearing,
            creditAccountId: wallet,
            amountMinor: plan.fundingMinor,
            currency: 'XAF',
            code: 'topup',
            flags: {},
          }));
          expect((await writer.submit(funding)).every((outcome) => outcome.result === 'ok')).toBe(true);

          const submitted: Transfer[] = [];
          const answered = await Promise.all(
            Array.from({ length: plan.submitters }, async (_, submitter) => {
              const outcomes = [];
              for (let step = 0; step < plan.perSubmitter; step += 1) {
                const sequence = submitter * plan.perSubmitter + step;
                const transfer: Transfer = {
                  id: `spend-${submitter}-${step}`,
                  debitAccountId: wallets[sequence % wallets.length]!,
                  creditAccountId: orderEscrowId(`o${run}-${sequence % 7}`, 'XAF'),
                  amountMinor: plan.amounts[sequence % plan.amounts.length]!,
                  currency: 'XAF',
                  code: 'payment_capture',
                  flags: sequence % plan.holdEvery === 0 ? { pending: true } : {},
                };
                submitted.push(transfer);
                const [outcome] = await writer.submit([transfer]);
                outcomes.push({ transfer, result: outcome?.result });
              }
              return outcomes;
            }),
          );
          const all = answered.flat();
          expect(all).toHaveLength(submitted.length);
          for (const { result } of all) expect(['ok', 'exceeds_credits']).toContain(result);
          const accepted = all.filter((entry) => entry.result === 'ok').map((entry) => entry.transfer);
          for (const wallet of wallets) {
            const spent = accepted
              .filter((transfer) => transfer.debitAccountId === wallet)
              .reduce((sum, transfer) => sum + transfer.amountMinor, 0n);
            const account = (await writer.account(wallet))!;
            expect(account.availableMinor >= 0n).toBe(true);
            expect(account.availableMinor).toBe(plan.fundingMinor - spent);
            expect(account.debitsPosted + account.debitsPending).toBe(spent);
          }
          // Nothing lost: a restarted writer knows every accepted transfer, and the stream holds exactly them.
          const head = writer.head();
          expect(head.transferCount).toBe(BigInt(funding.length + accepted.length));
          await writer.close();
          const restarted = harness.writer({ stream });
          const retried = await restarted.submit(accepted.slice(0, 500));
          expect(retried.every((outcome) => outcome.result === 'exists')).toBe(true);
          await restarted.close();
          const report = await verifyLedger({
            store: harness.store,
            db: harness.database.db,
            stream,
            projections: false,
          });
          expect(report.mismatches).toEqual([]);
          expect(report.transfers).toBe(funding.length + accepted.length);
        },
      ),
      { numRuns: 8, endOnFailure: true },
    );
  }, 120_000);
});
