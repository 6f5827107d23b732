/**
 * The database's table types in one place. Each bounded context declares its tables in its own
 * `tables.ts` and is joined here, so a query anywhere is checked against the migrated schema.
 */
import type { FoundationTables } from './foundation-tables.js';

export interface Database extends FoundationTables {}
