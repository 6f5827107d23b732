/**
 * The database's table types in one place. Each bounded context declares its tables in its own
 * `tables.ts` and is joined here, so a query anywhere is checked against the migrated schema.
 */
import type { FoundationTables } from './foundation-tables.js';
import type { CatalogTables } from '../modules/catalog/tables.js';
import type { EventStoreTables } from '../eventstore/tables.js';
import type { IdentityTables } from '../modules/identity/tables.js';
import type { NotificationTables } from '../modules/notifications/tables.js';
import type { LedgerTables } from '../../ledger/writer/tables.js';
import type { OrderTables } from '../modules/orders/tables.js';
import type { PaymentTables } from '../modules/payments/tables.js';
import type { ProjectionTables } from '../../projections/tables.js';

export interface Database
  extends
    FoundationTables,
    CatalogTables,
    EventStoreTables,
    ProjectionTables,
    IdentityTables,
    NotificationTables,
    OrderTables,
    LedgerTables,
    PaymentTables {}
