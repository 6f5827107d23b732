/**
 * Partnership requests (docs/admin.md "Partnership requests"): the public form stores a request
 * (contact e-mail and phone encrypted at rest), refuses bad input with a problem and writes
 * nothing, and is rate limited per address (PARTNERSHIP_RATE_LIMIT_MAX); admins page the queue and
 * accept or decline once (audited). Real PostgreSQL and Redis.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

let testApp: TestApp;
let admin: CreatedUser;
const LIMIT = 6;

beforeAll(async () => {
  // Rate limits on (the test app turns them off); the general tier's defaults are far above this file's use.
  testApp = await createTestApp({
    env: { RATE_LIMIT_ENABLED: 'true', PARTNERSHIP_RATE_LIMIT_MAX: String(LIMIT) },
  });
  admin = await createUser(testApp, { roles: ['admin'] });
}, 120_000);
afterAll(async () => testApp?.close());

const db = () => testApp.services.db;
const body = (overrides: Record<string, unknown> = {}) => ({
  kind: 'restaurant',
  organisation: 'Chez Mama Ndolé',
  contactName: 'Mama Ngo',
  email: 'Mama@Example.cm',
  phone: '+237670001122',
  city: 'Douala',
  message: 'We cook ndolé for 200 people a day and would like to deliver with you.',
  ...overrides,
});
const submit = (payload: Record<string, unknown>, ip: string, headers: Record<string, string> = {}) =>
  testApp.app.inject({
    method: 'POST',
    url: '/v1/partnership-requests',
    payload,
    remoteAddress: ip,
    headers,
  });
const count = async () => (await db().selectFrom('admin_partnership_requests').select('id').execute()).length;

describe('partnership requests', () => {
  it('the public form stores a request with the contact encrypted; admins see it in the queue', async () => {
    const sent = await submit(body(), '10.1.0.1');
    expect(sent.statusCode, sent.body).toBe(201);
    expect(sent.json()).toMatchObject({ status: 'new' });
    const id = sent.json().id as string;
    expect(sent.headers.location).toBe(`/v1/admin/partnership-requests/${id}`);
    const read = await testApp.app.inject({
      method: 'GET',
      url: sent.headers.location as string,
      headers: authHeader(admin.accessToken),
    });
    expect(read.json()).toMatchObject({ id, email: 'mama@example.cm' });
    const stored = await db()
      .selectFrom('admin_partnership_requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(stored.email).not.toContain('example.cm');
    expect(stored.phone).not.toContain('670001122');
    const queue = await testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/partnership-requests?status=new',
      headers: authHeader(admin.accessToken),
    });
    expect(queue.statusCode, queue.body).toBe(200);
    expect(queue.json().items[0]).toMatchObject({
      id,
      kind: 'restaurant',
      email: 'mama@example.cm',
      phone: '+237670001122',
      status: 'new',
    });
  });

  it('bad input is a problem and writes nothing', async () => {
    const before = await count();
    const bad = [
      body({ kind: 'investor' }),
      body({ email: 'not-an-email' }),
      body({ phone: '670001122' }),
      body({ message: 'short' }),
      body({ message: 'x'.repeat(100_000) }),
      body({ organisation: '   \u0000  ' }),
      body({ contactName: null }),
      body({ extra: true }),
      { kind: 'restaurant' },
    ];
    for (const [index, payload] of bad.entries()) {
      const refused = await submit(payload, `10.2.0.${index + 1}`);
      expect(refused.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    expect(await count()).toBe(before);
  });

  it(`one address sends at most ${LIMIT} requests a window: then 429`, async () => {
    const answers: number[] = [];
    for (let i = 0; i < LIMIT + 2; i += 1) answers.push((await submit(body(), '10.3.0.1')).statusCode);
    expect(answers.slice(0, LIMIT).every((status) => status === 201)).toBe(true);
    expect(answers.slice(LIMIT)).toEqual([429, 429]);
    expect((await submit(body(), '10.3.0.2')).statusCode).toBe(201);
  });

  it('an admin accepts or declines once, audited; other roles are refused; the queue pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1)
      ids.push((await submit(body({ organisation: `Fleet ${i}`, kind: 'fleet' }), `10.4.0.${i}`)).json().id);
    const review = (id: string, payload: Record<string, unknown>, token = admin.accessToken) =>
      testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/partnership-requests/${id}/review`,
        headers: authHeader(token),
        payload,
      });
    const accepted = await review(ids[0]!, { decision: 'accept', note: 'Call them Monday' });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({
      status: 'accepted',
      reviewedBy: admin.userId,
      reviewNote: 'Call them Monday',
    });
    const again = await review(ids[0]!, { decision: 'decline', note: 'Changed my mind' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'partnership_already_reviewed', requestStatus: 'accepted' });
    expect((await review(ids[1]!, { decision: 'maybe', note: 'hmm' })).statusCode).toBe(400);
    expect((await review(ids[1]!, { decision: 'decline', note: '     ' })).json().code).toBe('note_required');
    expect(
      (await review('00000000-0000-4000-8000-000000000000', { decision: 'accept', note: 'ok!' })).statusCode,
    ).toBe(404);
    const audit = await sql<{ n: string }>`SELECT count(*) AS n FROM audit_logs
      WHERE action = 'admin.partnership_reviewed' AND resource = ${`partnership_request:${ids[0]}`}`.execute(
      db(),
    );
    expect(Number(audit.rows[0]!.n)).toBe(1);
    for (const roles of [['customer'], ['support'], ['restaurant_owner']] as const) {
      const user = await createUser(testApp, { roles: [...roles] });
      expect(
        (await review(ids[2]!, { decision: 'accept', note: 'let me' }, user.accessToken)).statusCode,
      ).toBe(403);
      const listed = await testApp.app.inject({
        method: 'GET',
        url: '/v1/admin/partnership-requests',
        headers: authHeader(user.accessToken),
      });
      expect(listed.statusCode).toBe(403);
    }
    expect(
      (
        await db()
          .selectFrom('admin_partnership_requests')
          .select('status')
          .where('id', '=', ids[2]!)
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('new');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof testApp.app.inject>> = await testApp.app.inject({
        method: 'GET',
        url: `/v1/admin/partnership-requests?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
        headers: authHeader(admin.accessToken),
      });
      expect(page.statusCode, page.body).toBe(200);
      seen.push(...(page.json().items as { id: string }[]).map((item) => item.id));
      cursor = (page.json() as { nextCursor: string | null }).nextCursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(await count());
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
  });
});
