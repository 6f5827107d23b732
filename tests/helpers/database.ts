import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { Database } from '../../src/services.js';

export const ADMIN_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Typed against the whole application's tables, as the composition root sees them. */
export interface TestDatabase extends DatabaseHandle<Database> {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function urlFor(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const migrationFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/db/migrations');

/**
 * The migrated template's name: a digest of the migration files (names and contents) and of the
 * migrator, so a changed or added migration makes a new template and never a stale copy.
 */
function templateName(): string {
  const digest = createHash('sha256');
  for (const file of readdirSync(migrationFolder).sort()) {
    digest
      .update(file)
      .update('\0')
      .update(readFileSync(path.join(migrationFolder, file)))
      .update('\0');
  }
  digest.update(readFileSync(path.join(migrationFolder, '../migrate.ts')));
  return `test_template_${digest.digest('hex').slice(0, 16)}`;
}

let template: Promise<string> | undefined;

/**
 * Migrates the template once per machine and migration set: the first worker to get here builds
 * it under an advisory lock while the others wait, then every test database is a copy of it
 * (PostgreSQL's CREATE DATABASE … TEMPLATE), which is several times faster than running the
 * ninety-odd migrations per file. A half-built template (a run killed while migrating) is not
 * marked IS_TEMPLATE, so the next run builds it again. Several checkouts with different
 * migrations may run suites at once on one server (a branch beside main): each keeps its own
 * template. A template is stamped with its build time (its comment) and those of other migration
 * sets are dropped once a day old, when a new one is built.
 */
function migratedTemplate(): Promise<string> {
  template ??= admin(async (client) => {
    const name = templateName();
    await client.query(`SELECT pg_advisory_lock(hashtext('food-delivery test template'))`);
    try {
      const ready = await client.query('SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate', [
        name,
      ]);
      if (ready.rowCount === 1) return name;
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${name}`);
      const handle = createDatabase<Database>({ connectionString: urlFor(name), max: 2 });
      try {
        await migrateToLatest(handle.db);
      } finally {
        await handle.close();
      }
      await client.query(`COMMENT ON DATABASE ${name} IS '${new Date().toISOString()}'`);
      await client.query(`ALTER DATABASE ${name} IS_TEMPLATE true`);
      const others = await client.query<{ datname: string }>(
        `SELECT datname FROM pg_database d
          WHERE datname LIKE 'test\\_template\\_%' AND datname <> $1
            AND coalesce(shobj_description(d.oid, 'pg_database'), '') < $2`,
        [name, new Date(Date.now() - 86_400_000).toISOString()],
      );
      for (const { datname } of others.rows) {
        await client
          .query(`ALTER DATABASE ${datname} IS_TEMPLATE false`)
          .then(() => client.query(`DROP DATABASE ${datname}`))
          .catch(() => undefined);
      }
      return name;
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext('food-delivery test template'))`);
    }
  });
  template.catch(() => {
    template = undefined;
  });
  return template;
}

/**
 * A fresh, migrated database for one test file, so suites that commit never see each other's
 * rows and files can run in parallel. Migrated means copied from the migrated template
 * (`migratedTemplate`); `migrate: false` gives an empty database. `drop()` removes it.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const migrate = options.migrate ?? true;
  if (migrate) {
    await admin(async (client) => {
      try {
        await client.query(`CREATE DATABASE ${name} TEMPLATE ${await migratedTemplate()}`);
      } catch (error) {
        // Dropped under this process (by hand, or a day-old cleanup): built again, once.
        if ((error as { code?: string }).code !== '3D000') throw error;
        template = undefined;
        await client.query(`CREATE DATABASE ${name} TEMPLATE ${await migratedTemplate()}`);
      }
    });
  } else {
    await admin((client) => client.query(`CREATE DATABASE ${name}`));
  }
  const url = urlFor(name);
  const handle = createDatabase<Database>({ connectionString: url, max: 10 });
  return {
    ...handle,
    url,
    name,
    async drop() {
      await handle.close();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
