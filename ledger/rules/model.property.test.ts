import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTransfers, expirePendingTransfers } from './apply.js';
import { commitChanges, type LedgerState } from './state.js';
import type { CreateTransferResult, Transfer } from './types.js';
import { SCENARIO_ACCOUNTS, openScenario } from './testing/arbitraries.js';
import { T0_MS, transfer } from './testing/fixtures.js';

/**
 * Model-based test: a model that keeps balances as plain numbers and applies TigerBeetle's rules
 * in the most direct way (no overlay, no undo log: a chain is tried on a copy) must agree with
 * the ledger on every result code, every balance and every hold, command after command.
 */

interface ModelAccount {
  readonly id: string;
  readonly currency: string;
  readonly noDebitBalance: boolean;
  readonly noCreditBalance: boolean;
  debitsPending: number;
  debitsPosted: number;
  creditsPending: number;
  creditsPosted: number;
  closed: boolean;
}

interface ModelHold {
  readonly id: string;
  readonly debit: string;
  readonly credit: string;
  readonly held: number;
  readonly expiresAtMs: number | null;
  status: 'pending' | 'posted' | 'voided' | 'expired';
  posted: number;
}

interface Model {
  accounts: Map<string, ModelAccount>;
  holds: ModelHold[];
  /** Accepted submissions: a single transfer or a whole linked chain, retried as sent. */
  accepted: Transfer[][];
  nowMs: number;
  nextId: number;
}

interface Real {
  readonly state: LedgerState;
}

const FUNDING = [5_000, 800, 2_000] as const;

function initialModel(): Model {
  const accounts = new Map<string, ModelAccount>();
  for (const account of SCENARIO_ACCOUNTS) {
    accounts.set(account.id, {
      id: account.id,
      currency: account.currency,
      noDebitBalance: account.flags.debitsMustNotExceedCredits,
      noCreditBalance: account.flags.creditsMustNotExceedDebits,
      debitsPending: 0,
      debitsPosted: 0,
      creditsPending: 0,
      creditsPosted: 0,
      closed: false,
    });
  }
  const model: Model = { accounts, holds: [], accepted: [], nowMs: T0_MS, nextId: 0 };
  const pay = (from: string, to: string, amount: number): void => {
    account(model, from).debitsPosted += amount;
    account(model, to).creditsPosted += amount;
  };
  pay('world-xaf', 'wallet-a', FUNDING[0]);
  pay('world-usd', 'wallet-usd', FUNDING[1]);
  pay('clearing', 'world-xaf', FUNDING[2]);
  return model;
}

function account(model: Model, id: string): ModelAccount {
  const found = model.accounts.get(id);
  if (found === undefined) throw new Error(`model has no ${id}`);
  return found;
}

interface MoveSpec {
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  readonly pending: boolean;
  readonly timeoutSeconds: number;
  readonly closeCredit: boolean;
}

function modelMove(model: Model, id: string, spec: MoveSpec): CreateTransferResult {
  const debit = account(model, spec.from);
  const credit = account(model, spec.to);
  // Closing is permanent, so it may not ride on a hold.
  if (spec.pending && spec.closeCredit) return 'flags_are_mutually_exclusive';
  if (debit === credit) return 'accounts_must_be_different';
  if (spec.amount === 0) return 'amount_must_not_be_zero';
  if (debit.currency !== credit.currency) return 'currency_mismatch';
  if (debit.closed || credit.closed) return 'account_closed';
  if (debit.noDebitBalance && debit.debitsPending + debit.debitsPosted + spec.amount > debit.creditsPosted) {
    return 'exceeds_credits';
  }
  if (
    credit.noCreditBalance &&
    credit.creditsPending + credit.creditsPosted + spec.amount > credit.debitsPosted
  ) {
    return 'exceeds_debits';
  }
  if (spec.pending) {
    debit.debitsPending += spec.amount;
    credit.creditsPending += spec.amount;
    const expiresAtMs = spec.timeoutSeconds > 0 ? model.nowMs + spec.timeoutSeconds * 1_000 : null;
    model.holds.push({
      id,
      debit: debit.id,
      credit: credit.id,
      held: spec.amount,
      expiresAtMs,
      status: 'pending',
      posted: 0,
    });
  } else {
    debit.debitsPosted += spec.amount;
    credit.creditsPosted += spec.amount;
  }
  if (spec.closeCredit) credit.closed = true;
  return 'ok';
}

/** Post (amount 0 = all) or void (amount null) of a hold, by the rules as written. */
function modelResolve(model: Model, hold: ModelHold, amount: number | null): CreateTransferResult {
  if (hold.status === 'posted') return 'pending_transfer_already_posted';
  if (hold.status === 'voided') return 'pending_transfer_already_voided';
  if (hold.status === 'expired') return 'pending_transfer_expired';
  if (hold.expiresAtMs !== null && model.nowMs >= hold.expiresAtMs) return 'pending_transfer_expired';
  const posted = amount === null ? 0 : amount === 0 ? hold.held : amount;
  if (posted > hold.held) return 'exceeds_pending_transfer_amount';
  const debit = account(model, hold.debit);
  const credit = account(model, hold.credit);
  if (amount !== null && (debit.closed || credit.closed)) return 'account_closed';
  debit.debitsPending -= hold.held;
  credit.creditsPending -= hold.held;
  debit.debitsPosted += posted;
  credit.creditsPosted += posted;
  hold.status = amount === null ? 'voided' : 'posted';
  hold.posted = posted;
  return 'ok';
}

function expectSameLedger(model: Model, real: Real): void {
  for (const expected of model.accounts.values()) {
    const actual = real.state.accounts.get(expected.id);
    expect(actual, expected.id).toMatchObject({
      debitsPending: BigInt(expected.debitsPending),
      debitsPosted: BigInt(expected.debitsPosted),
      creditsPending: BigInt(expected.creditsPending),
      creditsPosted: BigInt(expected.creditsPosted),
    });
    expect(actual?.closed === true, `${expected.id} closed`).toBe(expected.closed);
  }
  for (const hold of model.holds) {
    expect(real.state.holds.get(hold.id), hold.id).toMatchObject({
      status: hold.status,
      postedMinor: BigInt(hold.posted),
    });
  }
}

/** Runs one batch on the ledger at the model's time and returns its result codes. */
function decide(model: Model, real: Real, transfers: readonly Transfer[]): CreateTransferResult[] {
  const outcome = createTransfers(real.state, transfers, model.nowMs);
  commitChanges(real.state, outcome.changes);
  return outcome.results.map((entry) => entry.result);
}

function moveTransfer(id: string, spec: MoveSpec, linked = false): Transfer {
  const currency = SCENARIO_ACCOUNTS.find((item) => item.id === spec.from)?.currency ?? 'XAF';
  return transfer({
    id,
    debitAccountId: spec.from,
    creditAccountId: spec.to,
    amountMinor: BigInt(spec.amount),
    currency,
    flags: {
      ...(spec.pending ? { pending: true } : {}),
      ...(spec.closeCredit ? { closingCredit: true } : {}),
      ...(linked ? { linked: true } : {}),
    },
    ...(spec.pending && spec.timeoutSeconds > 0 ? { timeoutSeconds: spec.timeoutSeconds } : {}),
  });
}

type LedgerCommand = fc.Command<Model, Real>;

/** Every command moves the clock 1 ms first, so each batch starts on its own millisecond. */
function tick(model: Model): string {
  model.nowMs += 1;
  model.nextId += 1;
  return `m${model.nextId}`;
}

function moveCommand(spec: MoveSpec): LedgerCommand {
  return {
    check: () => true,
    run(model, real) {
      const id = tick(model);
      const sent = moveTransfer(id, spec);
      const expected = modelMove(model, id, spec);
      expect(decide(model, real, [sent])).toEqual([expected]);
      if (expected === 'ok') model.accepted.push([sent]);
      expectSameLedger(model, real);
    },
    toString: () => `move(${JSON.stringify(spec)})`,
  };
}

function resolveCommand(pick: number, amount: number | null): LedgerCommand {
  return {
    check: (model) => model.holds.length > 0,
    run(model, real) {
      const id = tick(model);
      const hold = model.holds[pick % model.holds.length];
      if (hold === undefined) throw new Error('check() guarantees a hold');
      const currency = SCENARIO_ACCOUNTS.find((item) => item.id === hold.debit)?.currency ?? 'XAF';
      const sent = transfer({
        id,
        pendingId: hold.id,
        currency,
        amountMinor: BigInt(amount ?? 0),
        flags: amount === null ? { voidPending: true } : { postPending: true },
      });
      const expected = modelResolve(model, hold, amount);
      expect(decide(model, real, [sent])).toEqual([expected]);
      if (expected === 'ok') model.accepted.push([sent]);
      expectSameLedger(model, real);
    },
    toString: () => (amount === null ? `void(#${pick})` : `post(#${pick}, ${amount})`),
  };
}

/**
 * Sends an accepted submission again: every member exists. With the first member's code
 * changed, that member conflicts and the rest of its chain fails with it.
 */
function retryCommand(pick: number, changeCode: boolean): LedgerCommand {
  return {
    check: (model) => model.accepted.length > 0,
    run(model, real) {
      model.nowMs += 1;
      const original = model.accepted[pick % model.accepted.length];
      if (original === undefined) throw new Error('check() guarantees a submission');
      const sent = original.map((item, index): Transfer =>
        changeCode && index === 0
          ? { ...item, code: item.code === 'adjustment' ? 'refund' : 'adjustment' }
          : item,
      );
      const expected = sent.map((_, index) =>
        !changeCode ? 'exists' : index === 0 ? 'exists_with_different_fields' : 'linked_event_failed',
      );
      expect(decide(model, real, sent)).toEqual(expected);
      expectSameLedger(model, real);
    },
    toString: () => `retry(#${pick}, change=${changeCode})`,
  };
}

function chainCommand(specs: readonly MoveSpec[]): LedgerCommand {
  return {
    check: () => true,
    run(model, real) {
      const ids = specs.map(() => tick(model));
      const saved = new Map([...model.accounts].map(([id, item]) => [id, { ...item }]));
      const own = specs.map((spec, index) => modelMove(model, ids[index] ?? '', spec));
      const failedAt = own.findIndex((code) => code !== 'ok');
      if (failedAt >= 0) model.accounts = saved;
      const expected =
        failedAt < 0 ? own : own.map((code, index) => (index === failedAt ? code : 'linked_event_failed'));
      const sent = specs.map((spec, index) => moveTransfer(ids[index] ?? '', spec, index < specs.length - 1));
      expect(decide(model, real, sent)).toEqual(expected);
      if (failedAt < 0) model.accepted.push(sent);
      expectSameLedger(model, real);
    },
    toString: () => `chain(${JSON.stringify(specs)})`,
  };
}

function sweepCommand(advanceMs: number): LedgerCommand {
  return {
    check: () => true,
    run(model, real) {
      model.nowMs += advanceMs;
      const due = model.holds.filter(
        (hold) => hold.status === 'pending' && hold.expiresAtMs !== null && hold.expiresAtMs <= model.nowMs,
      );
      for (const hold of due) {
        account(model, hold.debit).debitsPending -= hold.held;
        account(model, hold.credit).creditsPending -= hold.held;
        hold.status = 'expired';
      }
      const sweep = expirePendingTransfers(real.state, model.nowMs);
      commitChanges(real.state, sweep.changes);
      expect(sweep.accepted.map((item) => item.pendingId).sort()).toEqual(due.map((hold) => hold.id).sort());
      expectSameLedger(model, real);
    },
    toString: () => `sweep(+${advanceMs}ms)`,
  };
}

const ids = SCENARIO_ACCOUNTS.map((item) => item.id);
const xafIds = ids.filter((id) => SCENARIO_ACCOUNTS.find((item) => item.id === id)?.currency === 'XAF');
const accountId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...xafIds) },
  { weight: 1, arbitrary: fc.constantFrom(...ids) },
);
const singleMove = (pendingAllowed: boolean): fc.Arbitrary<MoveSpec> =>
  fc.record({
    from: accountId,
    to: accountId,
    amount: fc.integer({ min: 0, max: 3_000 }),
    pending: pendingAllowed ? fc.boolean() : fc.constant(false),
    timeoutSeconds: fc.constantFrom(0, 1, 3),
    // Rare: a closed account stops most later traffic through it.
    closeCredit: pendingAllowed
      ? fc.integer({ min: 0, max: 29 }).map((draw) => draw === 0)
      : fc.constant(false),
  });

const commands = [
  singleMove(true).map(moveCommand),
  fc
    .tuple(fc.nat(), fc.integer({ min: 0, max: 3_000 }))
    .map(([pick, amount]) => resolveCommand(pick, amount)),
  fc.nat().map((pick) => resolveCommand(pick, null)),
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, change]) => retryCommand(pick, change)),
  fc.array(singleMove(false), { minLength: 2, maxLength: 3 }).map(chainCommand),
  fc.constantFrom(0, 500, 999, 1_000, 2_000, 4_000).map(sweepCommand),
];

describe('ledger against a model of plain-number balances', () => {
  it('agrees with the model on every result code, balance and hold for any command sequence', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 40, size: 'max' }), (sequence) => {
        const setup = (): { model: Model; real: Real } => {
          const { state } = openScenario([BigInt(FUNDING[0]), BigInt(FUNDING[1]), BigInt(FUNDING[2])]);
          return { model: initialModel(), real: { state } };
        };
        fc.modelRun(setup, sequence);
      }),
      { numRuns: 100 },
    );
  });
});
