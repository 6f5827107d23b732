/**
 * The file storage port (issue #18): where the bytes of uploaded files live. Two adapters
 * implement it: the local disk under `DATA_DIR` (the embedded default, `disk-store.ts`) and
 * S3-compatible object storage (`s3-store.ts`: AWS, MinIO, Cloudflare R2). Both pass the same
 * contract tests (`tests/integration/files/store-contract.ts`).
 *
 * The port knows nothing of purposes, owners or access: the files context decides those and
 * stores bytes under keys it makes itself (`<purpose>/<file id>/<rendition>.<ext>`). Keys are
 * checked by `assertObjectKey`: a key from anywhere else never reaches a path or a URL.
 */
import type { Readable } from 'node:stream';

/** What the store knows of one object. */
export interface StoredObject {
  key: string;
  byteSize: number;
  contentType: string;
  /** A strong validator of the bytes (quoted, as in an HTTP `ETag`). */
  etag: string;
  lastModified: Date;
}

export interface PutOptions {
  contentType: string;
  /** Sent with the object where the store serves it itself (S3); the API sets its own headers. */
  cacheControl?: string;
}

export interface SignedUrlOptions {
  /** Seconds until the URL stops working (bounded by the files context's configuration). */
  expiresInSeconds: number;
  /** `Content-Disposition` file name the reader's browser should save it under. */
  downloadName?: string;
}

export interface FileStore {
  /** `disk` or `s3`: shown in readiness and logs. */
  readonly kind: 'disk' | 's3';
  /** Stores the bytes under the key, replacing what was there (writes are atomic: all or nothing). */
  put(key: string, body: Buffer, options: PutOptions): Promise<StoredObject>;
  /** The object's bytes as a stream, or `null` when no object has the key. */
  get(key: string): Promise<{ object: StoredObject; body: Readable } | null>;
  /** What the store knows of the object, or `null` when no object has the key. */
  head(key: string): Promise<StoredObject | null>;
  /** Removes the object; removing a key that does not exist succeeds (idempotent). */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with the prefix, in key order (the orphan sweep walks it). */
  list(prefix: string): AsyncIterable<StoredObject>;
  /**
   * A URL that reads the object without other credentials until it expires: a presigned GET for
   * S3; for the disk, an HMAC-signed URL of the API's blob route, checked by `verifySignedUrl`.
   */
  signedUrl(key: string, options: SignedUrlOptions): Promise<string>;
  /** Throws when the store cannot be reached or written (readiness). */
  check(): Promise<void>;
}

/** Letters, digits, `.`, `_`, `-` in `/`-separated segments; no empty, `.` or `..` segment. */
const KEY = /^[a-z0-9_-][a-z0-9._-]*(\/[a-z0-9_-][a-z0-9._-]*)*$/i;
export const MAX_OBJECT_KEY_LENGTH = 512;

export class InvalidObjectKeyError extends Error {
  constructor(key: string) {
    super(`not an object key this store accepts: ${JSON.stringify(key.slice(0, 80))}`);
    this.name = 'InvalidObjectKeyError';
  }
}

/** Throws unless the key is one the files context could have made (no traversal, no oddities). */
export function assertObjectKey(key: string): void {
  if (key.length === 0 || key.length > MAX_OBJECT_KEY_LENGTH || !KEY.test(key) || key.includes('..')) {
    throw new InvalidObjectKeyError(key);
  }
}
