import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { createRuntime } from '../../src/runtime.js';
import { createServices, type Services } from '../../src/services.js';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/database.js';
import { testEnvironment } from '../../tests/helpers/app.js';

export interface BenchApp {
  app: FastifyInstance;
  url: string;
  services: Services;
  database: TestDatabase;
  close(): Promise<void>;
}

/**
 * The real app on a fresh database, listening on loopback, with request logging at `warn`
 * (as production would run under load) and rate limits off (the load comes from one IP).
 */
export async function startBenchApp(env: Record<string, string | undefined> = {}): Promise<BenchApp> {
  const database = await createTestDatabase();
  const config = loadConfig(
    testEnvironment({ DATABASE_URL: database.url, LOG_LEVEL: 'warn', NODE_ENV: 'test', ...env }),
  );
  const logger = createLogger(config.LOG_LEVEL);
  const runtime = await createRuntime({ config, logger });
  const services = await createServices(runtime);
  const app = await buildApp(services, logger);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    url,
    services,
    database,
    async close() {
      await app.close();
      await runtime.close();
      await database.drop();
    },
  };
}
