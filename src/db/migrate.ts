import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  Migrator,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
} from 'kysely';

const migrationFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Reads the dated migration files and imports them from our own module, so the import goes
 * through whichever loader runs us (tsx, vitest, or compiled JavaScript in dist/).
 */
function provider(): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      const names = (await fs.readdir(migrationFolder))
        .filter((name) => /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts'))
        .sort();
      const migrations: Record<string, Migration> = {};
      for (const name of names) {
        const module = (await import(pathToFileURL(path.join(migrationFolder, name)).href)) as Migration;
        migrations[name.replace(/\.(ts|js)$/, '')] = module;
      }
      return migrations;
    },
  };
}

export class MigrationError extends Error {
  constructor(
    readonly migrationName: string | undefined,
    override readonly cause: unknown,
  ) {
    super(`migration ${migrationName ?? '(unknown)'} failed: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'MigrationError';
  }
}

/** Runs every pending migration in name (date) order; throws naming the one that failed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema may be migrated
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: provider(), allowUnorderedMigrations: true });
  const result = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((item) => item.status === 'Error');
    throw new MigrationError(failed?.migrationName, result.error);
  }
  return result;
}
