import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Type from 'typebox';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { createTestApp, productionRequirements, testEnvironment, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe('configuration', () => {
  it('names the bad variable and what was expected', () => {
    expect(() => loadConfig(testEnvironment({ PORT: 'eighty' }))).toThrowError(
      /PORT="eighty" is invalid: expected the port the API listens on \(a TCP port/,
    );
    try {
      loadConfig(testEnvironment({ RATE_LIMIT_MAX_REQUESTS: '-3', NODE_ENV: 'staging' }));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variables.sort()).toEqual(['NODE_ENV', 'RATE_LIMIT_MAX_REQUESTS']);
    }
  });

  it('requires secrets and DATABASE_URL in production', () => {
    const environment = { NODE_ENV: 'production', DATA_DIR: '/tmp/never-used' };
    expect(() => loadConfig(environment)).toThrowError(/JWT_SECRET is required in production/);
    expect(() => loadConfig(environment)).toThrowError(/DATABASE_URL is required in production/);
  });

  it('generates development secrets once per data directory', () => {
    const environment = testEnvironment({
      JWT_SECRET: undefined,
      JWT_REFRESH_SECRET: undefined,
      ENCRYPTION_KEY: undefined,
    });
    delete environment.JWT_SECRET;
    delete environment.JWT_REFRESH_SECRET;
    delete environment.ENCRYPTION_KEY;
    const first = loadConfig(environment);
    const second = loadConfig(environment);
    expect(first.generatedSecrets).toEqual(['JWT_SECRET', 'JWT_REFRESH_SECRET', 'ENCRYPTION_KEY']);
    expect(second.JWT_SECRET).toBe(first.JWT_SECRET);
    expect(first.ENCRYPTION_KEY).toMatch(/^[0-9a-f]{64}$/);
  });

  const withoutSms = (environment: Record<string, string>) =>
    Object.fromEntries(Object.entries(environment).filter(([name]) => !name.startsWith('TWILIO_')));

  it('refuses a production start that cannot send SMS codes, naming each missing variable', () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://x@db/y',
      JWT_SECRET: 'a'.repeat(32),
      JWT_REFRESH_SECRET: 'b'.repeat(32),
      ENCRYPTION_KEY: 'c'.repeat(64),
      ...withoutSms(productionRequirements()),
    };
    try {
      loadConfig({ ...production, TWILIO_FROM: '+237670000000' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variables.sort()).toEqual(['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN']);
      expect((error as Error).message).toMatch(/TWILIO_ACCOUNT_SID is required in production/);
      expect((error as Error).message).toMatch(/TWILIO_AUTH_TOKEN is required in production/);
    }
    const complete = loadConfig({ ...production, ...productionRequirements() });
    expect(complete.isProduction).toBe(true);
  });

  it(
    'exits 78 (EX_CONFIG) with one message naming the SMS variables when production lacks them',
    { timeout: 120_000 },
    async () => {
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--eval', "import('./src/boot.ts').then((boot) => boot.configOrExit())"],
        {
          env: {
            PATH: process.env.PATH,
            NODE_ENV: 'production',
            DATABASE_URL: 'postgres://x@db/y',
            JWT_SECRET: 'a'.repeat(32),
            JWT_REFRESH_SECRET: 'b'.repeat(32),
            ENCRYPTION_KEY: 'c'.repeat(64),
            ...withoutSms(productionRequirements()),
          },
          encoding: 'utf8',
          timeout: 110_000,
        },
      );
      expect(child.status, child.stderr).toBe(78);
      for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'])
        expect(child.stderr).toContain(`${name} is required in production`);
    },
  );

  it('never enables the outbox or simulators in production', () => {
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://x@db/y',
        JWT_SECRET: 'a'.repeat(32),
        JWT_REFRESH_SECRET: 'b'.repeat(32),
        ENCRYPTION_KEY: 'c'.repeat(64),
        OUTBOX_ENABLED: 'true',
      }),
    ).toThrowError(/OUTBOX_ENABLED must not be true in production/);
  });
});

describe('HTTP foundation', () => {
  let testApp: TestApp;
  let releaseSlowRequest: () => void = () => undefined;

  beforeAll(async () => {
    testApp = await createTestApp({
      env: { CORS_ORIGINS: 'https://app.example.cm', BODY_LIMIT_BYTES: '1024' },
      routes: (app) => {
        app.post(
          '/v1/test/echo',
          {
            config: { access: { public: true } },
            schema: {
              body: Type.Object({ name: Type.String({ minLength: 2 }) }, { additionalProperties: false }),
            },
          },
          async (request) => request.body,
        );
        app.get('/v1/test/boom', { config: { access: { public: true } } }, async () => {
          throw new Error('secret database password leaked in message');
        });
        app.get('/v1/test/slow', { config: { access: { public: true } } }, async () => {
          await new Promise<void>((resolve) => (releaseSlowRequest = resolve));
          return { finished: true };
        });
      },
    });
  });
  afterAll(async () => testApp?.close());

  const expectProblem = (
    response: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
    status: number,
    code: string,
  ) => {
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = response.json() as Record<string, unknown>;
    expect(body).toMatchObject({
      status,
      code,
      type: expect.stringContaining(code),
      title: expect.any(String),
    });
    expect(body.requestId).toBe(response.headers['x-request-id']);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+|stack/);
    return body;
  };

  it('answers a schema violation with 400 problem+json listing the errors', async () => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/test/echo',
      payload: { name: 'x' },
    });
    const body = expectProblem(response, 400, 'validation_failed');
    expect(body.errors).toEqual([expect.objectContaining({ path: expect.stringContaining('/name') })]);
  });

  it('answers malformed JSON with 400', async () => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expectProblem(response, 400, 'malformed_json');
  });

  it('answers an unknown route with 404', async () => {
    expectProblem(await testApp.app.inject({ method: 'GET', url: '/v1/nowhere' }), 404, 'route_not_found');
  });

  it('answers a body over the limit with 413', async () => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/test/echo',
      payload: { name: 'x'.repeat(2_000) },
    });
    expectProblem(response, 413, 'payload_too_large');
  });

  it('answers an unsupported media type with 415', async () => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/test/echo',
      headers: { 'content-type': 'text/xml' },
      payload: '<name>ab</name>',
    });
    expectProblem(response, 415, 'unsupported_media_type');
  });

  it('answers an internal error with 500 and leaks neither message nor stack', async () => {
    const response = await testApp.app.inject({ method: 'GET', url: '/v1/test/boom' });
    const body = expectProblem(response, 500, 'internal_error');
    expect(JSON.stringify(body)).not.toContain('secret database password');
    const logged = testApp.logs.find((line) => line.msg === 'unhandled error');
    expect(logged).toBeDefined();
  });

  it('sends security headers with a strict CSP', async () => {
    const response = await testApp.app.inject({ method: 'GET', url: '/health/live' });
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['strict-transport-security']).toContain('max-age=31536000');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['x-request-id']).toBeTruthy();
  });

  it('gives CORS headers to an allowed origin and none to another', async () => {
    const allowed = await testApp.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { origin: 'https://app.example.cm' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.cm');
    const denied = await testApp.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { origin: 'https://evil.example' },
    });
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await testApp.app.inject({
      method: 'OPTIONS',
      url: '/v1/test/echo',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('keeps a well-formed client request id and replaces a malformed one', async () => {
    const kept = await testApp.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'client-trace-1234' },
    });
    expect(kept.headers['x-request-id']).toBe('client-trace-1234');
    const replaced = await testApp.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'bad id\n' },
    });
    expect(replaced.headers['x-request-id']).not.toBe('bad id\n');
    const line = testApp.logs.find((entry) => entry.requestId === 'client-trace-1234');
    expect(line).toBeDefined();
  });

  it('reports ready with PostgreSQL and Redis', async () => {
    const response = await testApp.app.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'ready',
      failed: [],
      mode: { redis: 'redis', database: 'external' },
    });
    expect(response.json().checks.map((check: { name: string }) => check.name)).toEqual(
      expect.arrayContaining(['postgres', 'redis']),
    );
  });

  it('serves Prometheus metrics with request histograms by route and pool figures', async () => {
    await testApp.app.inject({ method: 'GET', url: '/health/live' });
    const response = await testApp.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/health\/live"/);
    expect(response.body).toContain('pg_pool_connections{state="total"}');
    expect(response.body).toContain('nodejs_eventloop_lag_seconds');
  });

  it('guards /metrics with METRICS_TOKEN when it is set (always in production)', async () => {
    const guarded = await createTestApp({
      database: testApp.database,
      env: { METRICS_TOKEN: 'scrape-token-0123456789' },
    });
    try {
      const scrape = (authorization?: string) =>
        guarded.app.inject({
          method: 'GET',
          url: '/metrics',
          headers: authorization === undefined ? {} : { authorization },
        });
      const anonymous = await scrape();
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toContain('Bearer');
      expect(anonymous.headers['content-type']).toContain('application/problem+json');
      expect(anonymous.body).not.toContain('http_request_duration_seconds');
      expect((await scrape('Bearer scrape-token-0123456788')).statusCode).toBe(401);
      expect((await scrape('Bearer scrape-token')).statusCode).toBe(401);
      const prometheus = await scrape('Bearer scrape-token-0123456789');
      expect(prometheus.statusCode).toBe(200);
      expect(prometheus.body).toContain('http_request_duration_seconds');
    } finally {
      await guarded.close();
    }
  });

  it('serves the OpenAPI document and the docs UI', async () => {
    const json = await testApp.app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.statusCode).toBe(200);
    expect(json.json().openapi).toBe('3.1.0');
    expect(Object.keys(json.json().paths)).toContain('/health/ready');
    const ui = await testApp.app.inject({ method: 'GET', url: '/docs/' });
    expect([200, 302]).toContain(ui.statusCode);
  });

  it('lets an in-flight request finish during shutdown and refuses new ones', async () => {
    const address = await testApp.app.listen({ host: '127.0.0.1', port: 0 });
    const inFlight = fetch(`${address}/v1/test/slow`).then(async (response) => ({
      status: response.status,
      body: await response.json(),
    }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = testApp.app.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    releaseSlowRequest();
    const finished = await inFlight;
    await closing;
    expect(finished).toEqual({ status: 200, body: { finished: true } });
    await expect(fetch(`${address}/health/live`)).rejects.toThrow();
  });
});

describe('rate limiting and readiness', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());

  it('answers 429 with Retry-After past the general limit (Redis store)', async () => {
    const testApp = await createTestApp({
      database,
      env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX_REQUESTS: '3', RATE_LIMIT_WINDOW_MS: '60000' },
    });
    try {
      const statuses: number[] = [];
      let last;
      for (let attempt = 0; attempt < 5; attempt += 1) {
        last = await testApp.app.inject({ method: 'GET', url: '/v1/unknown-route' });
        statuses.push(last.statusCode);
      }
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      expect(last!.json()).toMatchObject({ status: 429, code: 'rate_limited' });
      const keys = await testApp.services.runtime.redis!.keys(
        `${testApp.services.runtime.config.REDIS_KEY_PREFIX}rl:*`,
      );
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      await testApp.close();
    }
  });

  it('answers 429 from the in-memory store when there is no Redis', async () => {
    const testApp = await createTestApp({
      database,
      env: { REDIS_URL: undefined, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX_REQUESTS: '2' },
    });
    try {
      expect(testApp.services.runtime.redis).toBeUndefined();
      const statuses = [];
      for (let attempt = 0; attempt < 3; attempt += 1) {
        statuses.push((await testApp.app.inject({ method: 'GET', url: '/health/live/x' })).statusCode);
      }
      expect(statuses).toEqual([404, 404, 429]);
    } finally {
      await testApp.close();
    }
  });

  it('turns /health/ready 503 naming Redis when Redis is unreachable', async () => {
    const testApp = await createTestApp({ database, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const response = await testApp.app.inject({ method: 'GET', url: '/health/ready' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ status: 'unavailable', failed: ['redis'] });
      expect(response.headers['retry-after']).toBe('5');
    } finally {
      await testApp.close();
    }
  });
});

describe('load shedding and log redaction', () => {
  it('answers 503 with Retry-After under pressure while health probes still answer', async () => {
    const testApp = await createTestApp({ env: { MAX_HEAP_USED_BYTES: '1' } });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_200)); // one sampling interval
      const shed = await testApp.app.inject({ method: 'GET', url: '/docs/json' });
      expect(shed.statusCode).toBe(503);
      expect(shed.headers['retry-after']).toBe('10');
      expect(shed.json()).toMatchObject({ code: 'overloaded' });
      expect((await testApp.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
      const ready = await testApp.app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().failed).toContain('load');
    } finally {
      await testApp.close();
    }
  });

  it('keeps credentials, codes and personal data out of log lines', async () => {
    const testApp = await createTestApp();
    try {
      testApp.services.runtime.logger.info(
        {
          user: { phone: '+237670000001', email: 'a@b.cm', password: 'Secret-Pass-1' },
          otp: '123456',
          token: 'abc.def.ghi',
        },
        'an event worth logging',
      );
      await testApp.app.inject({
        method: 'GET',
        url: '/v1/dev/outbox?to=%2B237670000001',
        headers: { authorization: 'Bearer abc.def.ghi', cookie: 'refresh=xyz' },
      });
      const text = JSON.stringify(testApp.logs);
      for (const secret of [
        '+237670000001',
        '237670000001',
        'a@b.cm',
        'Secret-Pass-1',
        '123456',
        'abc.def.ghi',
        'refresh=xyz',
      ]) {
        expect(text).not.toContain(secret);
      }
      expect(text).toContain('[redacted]');
    } finally {
      await testApp.close();
    }
  });
});
