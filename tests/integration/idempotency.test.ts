import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Type from 'typebox';
import { purgeExpiredIdempotencyKeys, withIdempotency } from '../../src/http/idempotency.js';
import { HttpProblem } from '../../src/http/problem.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe('Idempotency-Key', () => {
  let testApp: TestApp;
  let created = 0;
  const attempts: { name: string; retry: boolean }[] = [];
  let release: (() => void) | undefined;

  beforeAll(async () => {
    testApp = await createTestApp({
      routes: (app) => {
        app.post(
          '/v1/test/things',
          {
            config: { access: { public: true }, idempotency: 'required' },
            schema: { body: Type.Object({ name: Type.String(), fail: Type.Optional(Type.String()) }) },
          },
          async (request, reply) =>
            withIdempotency(
              testApp.services.runtime.database.db,
              request,
              reply,
              { scope: 'test-things', required: true },
              async (attempt) => {
                const body = request.body as { name: string; fail?: string };
                attempts.push({ name: body.name, retry: attempt.retry });
                if (body.fail === 'client')
                  throw new HttpProblem(422, 'not_allowed', 'names like this are refused');
                if (body.fail === 'server') throw new Error('database hiccup');
                if (body.fail === 'slow' && !attempt.retry)
                  await new Promise<void>((resolve) => (release = resolve));
                created += 1;
                reply.header('location', `/v1/test/things/${created}`);
                return { statusCode: 201, body: { id: created, name: body.name } };
              },
            ),
        );
        // Takes a key but does not declare it: the document would not say so.
        app.post('/v1/test/undeclared', { config: { access: { public: true } } }, async (request, reply) =>
          withIdempotency(
            testApp.services.runtime.database.db,
            request,
            reply,
            { scope: 'test-undeclared' },
            async () => ({
              statusCode: 200,
              body: {},
            }),
          ),
        );
      },
    });
  });
  afterAll(async () => testApp?.close());

  const post = (key: string | undefined, payload: Record<string, unknown>) =>
    testApp.app.inject({
      method: 'POST',
      url: '/v1/test/things',
      headers: key === undefined ? {} : { 'idempotency-key': key },
      payload,
    });

  it('requires a well-formed key where the route demands one', async () => {
    expect((await post(undefined, { name: 'a' })).json()).toMatchObject({
      status: 400,
      code: 'idempotency_key_required',
    });
    expect((await post('short', { name: 'a' })).json()).toMatchObject({
      status: 400,
      code: 'idempotency_key_invalid',
    });
  });

  it('replays the first answer for the same key and body, doing the work once', async () => {
    const before = created;
    const first = await post('key-replay-0001', { name: 'ndole' });
    const second = await post('key-replay-0001', { name: 'ndole' });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers.location).toBe(`/v1/test/things/${before + 1}`);
    expect(second.headers.location, 'a replay names what was created, as the first answer did').toBe(
      first.headers.location,
    );
    expect(created).toBe(before + 1);
  });

  it('refuses to run for a route that takes a key without declaring config.idempotency', async () => {
    const response = await testApp.app.inject({ method: 'POST', url: '/v1/test/undeclared', payload: {} });
    expect(response.statusCode).toBe(500);
    expect(
      testApp.logs.some((line) => JSON.stringify(line).includes('declares config.idempotency nothing')),
    ).toBe(true);
  });

  it('refuses the same key with another body with 409', async () => {
    await post('key-conflict-01', { name: 'eru' });
    const response = await post('key-conflict-01', { name: 'koki' });
    expect(response.json()).toMatchObject({ status: 409, code: 'idempotency_key_reused' });
  });

  it('keeps a 4xx answer and frees the key after a 5xx', async () => {
    const refused = await post('key-client-001', { name: 'x', fail: 'client' });
    const refusedAgain = await post('key-client-001', { name: 'x', fail: 'client' });
    expect(refused.json()).toMatchObject({ status: 422, code: 'not_allowed' });
    expect(refusedAgain.json()).toMatchObject({ status: 422, code: 'not_allowed' });
    expect(refusedAgain.headers['idempotent-replayed']).toBe('true');

    const failed = await post('key-server-001', { name: 'y', fail: 'server' });
    expect(failed.statusCode).toBe(500);
    // The key is free at once for the same request, which runs again knowing it is a retry.
    const retried = await post('key-server-001', { name: 'y', fail: 'server' });
    expect(retried.statusCode).toBe(500);
    expect(attempts.filter((attempt) => attempt.name === 'y')).toEqual([
      { name: 'y', retry: false },
      { name: 'y', retry: true },
    ]);
    expect((await post('key-server-001', { name: 'other' })).json()).toMatchObject({
      status: 409,
      code: 'idempotency_key_reused',
    });
  });

  it('a claim whose request never answered (its process stopped) holds the key for its lease only', async () => {
    const db = testApp.services.runtime.database.db;
    const before = created;
    // The crash point: the claim is taken and the work done, the answer never stored.
    const first = post('key-crashed-01', { name: 'koki', fail: 'slow' });
    while (release === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    const busy = await post('key-crashed-01', { name: 'koki', fail: 'slow' });
    expect(busy.json()).toMatchObject({ status: 409, code: 'idempotency_in_progress' });
    expect(Number(busy.headers['retry-after'])).toBeGreaterThan(1);
    // The lease runs out (as it would 60 s after a crash).
    await db
      .updateTable('idempotency_keys')
      .set({ lease_expires_at: new Date(Date.now() - 1_000) })
      .where('key', '=', 'key-crashed-01')
      .execute();
    expect((await post('key-crashed-01', { name: 'other' })).json()).toMatchObject({
      code: 'idempotency_key_reused',
    });
    const retried = await post('key-crashed-01', { name: 'koki', fail: 'slow' });
    expect(retried.statusCode).toBe(201);
    expect(attempts.filter((attempt) => attempt.name === 'koki').map((attempt) => attempt.retry)).toEqual([
      false,
      true,
    ]);
    // The first attempt finishes late: its answer is not stored over the retry's, which replays.
    release!();
    release = undefined;
    expect((await first).statusCode).toBe(201);
    const replay = await post('key-crashed-01', { name: 'koki', fail: 'slow' });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(retried.json());
    expect(created).toBe(before + 2);
  });

  it('under concurrency (claims and answers stored in groups): each key does the work once and replays its own answer', async () => {
    const before = created;
    const keys = Array.from({ length: 40 }, (_, index) => `group-key-${Date.now()}-${index}`);
    // Every key sent three times at once, all 120 requests in flight together.
    const responses = await Promise.all(
      keys.flatMap((key) => [0, 1, 2].map(async () => ({ key, response: await post(key, { name: key }) }))),
    );
    expect(created - before).toBe(40);
    for (const key of keys) {
      const mine = responses.filter((sent) => sent.key === key).map((sent) => sent.response);
      const done = mine.filter((response) => response.statusCode === 201);
      const refused = mine.filter(
        (response) => response.statusCode === 409 && response.json().code === 'idempotency_in_progress',
      );
      expect(done.length + refused.length, key).toBe(3);
      expect(done.every((response) => response.json().name === key)).toBe(true);
      expect(new Set(done.map((response) => response.json().id)).size, key).toBe(1);
    }
    const replays = await Promise.all(keys.map((key) => post(key, { name: key })));
    expect(
      replays.every(
        (response) => response.statusCode === 201 && response.headers['idempotent-replayed'] === 'true',
      ),
    ).toBe(true);
    expect(replays.map((response) => response.json().name)).toEqual(keys);
    expect(created - before).toBe(40);
  });

  it('answers a concurrent duplicate with 409 in progress, and the original completes once', async () => {
    const before = created;
    const first = post('key-concurrent-1', { name: 'achu', fail: 'slow' });
    while (release === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    const duplicate = await post('key-concurrent-1', { name: 'achu', fail: 'slow' });
    expect(duplicate.json()).toMatchObject({ status: 409, code: 'idempotency_in_progress' });
    release();
    expect((await first).statusCode).toBe(201);
    expect(created).toBe(before + 1);
  });
});

describe('idempotency key retention', () => {
  it('purges only expired keys, on an hourly schedule', async () => {
    const testApp = await createTestApp();
    try {
      const db = testApp.services.runtime.database.db;
      const past = new Date(Date.now() - 1_000);
      const future = new Date(Date.now() + 60_000);
      await db
        .insertInto('idempotency_keys')
        .values([
          { scope: 'purge', key: 'expired-key-1', request_hash: 'h', expires_at: past },
          { scope: 'purge', key: 'current-key-1', request_hash: 'h', expires_at: future },
        ])
        .execute();
      expect(await purgeExpiredIdempotencyKeys(db)).toBeGreaterThanOrEqual(1);
      const left = await db
        .selectFrom('idempotency_keys')
        .select('key')
        .where('scope', '=', 'purge')
        .execute();
      expect(left.map((row) => row.key)).toEqual(['current-key-1']);
    } finally {
      await testApp.close();
    }
  });
});
