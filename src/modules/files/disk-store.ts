/**
 * The local-disk adapter of the file storage port (`store.ts`): the embedded default, under
 * `FILES_DIR` (default `DATA_DIR/files`).
 *
 * Each object is one file `objects/<key>`: a 4-byte header length, a JSON header (content type,
 * byte size, SHA-256) and the bytes. A write goes to a temporary file in `tmp/` and is renamed
 * over the key, so a reader sees the old object or the new one, never half of either.
 *
 * Signed URLs point at the API's blob route (`GET /v1/files/blobs/<key>?expires=…&sig=…`): the
 * HMAC-SHA256 of the key, the expiry and the download name under `FILES_SIGNING_KEY`, checked by
 * `verifyBlobSignature` there.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { assertObjectKey, type FileStore, type PutOptions, type StoredObject } from './store.js';

/** The API route that serves a signed blob (the disk store's signed URLs point at it). */
export const BLOB_ROUTE_PREFIX = '/v1/files/blobs/';
const HEADER_LENGTH_BYTES = 4;
/** A header is a few hundred bytes; more means the file is not one of ours. */
const MAX_HEADER_BYTES = 4_096;
/** Objects up to this size are read whole in one call (menu renditions); larger ones stream. */
const WHOLE_READ_BYTES = 256 * 1024;
/** `Content-Disposition` names: what a browser saves a download as (kept short and plain). */

interface Header {
  contentType: string;
  byteSize: number;
  sha256: string;
}

export interface DiskStoreOptions {
  /** The directory under which objects live (created when missing). */
  directory: string;
  /** The public base URL of the API (signed URLs are absolute). */
  publicBaseUrl: string;
  /** The key of the signed URLs. */
  signingKey: string;
  now?: () => Date;
}

export interface BlobSignature {
  key: string;
  expires: number;
  signature: string;
  downloadName?: string;
}

export interface DiskFileStore extends FileStore {
  readonly kind: 'disk';
  /** Whether a blob route request carries a valid, unexpired signature of its key. */
  verifyBlobSignature(request: BlobSignature): 'valid' | 'expired' | 'invalid';
  /** Reads the bytes behind a signed URL of this store, or `null` if invalid or expired. */
  verifySignedUrl(url: string): Promise<Buffer | null>;
}

function signatureOf(signingKey: string, key: string, expires: number, downloadName: string): string {
  return createHmac('sha256', signingKey)
    .update(`files-blob\n${key}\n${expires}\n${downloadName}`)
    .digest('base64url');
}

interface ReadObject {
  header: Header;
  offset: number;
  mtime: Date;
  /** The whole body when it fit in the first read (small renditions: one read, no stream to open). */
  body?: Buffer;
  /** Otherwise, with `keepOpen`: the body streamed from the open file. */
  stream?: Readable;
}

/**
 * Reads the header (and a small body whole). With `keepOpen`, a body too large for one read is
 * streamed from the same open file, so a concurrent replacement cannot mix two objects.
 */
async function readHeader(file: string, keepOpen = false): Promise<ReadObject | null> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let streaming = false;
  try {
    const { mtime, size } = await handle.stat();
    const first = Buffer.alloc(Math.min(size, WHOLE_READ_BYTES));
    const { bytesRead } = await handle.read(first, 0, first.length, 0);
    const length = bytesRead >= HEADER_LENGTH_BYTES ? first.readUInt32BE(0) : 0;
    const offset = HEADER_LENGTH_BYTES + length;
    if (length === 0 || length > MAX_HEADER_BYTES || offset > bytesRead)
      throw new Error(`corrupt object file ${file}`);
    const header = JSON.parse(first.toString('utf8', HEADER_LENGTH_BYTES, offset)) as Header;
    if (bytesRead === size && size - offset === header.byteSize)
      return { header, offset, mtime, body: first.subarray(offset, size) };
    if (!keepOpen) return { header, offset, mtime };
    streaming = true;
    return { header, offset, mtime, stream: handle.createReadStream({ start: offset, autoClose: true }) };
  } finally {
    if (!streaming) await handle.close();
  }
}

function objectOf(key: string, header: Header, mtime: Date): StoredObject {
  return {
    key,
    byteSize: header.byteSize,
    contentType: header.contentType,
    etag: `"${header.sha256}"`,
    lastModified: mtime,
  };
}

/** Every key under a directory, relative to the objects root. */
async function walk(objects: string, directory: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const keys: string[] = [];
  for (const entry of entries) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) keys.push(...(await walk(objects, full)));
    else if (entry.isFile()) keys.push(path.relative(objects, full).split(path.sep).join('/'));
  }
  return keys;
}

export function createDiskFileStore(options: DiskStoreOptions): DiskFileStore {
  const objects = path.resolve(options.directory, 'objects');
  const temporary = path.resolve(options.directory, 'tmp');
  const now = options.now ?? (() => new Date());
  const base = options.publicBaseUrl.replace(/\/+$/, '');
  const fileOf = (key: string) => {
    assertObjectKey(key);
    const file = path.join(objects, ...key.split('/'));
    // assertObjectKey already refuses `..`; this is the belt to its braces.
    if (!file.startsWith(objects + path.sep)) throw new Error('object key escapes the store');
    return file;
  };

  const store: DiskFileStore = {
    kind: 'disk',

    async put(key: string, body: Buffer, putOptions: PutOptions) {
      const file = fileOf(key);
      const header: Header = {
        contentType: putOptions.contentType,
        byteSize: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      };
      const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
      const lengthBytes = Buffer.alloc(HEADER_LENGTH_BYTES);
      lengthBytes.writeUInt32BE(headerBytes.length, 0);
      await mkdir(temporary, { recursive: true });
      await mkdir(path.dirname(file), { recursive: true });
      const staging = path.join(temporary, randomUUID());
      try {
        await writeFile(staging, Buffer.concat([lengthBytes, headerBytes, body]), { flush: true });
        await rename(staging, file);
      } catch (error) {
        await rm(staging, { force: true });
        throw error;
      }
      return objectOf(key, header, (await stat(file)).mtime);
    },

    async get(key: string) {
      const file = fileOf(key);
      const found = await readHeader(file, true);
      if (found === null) return null;
      const body = found.body === undefined ? found.stream! : Readable.from([found.body]);
      return { object: objectOf(key, found.header, found.mtime), body };
    },

    async head(key: string) {
      const found = await readHeader(fileOf(key));
      return found === null ? null : objectOf(key, found.header, found.mtime);
    },

    async delete(key: string) {
      await rm(fileOf(key), { force: true });
    },

    async *list(prefix: string) {
      if (prefix !== '') assertObjectKey(prefix.replace(/\/$/, ''));
      const directory = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const start = directory === '' ? objects : path.join(objects, ...directory.split('/'));
      const keys = (await walk(objects, start)).filter((key) => key.startsWith(prefix));
      keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const key of keys) {
        const object = await store.head(key);
        if (object !== null) yield object;
      }
    },

    async signedUrl(key, signedOptions) {
      assertObjectKey(key);
      // The blob route writes the name into Content-Disposition: anything but letters, digits,
      // `.`, `_` and `-` becomes `_` (no quote, no header injection), at most 100 characters.
      const downloadName = (signedOptions.downloadName ?? '').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
      const expires =
        Math.floor(now().getTime() / 1000) + Math.max(1, Math.ceil(signedOptions.expiresInSeconds));
      const query = new URLSearchParams({ expires: String(expires) });
      if (downloadName !== '') query.set('name', downloadName);
      query.set('sig', signatureOf(options.signingKey, key, expires, downloadName));
      return `${base}${BLOB_ROUTE_PREFIX}${key}?${query.toString()}`;
    },

    verifyBlobSignature({ key, expires, signature, downloadName }) {
      try {
        assertObjectKey(key);
      } catch {
        return 'invalid';
      }
      if (!Number.isSafeInteger(expires)) return 'invalid';
      const expected = Buffer.from(signatureOf(options.signingKey, key, expires, downloadName ?? ''));
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
      return expires * 1000 <= now().getTime() ? 'expired' : 'valid';
    },

    async verifySignedUrl(url: string) {
      const parsed = new URL(url);
      if (!url.startsWith(base) || !parsed.pathname.startsWith(BLOB_ROUTE_PREFIX)) return null;
      const key = decodeURIComponent(parsed.pathname.slice(BLOB_ROUTE_PREFIX.length));
      const name = parsed.searchParams.get('name');
      const verdict = store.verifyBlobSignature({
        key,
        expires: Number(parsed.searchParams.get('expires')),
        signature: parsed.searchParams.get('sig') ?? '',
        ...(name === null ? {} : { downloadName: name }),
      });
      if (verdict !== 'valid') return null;
      const found = await store.get(key);
      if (found === null) return null;
      const chunks: Buffer[] = [];
      for await (const chunk of found.body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },

    async check() {
      await mkdir(temporary, { recursive: true });
      const probe = path.join(temporary, `check-${randomUUID()}`);
      await writeFile(probe, 'ok');
      await rm(probe, { force: true });
    },
  };
  return store;
}
