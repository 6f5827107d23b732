import type { Generated } from 'kysely';

/** Tables of the PostgreSQL event store (migration 2026-11-25T1400_eventstore). */
export interface EventstoreEventsTable {
  global_position: Generated<bigint>;
  transaction_id: Generated<string>;
  stream_id: string;
  revision: bigint;
  event_id: string;
  type: string;
  data: unknown;
  metadata: unknown;
  created_at: Generated<Date>;
}

export interface EventstoreStreamsTable {
  stream_id: string;
  revision: bigint;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface EventstoreDataKeysTable {
  subject_id: string;
  wrapped_key: Buffer;
  created_at: Generated<Date>;
}

export interface EventstoreErasuresTable {
  subject_id: string;
  erased_at: Generated<Date>;
}

export interface EventStoreTables {
  eventstore_events: EventstoreEventsTable;
  eventstore_streams: EventstoreStreamsTable;
  eventstore_data_keys: EventstoreDataKeysTable;
  eventstore_erasures: EventstoreErasuresTable;
}
