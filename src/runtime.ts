import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import { createDatabase, type DatabaseHandle } from './db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { closeRedis } from './platform/redis-close.js';

/** A named dependency the readiness probe checks; modules (event store, jobs) add theirs. */
export interface ReadinessCheck {
  name: string;
  /**
   * Throws when the dependency is not ready (the instance answers 503). May instead answer a
   * `detail` for a degraded but serving state (e.g. a fallback in use): ready, and said so.
   */
  check(): Promise<void | { detail: string }>;
}

/** Closed in reverse order of registration during graceful shutdown. */
export type Closer = { name: string; close(): Promise<void> };

export interface Runtime {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  /** A general-purpose Redis connection; absent in the in-process mode (no REDIS_URL). */
  redis: Redis | undefined;
  readiness: ReadinessCheck[];
  closers: Closer[];
  embedded: EmbeddedDatabase | undefined;
  close(): Promise<void>;
}

export function createRedis(url: string, name: string): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    lazyConnect: false,
    // Fail fast instead of queueing forever: readiness must notice an outage at once.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  redis.on('error', () => undefined);
  return redis;
}

export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RuntimeOptions {
  config: Config;
  logger: Logger;
  /** Use this connection string instead of DATABASE_URL or the embedded server (tests). */
  databaseUrl?: string;
}

export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, logger } = options;
  let embedded: EmbeddedDatabase | undefined;
  let connectionString = options.databaseUrl ?? config.DATABASE_URL;
  if (connectionString === undefined) {
    embedded = await startEmbeddedPostgres({
      dataDirectory: config.DATA_DIR,
      port: config.EMBEDDED_POSTGRES_PORT,
      log: (message) => logger.debug({ component: 'embedded-postgres' }, message),
    });
    connectionString = embedded.connectionString;
  }
  const database = createDatabase({ connectionString, max: config.DATABASE_POOL_MAX });
  const redis = config.REDIS_URL === undefined ? undefined : createRedis(config.REDIS_URL, 'api');
  const readiness: ReadinessCheck[] = [
    { name: 'postgres', check: async () => void (await database.pool.query('select 1')) },
  ];
  if (redis !== undefined) {
    readiness.push({ name: 'redis', check: async () => void (await redis.ping()) });
  }
  const closers: Closer[] = [{ name: 'postgres pool', close: () => database.close() }];
  if (redis !== undefined) closers.push({ name: 'redis', close: () => closeRedis(redis) });
  if (embedded !== undefined) closers.unshift({ name: 'embedded postgres', close: () => embedded!.stop() });

  let closing: Promise<void> | undefined;
  const runtime: Runtime = {
    config,
    logger,
    database,
    redis,
    readiness,
    closers,
    embedded,
    close() {
      closing ??= (async () => {
        for (const closer of [...runtime.closers].reverse()) {
          try {
            await closer.close();
          } catch (error) {
            logger.error({ err: error, component: closer.name }, 'close failed');
          }
        }
      })();
      return closing;
    },
  };
  return runtime;
}
