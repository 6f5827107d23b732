/**
 * The migration of fraud signals to one row per evaluated event (2026-12-06T1131): rows of the old
 * shape (one per rule and event) fold into one per event holding its rules, its account and its
 * phone's keyed index, and down() expands them back. Real PostgreSQL, a database of its own.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as migration from '../../../src/db/migrations/2026-12-06T1131_admin_fraud_evaluations.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
}, 120_000);
afterAll(async () => database?.drop());

describe('fraud signals, one row per event', () => {
  it('folds the rules of each event into one row and expands them back', async () => {
    const db = database.db;
    await migration.down(db);
    const user = randomUUID();
    const at = new Date('2026-12-01T10:00:00Z');
    const old = [
      ['failed_payments_per_account', 'event-1', `user:${user}`, user],
      ['failed_payments_per_phone', 'event-1', 'phone:abc', user],
      ['orders_per_account', 'event-2', `user:${user}`, user],
      ['failed_payments_per_phone', 'event-3', 'phone:def', null],
    ] as const;
    for (const [rule, source, subject, userId] of old)
      await sql`INSERT INTO admin_fraud_signals (rule, source_id, subject, user_id, at)
        VALUES (${rule}, ${source}, ${subject}, ${userId}, ${at})`.execute(db);

    await migration.up(db);
    const rows = await db.selectFrom('admin_fraud_signals').selectAll().orderBy('source_id').execute();
    expect(rows.map((row) => ({ ...row, rules: [...row.rules].sort() }))).toEqual([
      {
        source_id: 'event-1',
        user_id: user,
        phone_subject: 'phone:abc',
        rules: ['failed_payments_per_account', 'failed_payments_per_phone'],
        at,
      },
      { source_id: 'event-2', user_id: user, phone_subject: null, rules: ['orders_per_account'], at },
      {
        source_id: 'event-3',
        user_id: null,
        phone_subject: 'phone:def',
        rules: ['failed_payments_per_phone'],
        at,
      },
    ]);

    await migration.down(db);
    const back = await sql<{ rule: string; source_id: string; subject: string; user_id: string | null }>`
      SELECT rule, source_id, subject, user_id FROM admin_fraud_signals ORDER BY source_id, rule`.execute(db);
    expect(back.rows.map((row) => [row.rule, row.source_id, row.subject, row.user_id])).toEqual(
      old.map((row) => [...row]),
    );
    await migration.up(db);
  });
});
