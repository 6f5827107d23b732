import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_PROJECTION } from '../../ledger/projections/index.js';
import { transferReportQuery } from '../../ledger/projections/queries.js';
import { ledgerSeedStep } from '../../src/modules/ledger/seed.js';
import { TRANSACTION_REPORT_COLUMNS } from '../../src/modules/ledger/transaction-report.js';
import { up as addTimeIndex } from '../../src/db/migrations/2026-12-06T0815_ledger_entries_time_index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../helpers/auth.js';

let testApp: TestApp;
let admin: CreatedUser;
let customer: CreatedUser;
const url = '/v1/admin/ledger/reports/transactions.csv';
const iso = (offsetDays: number) =>
  encodeURIComponent(new Date(Date.now() + offsetDays * 86_400_000).toISOString());
const wholeYear = `from=${iso(-300)}&to=${iso(1)}`;

beforeAll(async () => {
  testApp = await createTestApp();
  admin = await createUser(testApp, { roles: ['admin'] });
  customer = await createUser(testApp, { roles: ['customer'] });
  await ledgerSeedStep.run(testApp.services);
  await testApp.services.projections.waitUntilCaughtUp(LEDGER_PROJECTION, 20_000);
}, 120_000);
afterAll(async () => testApp.close());

const get = (query: string, token: string | null = admin.accessToken) =>
  testApp.app.inject({
    method: 'GET',
    url: `${url}?${query}`,
    headers: token === null ? {} : authHeader(token),
  });

const rowsOf = (body: string, delimiter = ',') =>
  body
    .replace(/^\uFEFF/, '')
    .split('\r\n')
    .filter((line) => line !== '')
    .map((line) => line.split(delimiter));

describe('transaction report (CSV from the ledger)', () => {
  it('lists every transfer of the period once, oldest first, with its accounts, amount and references', async () => {
    const response = await get(wholeYear);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toMatch(
      /^attachment; filename="transactions-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(response.body.startsWith('\uFEFF')).toBe(true);
    const [header, ...lines] = rowsOf(response.body);
    expect(header).toEqual([...TRANSACTION_REPORT_COLUMNS]);
    const transfers = await sql<{
      count: string;
    }>`SELECT count(DISTINCT transfer_id)::text AS count FROM ledger_entries`.execute(testApp.services.db);
    expect(lines.length).toBe(Number(transfers.rows[0]!.count));
    expect(new Set(lines.map((line) => line[2])).size).toBe(lines.length);
    const booked = lines.map((line) => Date.parse(line[0]!));
    expect([...booked].sort((a, b) => a - b)).toEqual(booked);
    for (const line of lines) {
      expect(line).toHaveLength(TRANSACTION_REPORT_COLUMNS.length);
      expect(line[7]).toMatch(/^(XAF|PTS|USD)$/);
      expect(line[8]).toMatch(/^[1-9]\d*$/);
      // The Douala date is the UTC instant one hour later.
      expect(line[1]).toBe(new Date(Date.parse(line[0]!) + 3_600_000).toISOString().slice(0, 10));
    }
    // The demo's captured order payment names its order (from the transfer's user data).
    expect(lines.some((line) => line[3] === 'payment_capture' && line[10] !== '')).toBe(true);
  });

  it('a period excludes transfers outside it; semicolons on request', async () => {
    const all = rowsOf((await get(wholeYear)).body).slice(1);
    const middle = all[Math.floor(all.length / 2)]!;
    const from = encodeURIComponent(middle[0]!);
    const later = rowsOf((await get(`from=${from}&to=${iso(1)}`)).body).slice(1);
    expect(later.length).toBeGreaterThan(0);
    expect(later.length).toBeLessThan(all.length);
    expect(later.every((line) => Date.parse(line[0]!) >= Date.parse(middle[0]!))).toBe(true);
    const none = rowsOf((await get('from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z')).body);
    expect(none).toEqual([[...TRANSACTION_REPORT_COLUMNS]]);
    const semicolon = await get(`${wholeYear}&delimiter=semicolon`);
    expect(rowsOf(semicolon.body, ';')[0]).toEqual([...TRANSACTION_REPORT_COLUMNS]);
  });

  it('reads the time index (the plan names ledger_entries_debit_time_idx and sorts nothing); the migration adds it to an existing generation', async () => {
    // A generation built before the index existed: the migration adds it (and again is harmless).
    const db = testApp.services.db;
    const active = await sql<{ schema_name: string }>`SELECT schema_name FROM projection_generations
      WHERE name = 'ledger' AND status = 'active'`.execute(db);
    await sql`DROP INDEX ${sql.id(active.rows[0]!.schema_name, 'ledger_entries_debit_time_idx')}`.execute(db);
    await addTimeIndex(db);
    await addTimeIndex(db);
    const plan = await testApp.services.db.transaction().execute(async (trx) => {
      // A small test table would be read whole anyway: forbid that to see whether the index serves.
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      await sql`ANALYZE ledger_entries`.execute(trx).catch(() => undefined);
      const query = transferReportQuery(
        0n,
        4_000_000_000_000_000_000n,
        { timestampNs: 1n, transferId: 'a' },
        1000,
      );
      const result = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (FORMAT JSON) ${query}`.execute(trx);
      return JSON.stringify(result.rows[0]!['QUERY PLAN']);
    });
    expect(plan).toContain('ledger_entries_debit_time_idx');
    expect(plan).not.toContain('"Node Type":"Sort"');
  });

  it('refuses a bad period (422), a bad date (400), a customer (403) and no token (401)', async () => {
    const backwards = await get('from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z');
    expect(backwards.statusCode).toBe(422);
    expect(backwards.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(backwards.json().code).toBe('invalid_period');
    expect((await get('from=2020-01-01T00:00:00Z&to=2022-01-01T00:00:00Z')).statusCode).toBe(422);
    expect((await get('from=yesterday&to=2026-01-01T00:00:00Z')).statusCode).toBe(400);
    expect((await get('from=2026-01-01T00:00:00Z')).statusCode).toBe(400);
    expect((await get(`${wholeYear}&delimiter=tab`)).statusCode).toBe(400);
    expect((await get(wholeYear, customer.accessToken)).statusCode).toBe(403);
    expect((await get(wholeYear, null)).statusCode).toBe(401);
  });
});
