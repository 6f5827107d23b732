/**
 * The files context's service: uploads (type from the bytes, polyglots refused, images
 * re-encoded, renditions stored, photos attached to the catalog), reads (public photos, signed
 * URLs for private files, by role and ownership), deletions and the retention sweep. Every
 * upload, read of a private file and deletion is audited.
 */
import { createHash, randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import type { Permission } from '../../shared/principal.js';
import { createBodyChecks, type StoredBody } from './body-checks.js';
import { filesErrors } from './errors.js';
import type {
  AttachedPhoto,
  CatalogPhotosPort,
  FilesActor,
  FilesAudit,
  OrderPartiesPort,
  SupportAttachmentsPort,
  SupportOrderFilesPort,
} from './ports.js';
import { CONTENT_TYPE_OF, EXTENSION_OF, PURPOSE_RULES, type PurposeRule } from './purposes.js';
import { createFilesRepository, type FileRow } from './repository.js';
import { createSubjectCheck, isAdmin, type Subject } from './subject.js';
import type { VirusScanner } from './scanner-port.js';
import type { FileStore } from './store.js';
import { DOCUMENT_KINDS, PURPOSES, type FilesDb, type Purpose, type Rendition } from './tables.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A replaced photo stays readable this long: phones holding the older menu still load it. */
export const REPLACED_PHOTO_GRACE_MS = 24 * 3_600_000;
export { MAX_CONCURRENT_ENCODES, MAX_WAITING_ENCODES } from './body-checks.js';
/** Objects younger than this are never orphans: their upload may still be writing its row. */
export const ORPHAN_GRACE_MS = 6 * 3_600_000;
/** The most objects one orphan sweep looks at (the slice's first, in key order). */
export const ORPHAN_SWEEP_MAX_OBJECTS = 5_000;
/** Slices of the key space the orphan sweep turns through: each purpose x 16 first hex digits. */
export const ORPHAN_SLICES = PURPOSES.length * 16;
/** Public files whose renditions one instance remembers (a lookup saved per photo request). */
const PUBLIC_LOOKUPS_CACHED = 10_000;
const PUBLIC_LOOKUP_TTL_MS = 10 * 60_000;
/** Public renditions never change under their URL (a new photo is a new file id). */
export const PUBLIC_MAX_AGE_SECONDS = 31_536_000;

export interface FilesCaller {
  userId: string;
  permissions: ReadonlySet<Permission>;
  roles: readonly string[];
  actor: FilesActor;
}

export interface UploadInput {
  /** Every non-file field of the form, by name (the purpose among them). */
  fields: Record<string, string>;
  file: { body: Buffer } | undefined;
}

export interface FilesDependencies {
  db: FilesDb;
  store: FileStore;
  scanner?: VirusScanner;
  catalog: CatalogPhotosPort;
  orders: OrderPartiesPort;
  /** Support's answer for a support attachment read by someone other than its uploader (a `later` need). */
  supportAttachments?: () => SupportAttachmentsPort;
  /** Which orders a support agent may see (support, a `later` need); absent: any order. */
  supportOrders?: () => SupportOrderFilesPort;
  audit: FilesAudit;
  config: Pick<
    Config,
    | 'FILES_MAX_IMAGE_BYTES'
    | 'FILES_MAX_DOCUMENT_BYTES'
    | 'FILES_MAX_SIGNATURE_BYTES'
    | 'FILES_MAX_IMAGE_PIXELS'
    | 'FILES_URL_TTL_SECONDS'
    | 'ORDER_DISPUTE_WINDOW_MINUTES'
    | 'FILES_PROOF_RETENTION_DAYS'
  >;
  logger: Logger;
  now?: () => Date;
}

function refuse(code: string, message: string, details: Record<string, unknown> = {}): never {
  throw filesErrors.of('validation', code, message, { details });
}

/** The purpose and the subject fields, checked before a byte of the file is looked at. */
function readFields(fields: Record<string, string>): {
  purpose: Purpose;
  rule: PurposeRule;
  values: Record<string, string>;
} {
  const purpose = fields.purpose;
  if (purpose === undefined)
    refuse('purpose_missing', 'Send a `purpose` field before the file.', { allowed: PURPOSES });
  if (!(PURPOSES as readonly string[]).includes(purpose))
    refuse('purpose_invalid', `"${purpose.slice(0, 40)}" is not an upload purpose.`, { allowed: PURPOSES });
  const rule = PURPOSE_RULES[purpose as Purpose];
  for (const name of Object.keys(fields))
    if (name !== 'purpose' && !(rule.fields as readonly string[]).includes(name))
      refuse('field_unknown', `This purpose takes no field "${name.slice(0, 40)}".`, {
        field: name.slice(0, 40),
        expected: rule.fields,
      });
  for (const name of rule.fields) {
    const value = fields[name];
    if (value === undefined)
      refuse('field_missing', `This purpose needs the field "${name}".`, { field: name });
    const valid =
      name === 'documentKind' ? (DOCUMENT_KINDS as readonly string[]).includes(value) : UUID.test(value);
    if (!valid)
      refuse('field_invalid', `The field "${name}" is not valid.`, {
        field: name,
        expected: name === 'documentKind' ? DOCUMENT_KINDS : 'a UUID',
      });
  }
  return { purpose: purpose as Purpose, rule, values: fields };
}

export function createFilesService(deps: FilesDependencies) {
  const repository = createFilesRepository(deps.db);
  const { store, config } = deps;
  const now = deps.now ?? (() => new Date());
  const authorize = createSubjectCheck(deps);
  const { scan, encode } = createBodyChecks(deps);

  async function storeAll(purpose: Purpose, id: string, bodies: StoredBody[]): Promise<Rendition[]> {
    const stored: Rendition[] = [];
    try {
      for (const rendition of bodies) {
        const key = `${purpose}/${id}/${rendition.name}.${EXTENSION_OF[rendition.format]}`;
        const object = await store.put(key, rendition.body, {
          contentType: CONTENT_TYPE_OF[rendition.format],
        });
        stored.push({
          name: rendition.name,
          format: rendition.format,
          width: rendition.width,
          height: rendition.height,
          byteSize: object.byteSize,
          key,
          etag: object.etag,
        });
      }
    } catch (error) {
      await removeKeys(stored.map((rendition) => rendition.key));
      throw error;
    }
    return stored;
  }

  async function removeKeys(keys: string[]): Promise<void> {
    for (const key of keys)
      await store
        .delete(key)
        .catch((error: unknown) => deps.logger.warn({ err: error, key }, 'file store delete failed'));
  }

  async function attach(caller: FilesCaller, row: FileRow): Promise<void> {
    const photo: AttachedPhoto = { fileId: row.id, renditions: publicRenditions(row) };
    const { previousFileId } =
      row.purpose === 'menu_item_photo'
        ? await deps.catalog.setItemPhoto(row.restaurant_id!, row.menu_item_id!, photo, caller.actor)
        : await deps.catalog.setRestaurantImage(
            row.restaurant_id!,
            row.purpose === 'restaurant_logo' ? 'logo' : 'cover',
            photo,
            caller.actor,
          );
    if (previousFileId !== null)
      await repository.scheduleDeletion(previousFileId, new Date(now().getTime() + REPLACED_PHOTO_GRACE_MS));
  }

  function retentionOf(purpose: Purpose): Date | null {
    if (PURPOSE_RULES[purpose].orderStatuses === undefined) return null;
    const minutes = config.ORDER_DISPUTE_WINDOW_MINUTES + config.FILES_PROOF_RETENTION_DAYS * 1_440;
    return new Date(now().getTime() + minutes * 60_000);
  }

  /** Writes the renditions, then the row; a failure between them removes what was written. */
  async function record(
    caller: FilesCaller,
    file: {
      purpose: Purpose;
      subject: Subject;
      contentType: string;
      body: Buffer;
      scannedBy: string | null;
      bodies: StoredBody[];
    },
  ): Promise<FileRow> {
    const { purpose, subject, body } = file;
    const id = randomUUID();
    const renditions = await storeAll(purpose, id, file.bodies);
    try {
      return await repository.insert({
        id,
        purpose,
        restaurant_id: subject.restaurantId ?? null,
        menu_item_id: subject.itemId ?? null,
        order_id: subject.orderId ?? null,
        owner_user_id: subject.ownerUserId ?? null,
        document_kind: subject.documentKind ?? null,
        uploaded_by: caller.userId,
        content_type: file.contentType,
        byte_size: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
        status: 'clean',
        scanned_by: file.scannedBy,
        renditions,
        delete_after: retentionOf(purpose),
      });
    } catch (error) {
      await removeKeys(renditions.map((rendition) => rendition.key));
      throw error;
    }
  }

  async function upload(caller: FilesCaller, input: UploadInput) {
    const { purpose, rule, values } = readFields(input.fields);
    const body = input.file?.body;
    if (body === undefined) refuse('file_missing', 'Send the file as a part named `file`.');
    if (body.length === 0) refuse('file_empty', 'The file is empty.');
    const maxBytes = rule.maxBytes(config);
    if (body.length > maxBytes)
      throw filesErrors.of('too_large', 'file_too_large', `The file is larger than ${maxBytes} bytes.`, {
        details: { maxBytes },
      });
    const subject = await authorize(caller, purpose, rule, values);
    // The bytes as received are scanned before they are decoded (docs/files-scanning.md).
    const scannedBy = await scan(caller, purpose, body);
    const { contentType, renditions: bodies } = await encode(body, rule);
    const row = await record(caller, { purpose, subject, contentType, body, scannedBy, bodies });
    const id = row.id;
    if (rule.visibility === 'public') {
      try {
        await attach(caller, row);
      } catch (error) {
        // Not attached: the new file goes to the sweep at once, the old photo stays.
        await repository.scheduleDeletion(id, now());
        throw error;
      }
    }
    await deps.audit({
      action: 'file.uploaded',
      actor: caller.actor,
      subjectUserId: subject.ownerUserId ?? caller.userId,
      resource: `file:${id}`,
      newValue: { purpose, contentType, byteSize: body.length, ...subject },
    });
    return view(row, rule.visibility === 'private' ? await signedUrls(row) : undefined);
  }

  async function signedUrls(row: FileRow): Promise<{ urls: Map<string, string>; expiresAt: string }> {
    const ttl = config.FILES_URL_TTL_SECONDS;
    const urls = new Map<string, string>();
    for (const rendition of row.renditions)
      urls.set(
        rendition.key,
        await store.signedUrl(rendition.key, {
          expiresInSeconds: ttl,
          downloadName: `${row.purpose}-${rendition.name}.${EXTENSION_OF[rendition.format]}`,
        }),
      );
    return { urls, expiresAt: new Date(now().getTime() + ttl * 1000).toISOString() };
  }

  /** May this viewer read the file? Public photos: anyone; private files: the people they concern. */
  async function mayRead(viewer: Omit<FilesCaller, 'actor'> | undefined, row: FileRow): Promise<boolean> {
    if (PURPOSE_RULES[row.purpose].visibility === 'public') return true;
    if (viewer === undefined) return false;
    if (isAdmin(viewer)) return true;
    if (row.purpose === 'driver_document') return row.owner_user_id === viewer.userId;
    // Through the ticket it is on: its opener, its assigned agent, supervisors (support decides).
    if (row.purpose === 'support_attachment')
      return (
        row.owner_user_id === viewer.userId ||
        ((await deps.supportAttachments?.().mayRead(viewer, row.id)) ?? false)
      );
    // An order's photos and proofs: support staff through a ticket of theirs (supervisors: any).
    if (
      viewer.permissions.has('TICKET_MANAGEMENT') &&
      (deps.supportOrders === undefined || (await deps.supportOrders().mayView(viewer, row.order_id!)))
    )
      return true;
    const parties = await deps.orders.partiesOf(row.order_id!);
    if (parties === undefined) return false;
    return [parties.customerId, parties.driverId, parties.restaurantOwnerId].includes(viewer.userId);
  }

  /** The file's metadata; private files with signed URLs, read only by those it concerns (others: 404). */
  async function read(viewer: FilesCaller | undefined, id: string) {
    const row = await repository.find(id);
    if (row === undefined || row.status !== 'clean' || !(await mayRead(viewer, row)))
      throw filesErrors.of('not_found', 'file_not_found', 'There is no such file among those you may see.');
    if (PURPOSE_RULES[row.purpose].visibility === 'public') return view(row, undefined);
    await deps.audit({
      action: 'file.read',
      actor: viewer!.actor,
      subjectUserId: row.owner_user_id ?? row.uploaded_by,
      resource: `file:${id}`,
      newValue: { purpose: row.purpose, orderId: row.order_id },
    });
    return view(row, await signedUrls(row));
  }

  /** A public rendition by its URL name (`small.webp`), or undefined; its bytes are the store's. */
  async function publicRendition(id: string, variant: string) {
    let renditions = publicRenditionsCache.get(id);
    if (renditions === undefined) {
      const row = await repository.find(id);
      if (row === undefined || row.status !== 'clean' || PURPOSE_RULES[row.purpose].visibility !== 'public')
        return undefined;
      renditions = row.renditions;
      publicRenditionsCache.set(id, renditions);
    }
    const rendition = renditions.find(
      (candidate) => `${candidate.name}.${EXTENSION_OF[candidate.format]}` === variant,
    );
    return rendition;
  }
  // Renditions never change under a file id; a deleted file's bytes are gone from the store, so a
  // stale entry (another instance deleted it) still answers 404. Only found files are kept.
  const publicRenditionsCache = new LRUCache<string, Rendition[]>({
    max: PUBLIC_LOOKUPS_CACHED,
    ttl: PUBLIC_LOOKUP_TTL_MS,
  });

  /** Deletes a private file now (its uploader, the driver it belongs to, or an admin). */
  async function remove(caller: FilesCaller, id: string): Promise<void> {
    const row = await repository.find(id);
    const allowed =
      row !== undefined &&
      (isAdmin(caller) ||
        row.owner_user_id === caller.userId ||
        (row.owner_user_id === null && row.uploaded_by === caller.userId));
    if (row === undefined || !allowed)
      throw filesErrors.of('not_found', 'file_not_found', 'There is no such file among those you may see.');
    if (PURPOSE_RULES[row.purpose].visibility === 'public')
      throw filesErrors.of(
        'conflict',
        'file_in_use',
        'A photo is replaced by uploading another, not deleted.',
      );
    await destroy(row, caller.actor, 'request');
  }

  async function destroy(
    row: FileRow,
    actor: FilesActor,
    reason: 'request' | 'retention' | 'erasure',
  ): Promise<void> {
    publicRenditionsCache.delete(row.id);
    await removeKeys(row.renditions.map((rendition) => rendition.key));
    if (!(await repository.markDeleted(row.id))) return;
    await deps.audit({
      action: 'file.deleted',
      actor,
      subjectUserId: row.owner_user_id ?? row.uploaded_by,
      resource: `file:${row.id}`,
      oldValue: { purpose: row.purpose, orderId: row.order_id },
      newValue: { reason },
    });
  }

  /** Deletes files whose retention ended (replaced photos, old proofs): one bounded batch. */
  async function sweep(): Promise<number> {
    const due = await repository.dueForDeletion(now());
    for (const row of due) await destroy(row, { kind: 'system' }, 'retention');
    return due.length;
  }

  /**
   * Deletes objects of the store that no live file row names (an upload that stopped between
   * writing its renditions and its row, a deletion that stopped between its row and its bytes),
   * once they are older than the grace period: a younger one may belong to an upload under way.
   * One slice of the key space per call (a purpose and the first hex digit of the file id,
   * `slice` picks it, the schedule turns through all 112), at most `ORPHAN_SWEEP_MAX_OBJECTS`.
   */
  async function sweepOrphans(slice: number): Promise<{ prefix: string; scanned: number; deleted: number }> {
    const purpose = PURPOSES[Math.floor(slice / 16) % PURPOSES.length]!;
    const prefix = `${purpose}/${(slice % 16).toString(16)}`;
    const cutoff = now().getTime() - ORPHAN_GRACE_MS;
    const candidates: { key: string; fileId: string }[] = [];
    let scanned = 0;
    for await (const object of store.list(prefix)) {
      scanned += 1;
      const fileId = object.key.split('/')[1] ?? '';
      if (object.lastModified.getTime() < cutoff && UUID.test(fileId))
        candidates.push({ key: object.key, fileId });
      if (scanned >= ORPHAN_SWEEP_MAX_OBJECTS) break;
    }
    const live = await repository.liveIds([...new Set(candidates.map((candidate) => candidate.fileId))]);
    const orphans = candidates.filter((candidate) => !live.has(candidate.fileId));
    await removeKeys(orphans.map((orphan) => orphan.key));
    if (orphans.length > 0)
      deps.logger.info({ prefix, deleted: orphans.length }, 'orphaned file objects deleted');
    return { prefix, scanned, deleted: orphans.length };
  }

  /**
   * A person's share (GDPR, docs/privacy.md): their driver documents are listed on export and
   * deleted on erasure (idempotent). Proofs stay with their order until their retention ends;
   * photos belong to the restaurant.
   */
  const personalData = {
    async export(userId: string) {
      const rows = await repository.ownedBy(userId);
      return {
        files: rows.map((row) => ({
          id: row.id,
          purpose: row.purpose,
          documentKind: row.document_kind,
          contentType: row.content_type,
          byteSize: row.byte_size,
          createdAt: row.created_at.toISOString(),
        })),
      };
    },
    async erase(userId: string) {
      let deleted = 0;
      for (
        let rows = await repository.ownedBy(userId);
        rows.length > 0;
        rows = await repository.ownedBy(userId)
      ) {
        for (const row of rows) await destroy(row, { kind: 'system' }, 'erasure');
        deleted += rows.length;
      }
      return { filesDeleted: deleted };
    },
  };

  return { upload, read, publicRendition, remove, sweep, sweepOrphans, personalData, repository, store };
}

export type FilesService = ReturnType<typeof createFilesService>;

/** The public path of a rendition (immutable: a new photo is a new file id). */
export function publicPath(fileId: string, rendition: Pick<Rendition, 'name' | 'format'>): string {
  return `/v1/files/${fileId}/${rendition.name}.${EXTENSION_OF[rendition.format]}`;
}

/** Renditions by size and format, as the menu shows them. */
function publicRenditions(row: FileRow): AttachedPhoto['renditions'] {
  const bySize: AttachedPhoto['renditions'] = {};
  for (const rendition of row.renditions) {
    if (rendition.width === null || rendition.height === null) continue;
    (bySize[rendition.name] ??= {})[rendition.format] = {
      url: publicPath(row.id, rendition),
      width: rendition.width,
      height: rendition.height,
      byteSize: rendition.byteSize,
    };
  }
  return bySize;
}

function view(row: FileRow, signed: { urls: Map<string, string>; expiresAt: string } | undefined) {
  return {
    id: row.id,
    purpose: row.purpose,
    status: row.status,
    contentType: row.content_type,
    byteSize: row.byte_size,
    createdAt: row.created_at.toISOString(),
    ...(row.restaurant_id === null ? {} : { restaurantId: row.restaurant_id }),
    ...(row.menu_item_id === null ? {} : { itemId: row.menu_item_id }),
    ...(row.order_id === null ? {} : { orderId: row.order_id }),
    ...(row.document_kind === null ? {} : { documentKind: row.document_kind }),
    renditions: row.renditions.map((rendition) => ({
      name: rendition.name,
      format: rendition.format,
      ...(rendition.width === null || rendition.height === null
        ? {}
        : { width: rendition.width, height: rendition.height }),
      byteSize: rendition.byteSize,
      url: signed === undefined ? publicPath(row.id, rendition) : signed.urls.get(rendition.key)!,
    })),
    ...(signed === undefined ? {} : { urlsExpireAt: signed.expiresAt }),
  };
}

export type FileView = ReturnType<typeof view>;
