/**
 * A broken invariant is a bug, not an operating error: TigerStyle says crash rather than carry
 * on with balances nobody can trust. Callers must not catch this to "recover"; the writer lets
 * it take the process down and restarts from its snapshot.
 */
export class LedgerInvariantError extends Error {
  override readonly name = 'LedgerInvariantError';
}

/** Asserts an invariant; the message says what should have held. */
export function assertInvariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new LedgerInvariantError(message);
}

/**
 * Stored ledger bytes that are not a well-formed, canonical batch event. Distinct from an
 * invariant failure: the verifier reports it against the event and carries on.
 */
export class LedgerDecodeError extends Error {
  override readonly name = 'LedgerDecodeError';
}
