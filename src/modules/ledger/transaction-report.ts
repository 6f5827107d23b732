import { Readable } from 'node:stream';
import * as queries from '../../../ledger/projections/queries.js';
import { ledgerErrors } from './errors.js';

/**
 * The transaction report (issue #23, docs/ledger.md "Transaction report"): every ledger transfer
 * booked in a period, one CSV line each, oldest first, for finance and the tax authority. Read
 * from the ledger's read model (`ledger_entries`, the debit entry of each transfer) page by page
 * on its time index and streamed: memory stays one page whatever the period.
 */
export type CsvDelimiter = ',' | ';';
export const MAX_REPORT_DAYS = 366;
const PAGE = 1_000;
/** Douala is UTC+1 all year (no daylight saving): a business day is a Douala day. */
const DOUALA_OFFSET_MS = 3_600_000;
const NS_PER_MS = 1_000_000n;

export const TRANSACTION_REPORT_COLUMNS = [
  'booked_at',
  'douala_date',
  'transfer_id',
  'code',
  'phase',
  'debit_account',
  'credit_account',
  'currency',
  'amount_minor',
  'released_minor',
  'order_id',
  'payment_id',
  'payout_id',
  'ledger_revision',
] as const;

/** A spreadsheet-safe cell: quoted when needed, formulas defused (as the other exports). */
export function csvCell(value: string | bigint | null | undefined, delimiter: CsvDelimiter): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d+$/.test(text) ? `'${text}` : text;
  return /["\r\n]/.test(safe) || safe.includes(delimiter) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function checkReportPeriod(from: Date, to: Date): void {
  if (
    Number.isNaN(from.getTime()) ||
    Number.isNaN(to.getTime()) ||
    !(to > from) ||
    to.getTime() - from.getTime() > MAX_REPORT_DAYS * 86_400_000
  )
    throw ledgerErrors.of(
      'unprocessable',
      'invalid_period',
      `A report covers at most ${MAX_REPORT_DAYS} days, from before to.`,
    );
}

/** One line of the report (pure). */
export function reportLine(transfer: queries.ReportTransfer, delimiter: CsvDelimiter): string {
  const bookedMs = Number(transfer.timestampNs / NS_PER_MS);
  const reference = (key: string) => {
    const value = transfer.userData?.[key];
    return typeof value === 'string' ? value : null;
  };
  return [
    new Date(bookedMs).toISOString(),
    new Date(bookedMs + DOUALA_OFFSET_MS).toISOString().slice(0, 10),
    transfer.transferId,
    transfer.code,
    transfer.phase,
    transfer.debitAccountId,
    transfer.creditAccountId,
    transfer.currency,
    transfer.amountMinor,
    transfer.releasedMinor,
    reference('orderId'),
    reference('paymentId'),
    reference('payoutId'),
    transfer.eventRevision,
  ]
    .map((value) => csvCell(value, delimiter))
    .join(delimiter);
}

/** The CSV (UTF-8 BOM first, CRLF lines) of the transfers booked in [from, to). */
export function transactionReportCsv(
  db: queries.ReadDb,
  from: Date,
  to: Date,
  delimiter: CsvDelimiter,
): Readable {
  checkReportPeriod(from, to);
  const fromNs = BigInt(from.getTime()) * NS_PER_MS;
  const toNs = BigInt(to.getTime()) * NS_PER_MS;
  async function* lines(): AsyncGenerator<string> {
    yield `\uFEFF${TRANSACTION_REPORT_COLUMNS.join(delimiter)}\r\n`;
    if (!(await queries.projectionExists(db))) return;
    let after: { timestampNs: bigint; transferId: string } | null = null;
    for (;;) {
      const page = await queries.transferReportPage(db, fromNs, toNs, after, PAGE);
      if (page.length > 0) yield page.map((row) => `${reportLine(row, delimiter)}\r\n`).join('');
      const last = page.at(-1);
      if (page.length < PAGE || last === undefined) return;
      after = { timestampNs: last.timestampNs, transferId: last.transferId };
    }
  }
  return Readable.from(lines());
}
