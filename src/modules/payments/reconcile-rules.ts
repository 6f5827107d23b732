/**
 * Reconciliation matching (pure): the provider's statement against our own records of the same
 * provider and period (payment attempts and payouts, with what the ledger booked on the
 * provider's clearing account), matched by the provider's reference.
 */
export const RECONCILIATION_STATUSES = [
  'MATCHED',
  'MATCHED_WITHIN_TOLERANCE',
  'EXPECTED',
  'MISSING_AT_PROVIDER',
  'MISSING_IN_LEDGER',
  'AMOUNT_MISMATCH',
  'STATUS_MISMATCH',
  'DUPLICATE',
] as const;
export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number];
/** What needs a person: everything but the matches and what is still on its way. */
export const EXCEPTION_STATUSES: ReadonlySet<ReconciliationStatus> = new Set([
  'MISSING_AT_PROVIDER',
  'MISSING_IN_LEDGER',
  'AMOUNT_MISMATCH',
  'STATUS_MISMATCH',
  'DUPLICATE',
]);

/** Detail prefix of a collection whose provider amount differs from the request (booked as proven: nothing to correct). */
export const REQUESTED_AMOUNT_DIFFERS = 'provider reports';

export type LineKind = 'collection' | 'disbursement';

export interface ProviderLine {
  reference: string;
  /** Our reference as the provider's statement carries it (CamPay), when it does. */
  externalReference?: string;
  kind: LineKind;
  amountMinor: bigint;
  feeMinor: bigint;
  status: 'PENDING' | 'SUCCESSFUL' | 'FAILED';
}

export interface InternalLine {
  reference: string;
  internalId: string;
  kind: LineKind;
  /** What the ledger booked on the clearing account for it; null when nothing was booked. */
  ledgerMinor: bigint | null;
  /** What we asked the payer for (collections): a provider reporting another amount is an exception. */
  requestedMinor?: bigint;
  feeMinor: bigint | null;
  status: 'PENDING' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED' | 'EXPIRED';
}

export interface ReconciliationItem {
  status: ReconciliationStatus;
  kind: LineKind;
  reference: string;
  internalId: string | null;
  providerAmountMinor: bigint | null;
  ledgerAmountMinor: bigint | null;
  providerFeeMinor: bigint | null;
  providerStatus: string | null;
  internalStatus: string | null;
  detail: string;
}

const IN_FLIGHT = new Set(['PENDING', 'PROCESSING']);
const DEAD = new Set(['FAILED', 'EXPIRED']);

function groupBy<T extends { reference: string }>(lines: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const line of lines) groups.set(line.reference, [...(groups.get(line.reference) ?? []), line]);
  return groups;
}

function both(
  provider: ProviderLine,
  internal: InternalLine,
  toleranceMinor: bigint,
): Pick<ReconciliationItem, 'status' | 'detail'> {
  const p = provider.status;
  const i = internal.status;
  if (p === 'SUCCESSFUL' && i === 'SUCCEEDED') {
    if (internal.ledgerMinor === null)
      return { status: 'MISSING_IN_LEDGER', detail: 'succeeded on both sides but not booked in the ledger' };
    if (internal.ledgerMinor !== provider.amountMinor)
      return {
        status: 'AMOUNT_MISMATCH',
        detail: `provider ${provider.amountMinor}, ledger ${internal.ledgerMinor}`,
      };
    if (internal.requestedMinor !== undefined && provider.amountMinor !== internal.requestedMinor)
      return {
        status: 'AMOUNT_MISMATCH',
        detail: `${REQUESTED_AMOUNT_DIFFERS} ${provider.amountMinor} for a request of ${internal.requestedMinor}; ledger ${internal.ledgerMinor}`,
      };
    const feeGap = provider.feeMinor - (internal.feeMinor ?? 0n);
    if (feeGap === 0n) return { status: 'MATCHED', detail: 'amount and fee agree' };
    const absolute = feeGap < 0n ? -feeGap : feeGap;
    return absolute <= toleranceMinor
      ? { status: 'MATCHED_WITHIN_TOLERANCE', detail: `fee differs by ${feeGap} (within ${toleranceMinor})` }
      : { status: 'AMOUNT_MISMATCH', detail: `fee differs by ${feeGap}` };
  }
  if (IN_FLIGHT.has(i) || (p === 'PENDING' && i !== 'SUCCEEDED'))
    return { status: 'EXPECTED', detail: `provider ${p}, ours ${i}: not settled yet` };
  if (p === 'FAILED' && DEAD.has(i))
    return { status: 'MATCHED', detail: 'failed on both sides, no money moved' };
  return { status: 'STATUS_MISMATCH', detail: `provider ${p}, ours ${i}` };
}

function providerOnly(line: ProviderLine): Pick<ReconciliationItem, 'status' | 'detail'> {
  if (line.status === 'SUCCESSFUL')
    return { status: 'MISSING_IN_LEDGER', detail: 'money moved at the provider with no record of ours' };
  if (line.status === 'PENDING')
    return { status: 'EXPECTED', detail: 'pending at the provider, unknown to us' };
  return { status: 'MATCHED', detail: 'failed at the provider, no money moved' };
}

function internalOnly(line: InternalLine): Pick<ReconciliationItem, 'status' | 'detail'> {
  if (line.status === 'SUCCEEDED')
    return { status: 'MISSING_AT_PROVIDER', detail: 'booked by us, absent from the provider statement' };
  if (IN_FLIGHT.has(line.status))
    return { status: 'EXPECTED', detail: 'in flight, not on the statement yet' };
  return { status: 'MATCHED', detail: `${line.status.toLowerCase()} on our side, no money moved` };
}

export function reconcile(
  providerLines: readonly ProviderLine[],
  internalLines: readonly InternalLine[],
  options: { toleranceMinor: bigint },
): ReconciliationItem[] {
  const providers = groupBy(providerLines);
  const internals = groupBy(internalLines);
  const references = [...new Set([...providers.keys(), ...internals.keys()])].sort();
  return references.map((reference): ReconciliationItem => {
    const p = providers.get(reference) ?? [];
    const i = internals.get(reference) ?? [];
    const first = p[0];
    const mine = i[0];
    const base = {
      kind: (first?.kind ?? mine?.kind)!,
      reference,
      internalId: mine?.internalId ?? null,
      providerAmountMinor: first?.amountMinor ?? null,
      ledgerAmountMinor: mine?.ledgerMinor ?? null,
      providerFeeMinor: first?.feeMinor ?? null,
      providerStatus: first?.status ?? null,
      internalStatus: mine?.status ?? null,
    };
    if (p.length > 1 || i.length > 1)
      return {
        ...base,
        status: 'DUPLICATE',
        detail: `${p.length} provider line(s), ${i.length} record(s) of ours for one reference`,
      };
    if (first !== undefined && mine !== undefined)
      return { ...base, ...both(first, mine, options.toleranceMinor) };
    if (first !== undefined) return { ...base, ...providerOnly(first) };
    return { ...base, ...internalOnly(mine!) };
  });
}
