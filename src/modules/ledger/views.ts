import Type from 'typebox';
import type { VerifyReport } from '../../../ledger/audit/verify.js';
import type { ProjectedEntry, TrialBalanceRow } from '../../../ledger/projections/queries.js';
import { CURRENCIES, type Currency, type TrialBalanceLine } from '../../../ledger/rules/index.js';
import type { LedgerAccountView } from '../../../ledger/writer/index.js';
import { ledgerErrors } from './errors.js';

/**
 * JSON shapes of the ledger admin API. Amounts are integers in minor units (checked within the
 * safe range here, at the boundary); nanosecond timestamps exceed it, so they travel as decimal
 * strings beside an ISO time.
 */
export function jsonInteger(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw ledgerErrors.of('internal', 'amount_out_of_range', 'An amount exceeds what JSON carries exactly.');
  }
  return Number(value);
}

const isoOfNs = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString();

const Amount = Type.Integer({ description: 'minor units (XAF: francs, USD: cents, PTS: points)' });

export const BalancesSchema = Type.Object({
  debitsPending: Amount,
  debitsPosted: Amount,
  creditsPending: Amount,
  creditsPosted: Amount,
});

export const AccountSchema = Type.Object({
  id: Type.String(),
  currency: Type.Union(CURRENCIES.map((currency) => Type.Literal(currency))),
  kind: Type.String(),
  flags: Type.Object({
    debitsMustNotExceedCredits: Type.Boolean(),
    creditsMustNotExceedDebits: Type.Boolean(),
  }),
  balances: BalancesSchema,
  availableMinor: Type.Integer({ description: 'credits posted − debits posted − debits pending' }),
  closed: Type.Boolean(),
});

export const EntrySchema = Type.Object({
  entryNo: Type.Integer(),
  transferId: Type.String(),
  eventRevision: Type.Integer(),
  timestamp: Type.String({ format: 'date-time' }),
  timestampNs: Type.String({ pattern: '^[0-9]+$' }),
  code: Type.String(),
  side: Type.Union([Type.Literal('debit'), Type.Literal('credit')]),
  phase: Type.String({ description: 'posted, pending, post_pending, void_pending or expired' }),
  amountMinor: Amount,
  releasedMinor: Type.Integer({ description: 'for post/void/expiry: the hold released' }),
  counterpartyAccountId: Type.String(),
  balanceAfter: BalancesSchema,
  userData: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
});

export const TrialLineSchema = Type.Object({
  currency: Type.String(),
  debitsPosted: Amount,
  creditsPosted: Amount,
  debitsPending: Amount,
  creditsPending: Amount,
  balanced: Type.Boolean(),
});

export const TrialBalanceSchema = Type.Object({
  source: Type.Literal('read_model'),
  asOf: Type.Union([Type.Object({ revision: Type.Integer(), hash: Type.String() }), Type.Null()]),
  currencies: Type.Array(Type.Intersect([TrialLineSchema, Type.Object({ accounts: Type.Integer() })])),
});

export const FindingSchema = Type.Object({
  kind: Type.String(),
  detail: Type.String(),
  event: Type.Optional(Type.Object({ revision: Type.Integer(), id: Type.String() })),
  transferId: Type.Optional(Type.String()),
  accountId: Type.Optional(Type.String()),
});

export const VerifySchema = Type.Object({
  ok: Type.Boolean(),
  stream: Type.String(),
  events: Type.Integer(),
  transfers: Type.Integer(),
  accounts: Type.Integer(),
  finalHash: Type.String(),
  trialBalance: Type.Array(TrialLineSchema),
  mismatches: Type.Array(FindingSchema),
  projection: Type.Object({
    compared: Type.Boolean(),
    revision: Type.Union([Type.Integer(), Type.Null()]),
    lagEvents: Type.Integer(),
  }),
  snapshotRevision: Type.Union([Type.Integer(), Type.Null()]),
  durationMs: Type.Integer(),
});

const balances = (line: {
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
}) => ({
  debitsPending: jsonInteger(line.debitsPending),
  debitsPosted: jsonInteger(line.debitsPosted),
  creditsPending: jsonInteger(line.creditsPending),
  creditsPosted: jsonInteger(line.creditsPosted),
});

export function accountView(account: LedgerAccountView) {
  return {
    id: account.id,
    currency: account.currency,
    kind: account.kind,
    flags: { ...account.flags },
    balances: balances(account),
    availableMinor: jsonInteger(account.availableMinor),
    closed: account.closed === true,
  };
}

export function entryView(entry: ProjectedEntry) {
  return {
    entryNo: jsonInteger(entry.entryNo),
    transferId: entry.transferId,
    eventRevision: jsonInteger(entry.eventRevision),
    timestamp: isoOfNs(entry.timestampNs),
    timestampNs: entry.timestampNs.toString(),
    code: entry.code,
    side: entry.side,
    phase: entry.phase,
    amountMinor: jsonInteger(entry.amountMinor),
    releasedMinor: jsonInteger(entry.releasedMinor),
    counterpartyAccountId: entry.counterpartyAccountId,
    balanceAfter: balances(entry),
    userData: entry.userData,
  };
}

export function trialLine(currency: string, line: TrialBalanceLine) {
  return {
    currency,
    debitsPosted: jsonInteger(line.debitsPosted),
    creditsPosted: jsonInteger(line.creditsPosted),
    debitsPending: jsonInteger(line.debitsPending),
    creditsPending: jsonInteger(line.creditsPending),
    balanced: line.debitsPosted === line.creditsPosted && line.debitsPending === line.creditsPending,
  };
}

export function trialBalanceView(
  rows: readonly TrialBalanceRow[],
  head: { revision: bigint; hash: string } | null,
) {
  return {
    source: 'read_model' as const,
    asOf: head === null ? null : { revision: jsonInteger(head.revision), hash: head.hash },
    currencies: rows.map((row) => ({ ...trialLine(row.currency, row), accounts: jsonInteger(row.accounts) })),
  };
}

export function verifyView(report: VerifyReport) {
  return {
    ok: report.ok,
    stream: report.stream,
    events: report.events,
    transfers: report.transfers,
    accounts: report.accounts,
    finalHash: report.finalHash,
    trialBalance: CURRENCIES.map((currency: Currency) => trialLine(currency, report.trialBalance[currency])),
    mismatches: report.mismatches.map((finding) => ({
      kind: finding.kind,
      detail: finding.detail,
      ...(finding.event === undefined
        ? {}
        : { event: { revision: jsonInteger(finding.event.revision), id: finding.event.id } }),
      ...(finding.transferId === undefined ? {} : { transferId: finding.transferId }),
      ...(finding.accountId === undefined ? {} : { accountId: finding.accountId }),
    })),
    projection: {
      compared: report.projection.compared,
      revision: report.projection.revision === null ? null : jsonInteger(report.projection.revision),
      lagEvents: report.projection.lagEvents,
    },
    snapshotRevision: report.snapshotRevision === null ? null : jsonInteger(report.snapshotRevision),
    durationMs: report.durationMs,
  };
}

/** Statement cursors: the entry number to continue before, opaque to clients. */
export function encodeEntryCursor(entryNo: bigint): string {
  return Buffer.from(`e:${entryNo}`, 'utf8').toString('base64url');
}

export function decodeEntryCursor(cursor: string): bigint {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^e:([1-9][0-9]{0,17})$/.exec(text);
  if (match === null) throw ledgerErrors.of('validation', 'invalid_cursor', 'The cursor is malformed.');
  return BigInt(match[1]!);
}
