import type { ColumnType, Generated } from 'kysely';

/**
 * The projection runner's own table (migration 2026-11-25T1400_eventstore): one row per
 * generation of each projection. The projections' read models live in their generation's schema
 * and are not typed here: each projection owns them.
 */
export interface ProjectionGenerationsTable {
  name: string;
  generation: number;
  version: number;
  schema_name: string;
  status: 'building' | 'active' | 'retired';
  position: string | null;
  events_processed: ColumnType<bigint, bigint | number | undefined, bigint | number>;
  last_event_at: Date | null;
  failed_at: Date | null;
  failed_event: unknown;
  error: string | null;
  started_at: Generated<Date>;
  updated_at: Generated<Date>;
  activated_at: Date | null;
}

export interface ProjectionTables {
  projection_generations: ProjectionGenerationsTable;
}
