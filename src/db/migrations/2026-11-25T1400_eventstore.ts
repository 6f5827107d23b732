import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. The PostgreSQL event store (docs/architecture.md, decisions 1, 2, 7, 8).
//
// Global order: a bigserial becomes visible at commit, not at insert, so readers never read past
// `pg_snapshot_xmin(pg_current_snapshot())` and order by (transaction_id, global_position).
// One append is one round trip: eventstore_append() checks the retry, enforces the expected
// revision with a row lock on the stream and inserts every event, all in one statement.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE eventstore_streams (
      stream_id text PRIMARY KEY,
      revision bigint NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE eventstore_events (
      global_position bigserial NOT NULL,
      transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      stream_id text NOT NULL,
      revision bigint NOT NULL,
      event_id uuid NOT NULL,
      type text NOT NULL,
      data jsonb NOT NULL,
      metadata jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT eventstore_events_pk PRIMARY KEY (stream_id, revision),
      CONSTRAINT eventstore_events_event_id_key UNIQUE (event_id)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX eventstore_events_order_idx
    ON eventstore_events (transaction_id, global_position)`.execute(db);
  await sql`CREATE INDEX eventstore_events_type_idx
    ON eventstore_events (type, transaction_id, global_position)`.execute(db);

  // Outcome codes: ok, duplicate (a retry of an append already stored), wrong_expected_version,
  // duplicate_mismatch (the ids exist but not as this append wrote them).
  await sql`
    CREATE FUNCTION eventstore_append(
      p_stream text, p_expected_kind smallint, p_expected bigint, p_events jsonb
    ) RETURNS TABLE (outcome text, next_revision bigint, txid text, last_position bigint, actual bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_count bigint := jsonb_array_length(p_events);
      v_first_id uuid := (p_events -> 0 ->> 'id')::uuid;
      v_last bigint;
      v_matched bigint;
    BEGIN
      -- A retry with the same event ids returns the first result and writes nothing.
      PERFORM 1 FROM eventstore_events e WHERE e.event_id = v_first_id;
      IF FOUND THEN
        SELECT count(*), max(e.revision) INTO v_matched, v_last
          FROM eventstore_events e
          JOIN jsonb_array_elements(p_events) WITH ORDINALITY AS x(item, ord)
            ON e.event_id = (x.item ->> 'id')::uuid
         WHERE e.stream_id = p_stream;
        IF v_matched <> v_count THEN
          RETURN QUERY SELECT 'duplicate_mismatch'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::bigint;
          RETURN;
        END IF;
        RETURN QUERY SELECT 'duplicate'::text, v_last, e.transaction_id::text, e.global_position, NULL::bigint
          FROM eventstore_events e WHERE e.stream_id = p_stream AND e.revision = v_last;
        RETURN;
      END IF;

      IF p_expected_kind = 0 THEN        -- any
        INSERT INTO eventstore_streams AS s (stream_id, revision) VALUES (p_stream, v_count - 1)
          ON CONFLICT (stream_id) DO UPDATE SET revision = s.revision + v_count, updated_at = now()
          RETURNING s.revision INTO v_last;
      ELSIF p_expected_kind = 1 THEN     -- no_stream
        INSERT INTO eventstore_streams AS s (stream_id, revision) VALUES (p_stream, v_count - 1)
          ON CONFLICT (stream_id) DO NOTHING
          RETURNING s.revision INTO v_last;
      ELSIF p_expected_kind = 2 THEN     -- stream_exists
        UPDATE eventstore_streams s SET revision = s.revision + v_count, updated_at = now()
         WHERE s.stream_id = p_stream
         RETURNING s.revision INTO v_last;
      ELSE                               -- an exact revision
        UPDATE eventstore_streams s SET revision = s.revision + v_count, updated_at = now()
         WHERE s.stream_id = p_stream AND s.revision = p_expected
         RETURNING s.revision INTO v_last;
      END IF;

      IF v_last IS NULL THEN
        RETURN QUERY SELECT 'wrong_expected_version'::text, NULL::bigint, NULL::text, NULL::bigint,
          (SELECT s.revision FROM eventstore_streams s WHERE s.stream_id = p_stream);
        RETURN;
      END IF;

      INSERT INTO eventstore_events (stream_id, revision, event_id, type, data, metadata)
      SELECT p_stream, v_last - v_count + x.ord, (x.item ->> 'id')::uuid, x.item ->> 'type',
             x.item -> 'data', x.item -> 'metadata'
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(item, ord)
       ORDER BY x.ord;

      RETURN QUERY SELECT 'ok'::text, v_last, pg_current_xact_id()::text,
        currval(pg_get_serial_sequence('eventstore_events', 'global_position')), NULL::bigint;
    END
    $fn$`.execute(db);

  // Per-person data keys for crypto-shredding (docs/architecture.md, decision 8): outside the streams, deleted on erasure.
  await sql`
    CREATE TABLE eventstore_data_keys (
      subject_id text PRIMARY KEY,
      wrapped_key bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE eventstore_erasures (
      subject_id text PRIMARY KEY,
      erased_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  // Projections: one row per (name, generation); the active generation serves reads through views.
  await sql`
    CREATE TABLE projection_generations (
      name text NOT NULL,
      generation integer NOT NULL,
      version integer NOT NULL,
      schema_name text NOT NULL,
      status text NOT NULL,
      position text,
      events_processed bigint NOT NULL DEFAULT 0,
      last_event_at timestamptz,
      failed_at timestamptz,
      failed_event jsonb,
      error text,
      started_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      activated_at timestamptz,
      CONSTRAINT projection_generations_pk PRIMARY KEY (name, generation),
      CONSTRAINT projection_generations_status_check
        CHECK (status IN ('building', 'active', 'retired'))
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX projection_generations_one_active
    ON projection_generations (name) WHERE status = 'active'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS projection_generations`.execute(db);
  await sql`DROP TABLE IF EXISTS eventstore_erasures`.execute(db);
  await sql`DROP TABLE IF EXISTS eventstore_data_keys`.execute(db);
  await sql`DROP FUNCTION IF EXISTS eventstore_append(text, smallint, bigint, jsonb)`.execute(db);
  await sql`DROP TABLE IF EXISTS eventstore_events`.execute(db);
  await sql`DROP TABLE IF EXISTS eventstore_streams`.execute(db);
}
