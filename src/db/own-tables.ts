import type { Kysely, Transaction } from 'kysely';

/**
 * The same connection, typed against only the tables a component owns. Infrastructure (event
 * store, projection runner, ledger writer) is typed against its own tables and knows nothing of
 * the application's `Database`; yet Kysely is invariant in its table map, so `Kysely<Database>` is
 * not assignable to `Kysely<LedgerTables>` although it holds those tables. Such a component's
 * entry point takes `Kysely<DB>` with `DB extends LedgerTables` (checked at the call) and views it
 * through this function, which changes the type only.
 */
export function ownTables<Tables, DB extends Tables>(db: Transaction<DB>): Transaction<Tables>;
export function ownTables<Tables, DB extends Tables>(db: Kysely<DB>): Kysely<Tables>;
export function ownTables<Tables, DB extends Tables>(db: Kysely<DB>): Kysely<Tables> {
  return db as unknown as Kysely<Tables>;
}

/**
 * A transaction another context opened on the same database, lent so that a write commits or
 * rolls back with the lender's work (an audit entry with the change it records, a stock
 * reservation with the order it holds for). The borrower writes only its own tables; this
 * changes the type only, to the borrower's tables.
 */
export function borrowTransaction<Tables, Lender>(transaction: Transaction<Lender>): Transaction<Tables> {
  return transaction as unknown as Transaction<Tables>;
}
