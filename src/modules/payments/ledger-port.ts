import type { Transfer } from '../../../ledger/rules/index.js';
import type { LedgerAccountView, TransferOutcome } from '../../../ledger/writer/index.js';

/**
 * What payments needs from the ledger (services.ledger): submit transfers, read balances from the
 * writer (never from a lagging projection). Narrow on purpose, so tests and tools can pass the
 * ledger service or the writer itself.
 */
export interface LedgerPort {
  submit(transfers: readonly Transfer[]): Promise<TransferOutcome[]>;
  account(id: string): Promise<LedgerAccountView | null>;
}

/** A submission is done when every transfer is `ok` or `exists` (a retry of the same one). */
export function accepted(outcome: TransferOutcome): boolean {
  return outcome.result === 'ok' || outcome.result === 'exists';
}

/**
 * Submits and returns the first refusal (ignoring `linked_event_failed` echoes of it), or null
 * when everything landed. Refusals are business answers (not enough money…), not exceptions.
 */
export async function submitAll(
  ledger: LedgerPort,
  transfers: readonly Transfer[],
): Promise<TransferOutcome | null> {
  const outcomes = await ledger.submit(transfers);
  const refused = outcomes.filter((outcome) => !accepted(outcome));
  if (refused.length === 0) return null;
  return (
    refused.find(
      (outcome) => outcome.result !== 'linked_event_failed' && outcome.result !== 'linked_event_chain_open',
    ) ?? refused[0]!
  );
}

/** Thrown when the ledger refuses a transfer the flow could not have expected to fail (a bug or a corrupted state). */
export class LedgerRefusal extends Error {
  constructor(readonly outcome: TransferOutcome) {
    super(
      `ledger refused ${outcome.id}: ${outcome.result}${outcome.detail === undefined ? '' : ` (${outcome.detail})`}`,
    );
    this.name = 'LedgerRefusal';
  }
}

/** Available balance of a credit-normal account; 0 for an account never opened. */
export async function availableMinor(ledger: LedgerPort, accountId: string): Promise<bigint> {
  const account = await ledger.account(accountId);
  return account?.availableMinor ?? 0n;
}

/** Links a list of transfers into one chain: all land or none does. */
export function linked(transfers: Transfer[]): Transfer[] {
  return transfers.map((transfer, index) => ({
    ...transfer,
    flags: { ...transfer.flags, ...(index < transfers.length - 1 ? { linked: true } : {}) },
  }));
}
