import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Claiming a notification's send on a channel took six
// round trips (begin, the recipient's advisory lock, the existing claim, the hourly count, the
// insert, commit); under load they were a tenth of all the statements an order costs. One call,
// `notify_claim_delivery`, does the same in one statement, with the same lock, so two workers
// still cannot both pass a recipient's hourly cap. Each statement inside the function takes a
// fresh snapshot (a volatile function under READ COMMITTED), so the count after the lock sees
// every claim committed before it. The answer is claimed, busy, done or capped.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION notify_claim_delivery(
      p_id text, p_intent uuid, p_recipient uuid, p_channel text, p_priority text,
      p_allowance integer, p_now timestamptz, p_lease_ms integer
    ) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE
      existing record;
      sent bigint;
      fresh text := 'sending';
    BEGIN
      IF p_allowance IS NULL THEN
        -- Uncapped (critical): no count to keep, so no lock to take; the key alone makes it once.
        INSERT INTO notification_deliveries (id, intent_id, recipient_id, channel, priority, status, claimed_at, updated_at)
        VALUES (p_id, p_intent, p_recipient, p_channel, p_priority, 'sending', p_now, p_now)
        ON CONFLICT (id) DO NOTHING;
        IF FOUND THEN RETURN 'claimed'; END IF;
      END IF;
      PERFORM pg_advisory_xact_lock(hashtextextended('notify:' || p_recipient::text, 0));
      SELECT status, claimed_at INTO existing FROM notification_deliveries WHERE id = p_id;
      IF FOUND THEN
        IF existing.status IN ('sent', 'capped') THEN RETURN 'done'; END IF;
        IF existing.status = 'sending' AND p_now - existing.claimed_at < make_interval(secs => p_lease_ms / 1000.0) THEN
          RETURN 'busy';
        END IF;
        -- A failed try (transient) or a lost claim: this worker takes it.
        UPDATE notification_deliveries SET status = 'sending', claimed_at = p_now, updated_at = p_now, reason = NULL
         WHERE id = p_id;
        RETURN 'claimed';
      END IF;
      IF p_allowance IS NOT NULL THEN
        SELECT count(*) INTO sent FROM notification_deliveries
         WHERE recipient_id = p_recipient AND status IN ('sending', 'sent') AND priority <> 'critical'
           AND claimed_at > p_now - interval '1 hour';
        IF sent >= p_allowance THEN fresh := 'capped'; END IF;
      END IF;
      INSERT INTO notification_deliveries (id, intent_id, recipient_id, channel, priority, status, claimed_at, updated_at)
      VALUES (p_id, p_intent, p_recipient, p_channel, p_priority, fresh, p_now, p_now);
      RETURN CASE WHEN fresh = 'capped' THEN 'capped' ELSE 'claimed' END;
    END
    $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS notify_claim_delivery(text, uuid, uuid, text, text, integer, timestamptz, integer)`.execute(
    db,
  );
}
