import { describe, expect, it } from 'vitest';
import { customerWalletId, GENESIS_HASH, sealBatch, worldId, type Transfer } from '../rules/index.js';
import { T0_MS, snapshotOf, transfer } from '../rules/testing/fixtures.js';
import { planBatch } from './batch.js';
import { decideExpiries, decideTransfers } from './decide.js';
import { commitAppended, emptyWriterState } from './writer-state.js';

const wallet = customerWalletId('u1', 'XAF');
const world = worldId('XAF');
const BUDGET = 1_000_000;
const topUp = (id: string, amountMinor: bigint, fields: Partial<Transfer> = {}): Transfer =>
  transfer({ id, debitAccountId: world, creditAccountId: wallet, amountMinor, ...fields });

describe('the writer decides a batch against memory without changing it', () => {
  it('opens the chart accounts a batch names and seals what was accepted after the last hash', () => {
    const state = emptyWriterState();
    const before = snapshotOf(state.ledger);
    const decision = decideTransfers(state, [topUp('t1', 500n), topUp('', 1n)], T0_MS, BUDGET);
    expect(decision.outcome.transferResults.map((entry) => entry.result)).toEqual([
      'ok',
      'id_must_not_be_empty',
    ]);
    expect(decision.body.accountsCreated.map((account) => account.id).sort()).toEqual([wallet, world].sort());
    expect(decision.body.transfersAccepted.map((accepted) => accepted.id)).toEqual(['t1']);
    expect(decision.sealed?.hash).toBe(sealBatch(GENESIS_HASH, decision.body).hash);
    expect(decision.fits).toBe(true);
    expect(snapshotOf(state.ledger)).toEqual(before);
  });

  it('seals nothing when nothing is accepted, and says when the event would be too large', () => {
    const state = emptyWriterState();
    const rejected = decideTransfers(state, [topUp('t1', 5n, { currency: 'USD' })], T0_MS, BUDGET);
    expect(rejected.sealed).toBeNull();
    expect(rejected.body.transfersAccepted).toEqual([]);
    expect(rejected.outcome.transferResults[0]?.result).not.toBe('ok');
    const tooLarge = decideTransfers(state, [topUp('t1', 5n)], T0_MS, 100);
    expect(tooLarge.sealed).not.toBeNull();
    expect(tooLarge.fits).toBe(false);
  });

  it('expires a hold once due with a hold_expiry transfer, and nothing before', () => {
    const state = emptyWriterState();
    const fund = decideTransfers(state, [topUp('t1', 500n)], T0_MS, BUDGET).sealed!;
    commitAppended(state, fund.changes, fund.hash, fund.body, 0n);
    const spend = transfer({
      id: 'h1',
      debitAccountId: wallet,
      creditAccountId: world,
      amountMinor: 200n,
      flags: { pending: true },
      timeoutSeconds: 60,
    });
    const held = decideTransfers(state, [spend], T0_MS + 1, BUDGET).sealed!;
    commitAppended(state, held.changes, held.hash, held.body, 1n);
    expect(decideExpiries(state, T0_MS + 30_000, 400)).toBeNull();
    const due = decideExpiries(state, T0_MS + 61_000, 400);
    expect(due?.remaining).toBe(0);
    expect(due?.sealed.body.transfersAccepted).toMatchObject([{ code: 'hold_expiry', pendingId: 'h1' }]);
    expect(due?.sealed.hash).toBe(sealBatch(state.lastHash, due!.sealed.body).hash);
    expect(state.ledger.accounts.get(wallet)?.debitsPending).toBe(200n);
  });
});

describe('planBatch: callers concatenated, each without its open trailing chain', () => {
  it('keeps each caller at its offset and answers an open chain itself', () => {
    const linked = { linked: true };
    const plan = planBatch([
      { transfers: [topUp('a1', 1n), topUp('a2', 1n, { flags: linked })] },
      { transfers: [topUp('b1', 1n, { flags: linked }), topUp('b2', 1n)] },
    ]);
    expect(plan.transfers.map((item) => item.id)).toEqual(['a1', 'b1', 'b2']);
    expect(plan.parts.map(({ offset, decided }) => [offset, decided])).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(plan.parts[0]?.openResults).toEqual([{ index: 1, id: 'a2', result: 'linked_event_chain_open' }]);
    expect(plan.parts[1]?.openResults).toEqual([]);
  });
});
