/**
 * A customer's receivable recovered from later credits (issue #28).
 *
 * A card chargeback or refund after the customer already spent the money leaves them owing it:
 * `receivable:customer:<id>:USD` (XAF for a EUR funding, reversed in francs). The rule:
 *
 *   When NEW money lands on the customer's wallet in the receivable's currency while they owe,
 *   `min(credit, owed, what the wallet may still spend)` is taken from that wallet to the
 *   receivable, once per credit: one ledger transfer `recovery:<uuid from the credit's transfer
 *   id>`, code `receivable_recovery` (statement category `recoveries`).
 *
 *   New money is a credit coded `topup` (a Mobile Money top-up, a card funding, a EUR funding's
 *   francs) or `promotion` (a referral's wallet reward, a support goodwill credit). Never taken:
 *   `refund` (an order paid before or after the chargeback given back: money the customer is owed
 *   whatever they owe us), `escrow_release` (a group or bulk order's shares, which pay that order at
 *   once), `fx_conversion` (the customer's own money moving between their wallets). Only credits
 *   after the customer started owing count (their ledger time after the first receivable entry
 *   since it was last zero): what the wallet held before, the reversal already took.
 *
 *   Recovering all of it does NOT unfreeze the wallets: the review is about the chargeback (a card
 *   that may not be the funder's), which paying the debt does not answer; an admin unfreezes as
 *   before. Each recovery is audited (`wallet.receivable_recovered`, with what is still owed).
 *
 * Where it runs: the `receivable-recovery-sweep` schedule (every minute) and `recoverFor` on
 * demand. It reads who owes and their new credits from the ledger's read model and decides every
 * amount from the writer's balances, under a per-customer advisory lock; the decision is written on
 * a row keyed by the credit's transfer id before the ledger is asked, so a retry, a second instance,
 * a replay or a crash between the credit and the recovery books it once. The ledger's bounds hold
 * whatever happens: the receivable may never be credited beyond its debits (credit-bounded asset),
 * the wallet never debited beyond its credits; a transfer refused because a balance moved landed
 * nothing and is decided again from fresh balances.
 */
import type { Logger } from 'pino';
import {
  customerReceivableId,
  customerWalletId,
  type Transfer,
  type TransferCode,
} from '../../../ledger/rules/index.js';
import type { AuditFunction } from '../identity/index.js';
import { uuidFromName } from './ids.js';
import { LedgerRefusal, submitAll, type LedgerPort } from './ledger-port.js';
import type {
  ReceivableRecoveryRepository,
  RecoveryCurrency,
  RecoveryRow,
} from './receivable-recovery-repository.js';

/** The credits that are new money and may be taken (see the rule above). */
export const RECOVERABLE_CREDIT_CODES: readonly TransferCode[] = ['topup', 'promotion'];
/** Customers looked at per sweep; credits per customer per pass. */
const SWEEP_CUSTOMERS = 500;
const CREDITS_PER_PASS = 100;
/** A recovery refused because a balance moved is decided again this many times. */
const BOOK_TRIES = 4;

export interface ReceivableRecoveryOptions {
  repository: ReceivableRecoveryRepository;
  ledger: LedgerPort;
  logger: Logger;
  audit: AuditFunction;
  /** RECEIVABLE_RECOVERY: off leaves the debt to finance, as before. */
  enabled: boolean;
  now?: () => Date;
}

export interface RecoveryView {
  creditTransferId: string;
  recoveryTransferId: string;
  currency: RecoveryCurrency;
  creditCode: string;
  creditMinor: bigint;
  recoveredMinor: bigint;
  owedAfterMinor: bigint | null;
  status: RecoveryRow['status'];
  createdAt: Date;
  bookedAt: Date | null;
}

export function recoveryView(row: RecoveryRow): RecoveryView {
  return {
    creditTransferId: row.credit_transfer_id,
    recoveryTransferId: row.recovery_transfer_id,
    currency: row.currency,
    creditCode: row.credit_code,
    creditMinor: row.credit_minor,
    recoveredMinor: row.recovered_minor ?? 0n,
    owedAfterMinor: row.owed_after_minor,
    status: row.status,
    createdAt: row.created_at,
    bookedAt: row.booked_at,
  };
}

/** The recovery's own transfer id, derived from the credit's (any length fits the ledger's 128). */
export const recoveryTransferId = (creditTransferId: string): string =>
  `recovery:${uuidFromName('receivable-recovery', creditTransferId)}`;

const min = (...values: bigint[]): bigint => values.reduce((a, b) => (b < a ? b : a));
const atLeastZero = (value: bigint): bigint => (value > 0n ? value : 0n);

/** What one credit gives back: `min(credit, owed, what the wallet may spend)`, never negative. */
export function recoveryAmount(creditMinor: bigint, owedMinor: bigint, walletAvailableMinor: bigint): bigint {
  return min(atLeastZero(creditMinor), atLeastZero(owedMinor), atLeastZero(walletAvailableMinor));
}

export function recoveryTransfer(row: RecoveryRow): Transfer {
  return {
    id: row.recovery_transfer_id,
    debitAccountId: customerWalletId(row.user_id, row.currency),
    creditAccountId: customerReceivableId(row.user_id, row.currency),
    amountMinor: row.recovered_minor ?? 0n,
    currency: row.currency,
    code: 'receivable_recovery',
    flags: {},
    userData: { userId: row.user_id, creditTransferId: row.credit_transfer_id.slice(0, 128) },
  };
}

export function createReceivableRecovery(options: ReceivableRecoveryOptions) {
  const { repository, ledger, logger } = options;
  const now = options.now ?? (() => new Date());

  /** What the customer owes now, from the writer: a debit-normal account's debits beyond its credits. */
  async function owedNow(userId: string, currency: RecoveryCurrency): Promise<bigint> {
    const account = await ledger.account(customerReceivableId(userId, currency));
    if (account === null) return 0n;
    return (account.debitsPosted ?? 0n) - (account.creditsPosted ?? 0n) - (account.creditsPending ?? 0n);
  }

  async function walletAvailable(userId: string, currency: RecoveryCurrency): Promise<bigint> {
    return (await ledger.account(customerWalletId(userId, currency)))?.availableMinor ?? 0n;
  }

  async function amountFor(userId: string, currency: RecoveryCurrency, creditMinor: bigint): Promise<bigint> {
    const [owed, available] = await Promise.all([
      owedNow(userId, currency),
      walletAvailable(userId, currency),
    ]);
    return recoveryAmount(creditMinor, owed, available);
  }

  /** Submits a decided row; a refusal because a balance moved is decided again (it landed nothing). */
  async function book(row: RecoveryRow): Promise<'booked' | 'nothing'> {
    let current = row;
    for (let attempt = 1; ; attempt += 1) {
      if (current.status === 'NOTHING') return 'nothing';
      if (current.status === 'BOOKED') return 'booked';
      const refused = await submitAll(ledger, [recoveryTransfer(current)]);
      if (refused === null) {
        const owedAfter = atLeastZero(await owedNow(current.user_id, current.currency));
        if (await repository.markBooked(current.credit_transfer_id, owedAfter, now()))
          await afterBooked(current, owedAfter);
        return 'booked';
      }
      const moved = refused.result === 'exceeds_credits' || refused.result === 'exceeds_debits';
      if (!moved || attempt >= BOOK_TRIES) throw new LedgerRefusal(refused);
      await repository.redecide(
        current.credit_transfer_id,
        await amountFor(current.user_id, current.currency, current.credit_minor),
      );
      current = (await repository.find(current.credit_transfer_id))!;
    }
  }

  async function afterBooked(row: RecoveryRow, owedAfter: bigint): Promise<void> {
    logger.info(
      {
        userId: row.user_id,
        currency: row.currency,
        creditTransferId: row.credit_transfer_id,
        recoveredMinor: String(row.recovered_minor),
        owedAfterMinor: String(owedAfter),
      },
      owedAfter === 0n
        ? 'receivable recovered in full from a later credit; the wallets stay under review until an admin unfreezes them'
        : 'receivable partly recovered from a later credit',
    );
    await options.audit({
      action: 'wallet.receivable_recovered',
      actor: { kind: 'system' },
      subjectUserId: row.user_id,
      resource: `receivable:${row.user_id}:${row.currency}`,
      newValue: {
        creditTransferId: row.credit_transfer_id,
        creditCode: row.credit_code,
        creditMinor: String(row.credit_minor),
        recoveredMinor: String(row.recovered_minor),
        owedAfterMinor: String(owedAfter),
        currency: row.currency,
      },
    });
  }

  /**
   * Recovers what one customer owes in one currency from the credits that landed since they owe
   * and that no recovery considered yet. Returns what this call booked.
   */
  async function recoverFor(
    userId: string,
    currency: RecoveryCurrency,
  ): Promise<{ booked: number; recoveredMinor: bigint }> {
    const outcome = { booked: 0, recoveredMinor: 0n };
    if (!options.enabled) return outcome;
    return repository.locked(userId, currency, async () => {
      // Decisions a crash (or a refusal) left unbooked first: they were decided from older balances.
      for (const row of await repository.decided(userId, currency))
        if ((await book(row)) === 'booked') {
          outcome.booked += 1;
          outcome.recoveredMinor += (await repository.find(row.credit_transfer_id))!.recovered_minor ?? 0n;
        }
      if ((await owedNow(userId, currency)) <= 0n) return outcome;
      const since = await repository.debtSince(customerReceivableId(userId, currency));
      if (since === null) return outcome; // the read model has not seen the debt yet: next run
      const credits = await repository.unconsidered(
        customerWalletId(userId, currency),
        RECOVERABLE_CREDIT_CODES,
        since,
        CREDITS_PER_PASS,
      );
      for (const credit of credits) {
        const creditMinor = BigInt(credit.amount_minor);
        const [owed, available] = await Promise.all([
          owedNow(userId, currency),
          walletAvailable(userId, currency),
        ]);
        // Nothing owed any more: the credits left are not considered (a later debt starts after them).
        if (owed <= 0n) break;
        const amount = recoveryAmount(creditMinor, owed, available);
        await repository.decide({
          creditTransferId: credit.transfer_id,
          recoveryTransferId: recoveryTransferId(credit.transfer_id),
          userId,
          currency,
          creditCode: credit.code,
          creditMinor,
          recoveredMinor: amount,
        });
        const row = (await repository.find(credit.transfer_id))!;
        if ((await book(row)) === 'booked') {
          outcome.booked += 1;
          outcome.recoveredMinor += (await repository.find(credit.transfer_id))!.recovered_minor ?? 0n;
        }
      }
      return outcome;
    });
  }

  /**
   * Every customer who owes, as the read model sees them (at most SWEEP_CUSTOMERS a run): their new
   * credits recovered. One customer failing does not stop the others.
   */
  async function sweep(): Promise<{ customers: number; booked: number; errors: number }> {
    const outcome = { customers: 0, booked: 0, errors: 0 };
    if (!options.enabled) return outcome;
    for (const { user_id: userId, currency } of await repository.owing(SWEEP_CUSTOMERS)) {
      outcome.customers += 1;
      try {
        outcome.booked += (await recoverFor(userId, currency)).booked;
      } catch (error) {
        outcome.errors += 1;
        logger.error({ err: error, userId, currency }, 'receivable recovery: this customer failed');
      }
    }
    if (outcome.booked > 0) logger.info({ ...outcome }, 'receivable recovery sweep');
    return outcome;
  }

  async function recoveries(userId: string, limit = 100): Promise<RecoveryView[]> {
    return (await repository.listForUser(userId, limit)).map(recoveryView);
  }

  /** Every customer a card reversal left owing, after the cursor (the admin read). */
  const summaries = repository.summaries;

  return { recoverFor, sweep, recoveries, owedNow, summaries };
}

export type ReceivableRecovery = ReturnType<typeof createReceivableRecovery>;
