import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { loggerOptions } from '../../src/logger.js';
import type { AnyContextDefinition } from '../../src/platform/context.js';
import { createRuntime } from '../../src/runtime.js';
import { createServices, type Services } from '../../src/services.js';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from './database.js';

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  database: TestDatabase;
  /** Every log line the app wrote, parsed (for redaction tests). */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string | undefined>;
  database?: TestDatabase;
  /** Keep the database after close (when the caller owns it). */
  keepDatabase?: boolean;
  /** Contexts added after the application's own (a test's read model, a test's routes). */
  extraContexts?: readonly AnyContextDefinition[];
  /** Extra routes registered at the root after the app (they get its hooks and error handler). */
  routes?: (app: FastifyInstance) => void | Promise<void>;
}

export function captureLogger(level = 'info'): { logger: Logger; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const destination = {
    write(line: string) {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
  return { logger: pino(loggerOptions(level), destination), logs };
}

/** The environment of a test app: real PostgreSQL and Redis, isolated by database and key prefix. */
export function testEnvironment(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const environment: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'fd-test-')),
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
    RATE_LIMIT_ENABLED: 'false',
    // Parallel test files load the 2 cores, and under-pressure reads an interval with no loop samples as
    // infinite delay: the check is off in tests; load shedding is tested on its own (foundation.test.ts).
    MAX_EVENT_LOOP_DELAY_MS: '0',
    // Production requires a delivery photo with the PIN (the default); the suites written before
    // that deliver with the PIN alone. tests/integration/dispatch/delivery-photo.test.ts runs with it on.
    DISPATCH_DELIVERY_PHOTO_REQUIRED: 'false',
    // The live dashboard's tick reads every context's gauges each few seconds: only its own test
    // turns it on (a tick inside a measured window would count against other contexts' budgets).
    ADMIN_LIVE_INTERVAL_SECONDS: '0',
    // Each file builds the app and calls a few of its routes: their schemas compile on first use.
    // api-contract.test.ts builds it eagerly, so every schema compiles under test too.
    HTTP_SCHEMA_COMPILATION: 'lazy',
    JWT_SECRET: randomBytes(24).toString('hex'),
    JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined));
}

/**
 * What a production start needs beyond secrets and DATABASE_URL (the configuration check refuses
 * it otherwise): a public URL, the primary payment provider's credentials and the SMS transport.
 * Values only: no test that uses them calls a provider.
 */
export function productionRequirements(): Record<string, string> {
  return {
    PUBLIC_BASE_URL: 'https://api.example.cm',
    METRICS_TOKEN: 'example-metrics-token-0123456789',
    CAMPAY_BASE_URL: 'https://demo.campay.net/api',
    CAMPAY_USERNAME: 'example-app-user',
    CAMPAY_PASSWORD: 'example-app-password',
    CAMPAY_SECRET: 'example-webhook-key',
    TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
    TWILIO_AUTH_TOKEN: 'example-twilio-token',
    TWILIO_FROM: '+237650000000',
    PII_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('hex')}`,
    PII_BLIND_INDEX_KEY: randomBytes(32).toString('hex'),
    FILES_SIGNING_KEY: randomBytes(24).toString('hex'),
  };
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig(testEnvironment({ DATABASE_URL: database.url, ...options.env }));
  const { logger, logs } = captureLogger(config.LOG_LEVEL);
  const runtime = await createRuntime({ config, logger });
  const services = await createServices(runtime, { extraContexts: options.extraContexts ?? [] });
  const app = await buildApp(services, logger);
  if (options.routes !== undefined) await options.routes(app);
  await app.ready();
  return {
    app,
    services,
    database,
    logs,
    async close() {
      await app.close();
      await runtime.close();
      if (options.keepDatabase !== true && options.database === undefined) await database.drop();
    },
  };
}
