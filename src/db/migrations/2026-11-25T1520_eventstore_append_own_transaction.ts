import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports.
//
// Readers may compute a database-local horizon (src/eventstore/postgres/adapter.ts): an in-progress
// transaction matters to them only if it holds a lock on eventstore_streams. That holds only if an
// append takes its transaction id inside eventstore_append, after that lock: so the function now
// refuses a transaction that already has an id (one that wrote something else first).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION eventstore_append(
      p_stream text, p_expected_kind smallint, p_expected bigint, p_events jsonb
    ) RETURNS TABLE (outcome text, next_revision bigint, txid text, last_position bigint, actual bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_count bigint := jsonb_array_length(p_events);
      v_first_id uuid := (p_events -> 0 ->> 'id')::uuid;
      v_last bigint;
      v_matched bigint;
    BEGIN
      IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'eventstore_append must run before anything else in its transaction writes'
          USING ERRCODE = '25001';
      END IF;
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

      IF p_expected_kind = 0 THEN
        INSERT INTO eventstore_streams AS s (stream_id, revision) VALUES (p_stream, v_count - 1)
          ON CONFLICT (stream_id) DO UPDATE SET revision = s.revision + v_count, updated_at = now()
          RETURNING s.revision INTO v_last;
      ELSIF p_expected_kind = 1 THEN
        INSERT INTO eventstore_streams AS s (stream_id, revision) VALUES (p_stream, v_count - 1)
          ON CONFLICT (stream_id) DO NOTHING
          RETURNING s.revision INTO v_last;
      ELSIF p_expected_kind = 2 THEN
        UPDATE eventstore_streams s SET revision = s.revision + v_count, updated_at = now()
         WHERE s.stream_id = p_stream
         RETURNING s.revision INTO v_last;
      ELSE
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
        currval('eventstore_events_global_position_seq'), NULL::bigint;
    END
    $fn$`.execute(db);
}

export async function down(): Promise<void> {
  // The earlier definition stays valid; nothing to undo beyond the guard, which is harmless.
}
