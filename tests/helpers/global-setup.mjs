import process from 'node:process';
import pg from 'pg';
import { Redis } from 'ioredis';

/**
 * Integration suites need the real PostgreSQL and Redis (.ci/run starts them). Fail early with
 * a clear message instead of a hundred connection errors. Plain JavaScript: it runs in Vitest's
 * own process, where no TypeScript loader is registered (vitest.config.ts).
 */
export default async function globalSetup() {
  const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(`tests need PostgreSQL at ${adminUrl} (set TEST_DATABASE_URL): ${error.message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3_000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`tests need Redis at ${redisUrl} (set TEST_REDIS_URL): ${error.message}`);
  } finally {
    redis.disconnect();
  }
}
