import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FileMigrationProvider, Migrator, type Kysely, type MigrationResultSet } from 'kysely';

const migrationFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** A FileMigrationProvider that imports by file URL (ESM) and skips declaration and map files. */
function provider(): FileMigrationProvider {
  return new FileMigrationProvider({
    fs: {
      readdir: async (folder: string) =>
        (await fs.readdir(folder)).filter((name) => /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts')),
    },
    path: { join: (...parts: string[]) => pathToFileURL(path.join(...parts)).href },
    migrationFolder,
  } as unknown as ConstructorParameters<typeof FileMigrationProvider>[0]);
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
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: provider(), allowUnorderedMigrations: true });
  const result = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((item) => item.status === 'Error');
    throw new MigrationError(failed?.migrationName, result.error);
  }
  return result;
}
