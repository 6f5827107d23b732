/** The files context's SQL, against its own table alone. */
import { sql, type Insertable, type Selectable } from 'kysely';
import type { FilesDb, FilesTable, Rendition } from './tables.js';

export type FileRow = Selectable<FilesTable>;
export type NewFileRow = Omit<Insertable<FilesTable>, 'renditions'> & { renditions: Rendition[] };

/** Most files one retention sweep deletes; the next tick takes the rest. */
export const SWEEP_BATCH = 100;

export function createFilesRepository(db: FilesDb) {
  return {
    async insert(row: NewFileRow): Promise<FileRow> {
      return db
        .insertInto('files')
        .values({ ...row, renditions: JSON.stringify(row.renditions) })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** A file that is not deleted, or undefined. */
    async find(id: string): Promise<FileRow | undefined> {
      return db
        .selectFrom('files')
        .selectAll()
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
    },

    /** Schedules the file for the retention sweep (a replaced photo, a deleted document). */
    async scheduleDeletion(id: string, at: Date): Promise<void> {
      await db
        .updateTable('files')
        .set({ delete_after: at })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .execute();
    },

    /** The person's own files (driver documents), not deleted, newest first (bounded). */
    async ownedBy(userId: string, limit = SWEEP_BATCH): Promise<FileRow[]> {
      return db
        .selectFrom('files')
        .selectAll()
        .where('owner_user_id', '=', userId)
        .where('deleted_at', 'is', null)
        .orderBy('created_at', 'desc')
        .limit(limit)
        .execute();
    },

    /** Which of these ids name a file that is not deleted (the orphan sweep's check). */
    async liveIds(ids: readonly string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db
        .selectFrom('files')
        .select('id')
        .where('id', 'in', ids)
        .where('deleted_at', 'is', null)
        .execute();
      return new Set(rows.map((row) => row.id));
    },

    /** Files due for deletion, oldest first (the sweep's work list). */
    async dueForDeletion(now: Date, limit = SWEEP_BATCH): Promise<FileRow[]> {
      return db
        .selectFrom('files')
        .selectAll()
        .where('deleted_at', 'is', null)
        .where('delete_after', '<=', now)
        .orderBy('delete_after')
        .limit(limit)
        .execute();
    },

    /** Marks the file deleted (its bytes are already gone); false when it already was. */
    async markDeleted(id: string): Promise<boolean> {
      const result = await db
        .updateTable('files')
        .set({ deleted_at: sql`now()` })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

export type FilesRepository = ReturnType<typeof createFilesRepository>;
