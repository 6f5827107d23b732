import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports.
//
// Group commit: the PostgreSQL adapter gathers appends that arrive while another is in flight and
// stores them in one call and one transaction (src/eventstore/postgres/append-batcher.ts). Each item
// keeps the exact semantics of eventstore_append (expected revision, idempotent retry by event ids),
// and gets its own outcome: one item's wrong expected version does not fail the others. Items are
// taken in stream order (byte order), so two batches lock stream rows in the same order and cannot
// deadlock; items of one stream keep their arrival order. An error raised by any item fails the
// whole call, and the adapter then appends each item alone.
//
// The append rules live once, in eventstore_append_item (the body of eventstore_append as of
// migration 2026-11-25T1520, without its guard); eventstore_append is redefined as the guard plus
// one item, eventstore_append_batch as the guard plus a loop over items.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION eventstore_append_item(
      p_stream text, p_expected_kind smallint, p_expected bigint, p_events jsonb
    ) RETURNS TABLE (outcome text, next_revision bigint, txid text, last_position bigint, actual bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_count bigint := jsonb_array_length(p_events);
      v_first_id uuid := (p_events -> 0 ->> 'id')::uuid;
      v_last bigint;
      v_matched bigint;
    BEGIN
      PERFORM 1 FROM eventstore_events e WHERE e.event_id = v_first_id;
      IF FOUND THEN
        SELECT count(*), max(e.revision) INTO v_matched, v_last
          FROM eventstore_events e
          JOIN jsonb_array_elements(p_events) AS x(item) ON e.event_id = (x.item ->> 'id')::uuid
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

  await sql`
    CREATE OR REPLACE FUNCTION eventstore_append(
      p_stream text, p_expected_kind smallint, p_expected bigint, p_events jsonb
    ) RETURNS TABLE (outcome text, next_revision bigint, txid text, last_position bigint, actual bigint)
    LANGUAGE plpgsql AS $fn$
    BEGIN
      IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'eventstore_append must run before anything else in its transaction writes'
          USING ERRCODE = '25001';
      END IF;
      RETURN QUERY SELECT * FROM eventstore_append_item(p_stream, p_expected_kind, p_expected, p_events);
    END
    $fn$`.execute(db);

  await sql`
    CREATE FUNCTION eventstore_append_batch(p_batch jsonb)
    RETURNS TABLE (idx integer, outcome text, next_revision bigint, txid text, last_position bigint, actual bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_item jsonb;
      v_idx integer;
    BEGIN
      IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'eventstore_append_batch must run before anything else in its transaction writes'
          USING ERRCODE = '25001';
      END IF;
      FOR v_item, v_idx IN
        SELECT x.item, x.ord::integer FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS x(item, ord)
         ORDER BY x.item ->> 's' COLLATE "C", x.ord
      LOOP
        RETURN QUERY SELECT v_idx, r.outcome, r.next_revision, r.txid, r.last_position, r.actual
          FROM eventstore_append_item(v_item ->> 's', (v_item ->> 'k')::smallint, (v_item ->> 'e')::bigint, v_item -> 'ev') AS r;
      END LOOP;
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // eventstore_append keeps its behaviour through eventstore_append_item, which therefore stays.
  await sql`DROP FUNCTION IF EXISTS eventstore_append_batch(jsonb)`.execute(db);
}
