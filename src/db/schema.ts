/**
 * The tables infrastructure owns: the foundation (idempotency keys, system state), the event
 * store, the projection runner and the ledger writer's snapshots. The runtime's connection is
 * typed against these only; no context's tables are known here. Each context declares its own
 * tables in its `tables.ts` (and its definition's `tables`), and the composition root
 * (src/services.ts) is the one place that merges them into the application's `Database`.
 */
import type { FoundationTables } from './foundation-tables.js';
import type { EventStoreTables } from '../eventstore/tables.js';
import type { LedgerTables } from '../../ledger/writer/tables.js';
import type { ProjectionTables } from '../../projections/tables.js';
import type { GeminiTables } from '../platform/gemini/tables.js';

export interface InfrastructureTables
  extends FoundationTables, EventStoreTables, ProjectionTables, LedgerTables, GeminiTables {}
