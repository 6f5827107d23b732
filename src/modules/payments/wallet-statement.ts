/**
 * A wallet's statement: its posted entries, newest first, from the ledger's `ledger_entries`
 * projection (it may lag a moment), each with the category wallet-categories.ts decides, paged
 * by an opaque cursor.
 */
import { customerWalletId } from '../../../ledger/rules/index.js';
import { paymentsErrors } from './errors.js';
import { decodeCursor, encodeCursor } from './ids.js';
import { categoryOf, type WalletCategory } from './wallet-categories.js';
import type { WalletCurrency } from './wallet-spending.js';
import type { WalletsRepository } from './wallets-repository.js';

const MAX_PAGE = 100;

export function createWalletStatement(wallets: WalletsRepository) {
  type Cursor = { entryNo: string };
  const isCursor = (value: unknown): value is Cursor =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Cursor).entryNo === 'string' &&
    /^\d{1,19}$/.test((value as Cursor).entryNo);

  /** The wallet's statement, newest first, from the ledger's projection (it may lag a moment). */
  async function transactions(
    userId: string,
    currency: WalletCurrency,
    query: { cursor?: string; limit?: number; category?: WalletCategory },
  ) {
    const limit = Math.min(Math.max(query.limit ?? 20, 1), MAX_PAGE);
    const after = decodeCursor(query.cursor, isCursor);
    if (query.cursor !== undefined && after === undefined)
      throw paymentsErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API gave.');
    const rows = await wallets.statement(customerWalletId(userId, currency), {
      ...(after === undefined ? {} : { beforeEntry: after.entryNo }),
      ...(query.category === undefined ? {} : { category: query.category }),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({
        transferId: row.transfer_id,
        category: categoryOf(row.code, row.user_data),
        direction: row.side === 'credit' ? ('in' as const) : ('out' as const),
        amountMinor: BigInt(row.amount_minor),
        currency,
        orderId: row.user_data?.orderId ?? null,
        at: new Date(Number(BigInt(row.timestamp_ns) / 1_000_000n)).toISOString(),
      })),
      nextCursor:
        rows.length > limit && last !== undefined ? encodeCursor({ entryNo: String(last.entry_no) }) : null,
    };
  }

  return { transactions };
}
