import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_PROJECTION } from '../../ledger/projections/index.js';
import { customerWalletId } from '../../ledger/rules/index.js';
import { ledgerSeedStep } from '../../src/modules/ledger/seed.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../helpers/auth.js';

let testApp: TestApp;
let admin: CreatedUser;
let customer: CreatedUser;

beforeAll(async () => {
  testApp = await createTestApp();
  admin = await createUser(testApp, { roles: ['admin'] });
  customer = await createUser(testApp, { roles: ['customer'] });
  await ledgerSeedStep.run(testApp.services);
  await testApp.services.projections.waitUntilCaughtUp(LEDGER_PROJECTION, 20_000);
});
afterAll(async () => testApp.close());

const inject = (method: 'GET' | 'POST', url: string, token = admin.accessToken) =>
  testApp.app.inject({ method, url, headers: authHeader(token) });

describe('ledger admin API', () => {
  it('verify replays the demo ledger, matches the read models and returns the trial balance and final hash', async () => {
    const response = await inject('POST', '/v1/admin/ledger/verify');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.mismatches).toEqual([]);
    expect(body).toMatchObject({
      ok: true,
      stream: 'ledger-main',
      projection: { compared: true, lagEvents: 0 },
    });
    expect(body.finalHash).toMatch(/^[0-9a-f]{64}$/);
    expect(body.transfers).toBeGreaterThan(10);
    for (const line of body.trialBalance) expect(line.balanced).toBe(true);
    // Seeding again moves nothing: every transfer answers `exists`.
    expect(await ledgerSeedStep.run(testApp.services)).toEqual([
      expect.stringMatching(/^0 demo transfers posted, \d+ already there$/),
    ]);
  });

  it('the trial balance per currency balances and an account shows its statement with running balances', async () => {
    const trial = (await inject('GET', '/v1/admin/ledger/trial-balance')).json();
    expect(trial.currencies.map((line: { currency: string }) => line.currency).sort()).toEqual([
      'PTS',
      'XAF',
    ]);
    expect(trial.currencies.every((line: { balanced: boolean }) => line.balanced)).toBe(true);
    const wallet = customerWalletId('demo-alice', 'XAF');
    const first = (await inject('GET', `/v1/admin/ledger/accounts/${wallet}?limit=2`)).json();
    expect(first.account).toMatchObject({
      id: wallet,
      balances: { creditsPosted: 20_000, debitsPosted: 7_400 },
      availableMinor: 12_600,
    });
    expect(first.entries).toHaveLength(2);
    expect(first.entries[0]).toMatchObject({
      entryNo: 3,
      phase: 'post_pending',
      balanceAfter: { debitsPosted: 7_400, debitsPending: 0 },
    });
    const rest = (
      await inject('GET', `/v1/admin/ledger/accounts/${wallet}?limit=2&cursor=${first.nextCursor}`)
    ).json();
    expect(rest.entries.map((entry: { entryNo: number }) => entry.entryNo)).toEqual([1]);
    expect(rest.nextCursor).toBeNull();
    expect((await inject('GET', '/v1/admin/ledger/accounts/wallet:customer:nobody:XAF')).statusCode).toBe(
      404,
    );
    expect((await inject('GET', `/v1/admin/ledger/accounts/${wallet}?cursor=bogus`)).statusCode).toBe(400);
  });

  it('is for finance only: a customer gets 403, no token 401', async () => {
    expect((await inject('POST', '/v1/admin/ledger/verify', customer.accessToken)).statusCode).toBe(403);
    expect(
      (await testApp.app.inject({ method: 'GET', url: '/v1/admin/ledger/trial-balance' })).statusCode,
    ).toBe(401);
  });

  it('changing one byte of a stored ledger event makes verify fail and name that event', async () => {
    const db = testApp.services.db;
    const target = await sql<{
      event_id: string;
      revision: bigint;
    }>`SELECT event_id::text, revision FROM eventstore_events
      WHERE stream_id = 'ledger-main' ORDER BY revision LIMIT 1 OFFSET 2`.execute(db);
    const { event_id: eventId, revision } = target.rows[0]!;
    // 'payment_capture' → 'payment_capturf': one byte inside the stored batch text.
    await sql`UPDATE eventstore_events SET data = jsonb_build_object('batch', replace(data->>'batch', 'payment_capture', 'payment_capturf'))
      WHERE event_id = ${eventId}::uuid`.execute(db);
    const body = (await inject('POST', '/v1/admin/ledger/verify')).json();
    expect(body.ok).toBe(false);
    expect(body.mismatches.length).toBeGreaterThan(0);
    // The changed event is named first; what it broke downstream is listed after it.
    expect(body.mismatches[0]).toMatchObject({
      kind: 'undecodable',
      event: { id: eventId, revision: Number(revision) },
    });
    const chainFindings = body.mismatches.filter((finding: { kind: string }) =>
      ['undecodable', 'hash_mismatch', 'previous_hash_mismatch'].includes(finding.kind),
    );
    expect(chainFindings.map((finding: { event: { id: string } }) => finding.event.id)).toEqual([eventId]);
  });
});
