/**
 * The files context (issue #18): uploads of menu photos, driver documents and delivery proofs,
 * behind one storage port (`store.ts`: the local disk by default, S3-compatible storage in
 * production). Types come from the bytes, images are re-encoded without metadata, menu photos
 * are public and cacheable, every other file is read through short-lived signed URLs.
 *
 * Public API for other contexts (by declaring `files` in their needs):
 *   files.read(viewer, id)     a file's metadata with its URLs, if the viewer may see it
 *   files.sweep()              deletes the files whose retention ended (one bounded batch)
 * It needs the catalog's `photos` (owners, items, attaching photos), orders' `parties` (who an
 * order concerns) and identity's `audit`: ports declared in ports.ts.
 */
import path from 'node:path';
import type { Config } from '../../config/index.js';
import { defineContext, need, tablesOf } from '../../platform/context.js';
import type { Identity } from '../identity/index.js';
import { createDiskFileStore, type DiskFileStore } from './disk-store.js';
import { createFileStore } from './stores.js';
import type {
  CatalogPhotosPort,
  OrderPartiesPort,
  SupportAttachmentsPort,
  SupportOrderFilesPort,
} from './ports.js';
import { registerFilesRoutes } from './routes.js';
import type { VirusScanner } from './scanner-port.js';
import { createVirusScanner } from './scanners.js';
import { createFilesService, ORPHAN_SLICES, type FilesService } from './service.js';
import type { FileTables } from './tables.js';

export type { FileStore, StoredObject } from './store.js';
export type { VirusScanner, ScanVerdict } from './scanner-port.js';
export type {
  CatalogPhotosPort,
  OrderPartiesPort,
  AttachedPhoto,
  SupportAttachmentsPort,
  SupportOrderFilesPort,
} from './ports.js';
export type { FilesService, FileView, FilesCaller } from './service.js';
export { PURPOSES, DOCUMENT_KINDS, type Purpose, type DocumentKind } from './tables.js';

/** The local-disk store under FILES_DIR (default DATA_DIR/files). */
export function diskStoreOf(
  config: Pick<Config, 'FILES_DIR' | 'DATA_DIR' | 'PUBLIC_BASE_URL' | 'FILES_SIGNING_KEY'>,
): DiskFileStore {
  return createDiskFileStore({
    directory: config.FILES_DIR ?? path.join(config.DATA_DIR, 'files'),
    publicBaseUrl: config.PUBLIC_BASE_URL,
    signingKey: config.FILES_SIGNING_KEY,
  });
}

export const filesContext = defineContext({
  name: 'files',
  needs: {
    identity: need<Pick<Identity, 'audit'>>(),
    catalog: need<{ photos: CatalogPhotosPort }>(),
    orders: need<{ parties: OrderPartiesPort }>(),
  },
  // Support needs files (attachments are checked when written); files asks support back, at
  // read time, who may read a support attachment besides its uploader.
  later: { support: need<{ attachments: SupportAttachmentsPort; orderAccess: SupportOrderFilesPort }>() },
  tables: tablesOf<FileTables>(),
  create({ runtime, db }, { identity, catalog, orders }, later) {
    const { config } = runtime;
    // FILES_STORE: the disk (default; the API serves its signed blob route) or S3-compatible
    // storage (its own presigned URLs).
    const disk = config.FILES_STORE === 's3' ? undefined : diskStoreOf(config);
    const chosen = createFileStore(config, () => disk!);
    const store = chosen.store;
    runtime.closers.push({ name: `file store (${store.kind})`, close: async () => chosen.close() });
    // clamd when CLAMD_URL is set; none otherwise: files are then stored clean without a scan.
    const scanner: VirusScanner | undefined = createVirusScanner(config);
    const files: FilesService = createFilesService({
      db,
      store,
      scanner,
      catalog: catalog.photos,
      orders: orders.parties,
      supportAttachments: () => later.support().attachments,
      supportOrders: () => later.support().orderAccess,
      audit: (entry) => identity.audit(entry),
      config,
      logger: runtime.logger,
    });
    return {
      service: files,
      routes: (app) =>
        registerFilesRoutes(app, { files, runtime, ...(disk === undefined ? {} : { diskStore: disk }) }),
      personalData: files.personalData,
      health: [
        { name: `file store (${store.kind})`, check: () => store.check() },
        ...(scanner === undefined
          ? []
          : [{ name: `virus scanner (${scanner.name})`, check: () => scanner.check() }]),
      ],
      // Idempotent: a file already deleted is skipped, so every instance may run it.
      schedules: [
        {
          name: 'files-retention-sweep',
          cron: '*/10 * * * *',
          run: async () => void (await files.sweep()),
        },
        {
          // One slice of the key space an hour: the whole store every 112 hours (under 5 days).
          name: 'files-orphan-sweep',
          cron: '41 * * * *',
          run: async () =>
            void (await files.sweepOrphans(Math.floor(Date.now() / 3_600_000) % ORPHAN_SLICES)),
        },
      ],
    };
  },
});
