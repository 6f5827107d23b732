import type { Transaction } from 'kysely';
import type { EventFilter, RecordedEvent } from '../src/eventstore/index.js';

/**
 * The transaction a handler writes in, on the handle the runner was given. Typed `any` on purpose:
 * a projection's tables live in its generation's schema and are in no table map (handlers write
 * them with `sql`), and a context's handler may take it as its own application-wide type, which
 * the runner must not know.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type ProjectionTransaction = Transaction<any>;

/**
 * A named, versioned read model (docs/architecture.md, decision 7). Each generation of a projection lives in its own
 * PostgreSQL schema (`proj_<name>_g<generation>`); readers query views in `public` named after
 * `tables`, which the runner points at the active generation and swaps atomically on rebuild.
 *
 * Handlers write with `context.db.withSchema(context.schema)` (or `sql.id(context.schema, table)`),
 * in the transaction that also stores the checkpoint: the effect happens exactly once.
 */
export interface ProjectionContext {
  db: ProjectionTransaction;
  /** The generation's schema; write every table through it. */
  schema: string;
}

export interface ProjectionDefinition {
  /** Lower-case letters, digits and underscores; at most 40 characters. */
  name: string;
  /** Raise it when the tables or the handler change meaning: a new version rebuilds with no downtime. */
  version: number;
  /** The views this projection serves in `public` (each a table of the same name in its schema). */
  tables: readonly string[];
  /** Only these events reach the handler (the checkpoint still moves past the others). */
  filter?: EventFilter;
  /** Creates the tables in `context.schema` (runs once per generation). */
  setup(context: ProjectionContext): Promise<void>;
  /**
   * Applies events in order. Implement `handleBatch` for throughput (one multi-row statement per
   * batch) or `handle` per event; events already applied (by stream and revision) never arrive twice.
   */
  handle?(event: RecordedEvent, context: ProjectionContext): Promise<void>;
  handleBatch?(events: RecordedEvent[], context: ProjectionContext): Promise<void>;
}

export type GenerationStatus = 'building' | 'active' | 'retired';

export interface ProjectionStatus {
  name: string;
  version: number;
  generation: number;
  status: GenerationStatus;
  schema: string;
  position: string | null;
  eventsProcessed: number;
  lastEventAt: string | null;
  failed: { at: string; event: unknown; error: string } | null;
  lagEvents: number | null;
  lagSeconds: number | null;
  running: boolean;
}
