import { sql, type Kysely } from 'kysely';
import type { LedgerTables } from './tables.js';

/**
 * The relay's SQL over `ledger_relay` (migration 2026-12-04T2300_ledger_relay): each statement is
 * one round trip, and the NOTIFYs go in the statement that makes their row visible.
 */

/** Every instance LISTENs here; a NOTIFY says a call is waiting. */
export const CALL_CHANNEL = 'ledger_relay';

export type RelayKind = 'submit' | 'account' | 'ping';

export interface ClaimedCall {
  id: string;
  kind: RelayKind;
  payload: string;
  reply_to: string;
}

/** Inserts a call and wakes the instances (the holder claims it). */
export async function insertCall(
  db: Kysely<LedgerTables>,
  call: { id: string; stream: string; kind: RelayKind; payload: string; replyTo: string },
): Promise<void> {
  await sql`
    WITH call AS (
      INSERT INTO ledger_relay (id, stream, kind, payload, reply_to)
      VALUES (${call.id}, ${call.stream}, ${call.kind}, ${call.payload}, ${call.replyTo}) RETURNING id)
    SELECT pg_notify(${CALL_CHANNEL}, '') FROM call`.execute(db);
}

/**
 * Claims up to `limit` waiting calls of the stream, oldest first, skipping rows another holder
 * has locked: unclaimed ones; another instance's claim it never answered after `reclaimAfterMs`
 * (it died); this instance's own only after ten times as long (it may still be running it).
 */
export async function claimCalls(
  db: Kysely<LedgerTables>,
  options: { stream: string; instance: string; reclaimAfterMs: number; limit: number },
): Promise<ClaimedCall[]> {
  const { stream, instance, reclaimAfterMs, limit } = options;
  const claimed = await sql<ClaimedCall>`
    UPDATE ledger_relay SET claimed_at = now(), claimed_by = ${instance}
     WHERE id IN (SELECT id FROM ledger_relay
                   WHERE stream = ${stream} AND answer IS NULL
                     AND (claimed_at IS NULL
                          OR (claimed_by IS DISTINCT FROM ${instance}
                              AND claimed_at < now() - make_interval(secs => ${reclaimAfterMs / 1000}))
                          OR claimed_at < now() - make_interval(secs => ${(reclaimAfterMs * 10) / 1000}))
                   ORDER BY created_at
                   LIMIT ${limit}
                   FOR UPDATE SKIP LOCKED)
    RETURNING id, kind, payload, reply_to`.execute(db);
  return claimed.rows;
}

/** Gives claimed calls back (a holder closing): the next holder claims them at once. */
export async function releaseClaims(db: Kysely<LedgerTables>, ids: readonly string[]): Promise<void> {
  await sql`UPDATE ledger_relay SET claimed_at = NULL, claimed_by = NULL
             WHERE id = ANY(${ids}::uuid[]) AND answer IS NULL`.execute(db);
}

/** Stores each answer (the first one wins) and NOTIFYs each caller's channel with its call's id. */
export async function storeAnswers(
  db: Kysely<LedgerTables>,
  answers: readonly { id: string; answer: string }[],
): Promise<void> {
  await sql`
    WITH answered AS (
      UPDATE ledger_relay r SET answer = a.answer, answered_at = now()
        FROM unnest(${answers.map((a) => a.id)}::uuid[], ${answers.map((a) => a.answer)}::text[])
             AS a(id, answer)
       WHERE r.id = a.id AND r.answer IS NULL
      RETURNING r.id, r.reply_to)
    SELECT count(pg_notify(reply_to, id::text)) FROM answered`.execute(db);
}

/** Deletes the answered calls among `ids` and returns their answers (the caller reads each once). */
export async function takeAnswers(
  db: Kysely<LedgerTables>,
  ids: readonly string[],
): Promise<{ id: string; answer: string }[]> {
  const answered = await sql<{ id: string; answer: string }>`
    DELETE FROM ledger_relay WHERE id = ANY(${ids}::uuid[]) AND answer IS NOT NULL
    RETURNING id, answer`.execute(db);
  return answered.rows;
}

/**
 * Deletes a call whose caller stopped waiting. `absent`: nothing to delete (already taken);
 * `unclaimed`: it never ran; `claimed`: a holder may be running it; `answered`: the answer came.
 */
export async function withdrawCall(
  db: Kysely<LedgerTables>,
  id: string,
): Promise<{ state: 'absent' | 'unclaimed' | 'claimed' } | { state: 'answered'; answer: string }> {
  const withdrawn = await sql<{ claimed: boolean; answer: string | null }>`
    DELETE FROM ledger_relay WHERE id = ${id}
    RETURNING claimed_at IS NOT NULL AS claimed, answer`.execute(db);
  const row = withdrawn.rows[0];
  if (row === undefined) return { state: 'absent' };
  if (row.answer !== null) return { state: 'answered', answer: row.answer };
  return { state: row.claimed ? 'claimed' : 'unclaimed' };
}
