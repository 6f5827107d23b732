/**
 * The S3-compatible adapter of the file storage port (issue #18): AWS S3, MinIO, Cloudflare R2 or
 * any server that speaks the S3 API with Signature V4 (docs/files-s3.md).
 *
 * Objects are private: the API reads them with its credentials, and clients read them through a
 * presigned GET that expires. The bucket needs no public access and no ACL.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { assertObjectKey, InvalidObjectKeyError, type FileStore, type StoredObject } from './store.js';
import { FileStoreError, FileStoreUnavailableError } from './store-errors.js';

export interface S3FileStoreOptions {
  /** The S3 API endpoint (MinIO, R2, …); unset: AWS S3 in `region`. */
  endpoint?: string;
  /** The endpoint written into presigned URLs when clients reach the store by another address. */
  publicEndpoint?: string;
  /** `auto` for Cloudflare R2. */
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `<endpoint>/<bucket>/<key>` instead of `<bucket>.<endpoint>/<key>` (MinIO, most self-hosted servers). */
  forcePathStyle: boolean;
  /** A folder inside the bucket for this deployment's objects (`food-delivery/`); keys are relative to it. */
  prefix?: string;
  /** Keys asked per ListObjectsV2 page (1-1000; S3 caps it at 1000). */
  listPageSize?: number;
  /** Milliseconds to open a connection, and for a whole request (defaults 5 s and 30 s). */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Attempts per request, the SDK's retries with backoff included (default 3). */
  maxAttempts?: number;
}

/** The S3 store, with `close()` to release its connections (the port itself has none). */
export interface S3FileStore extends FileStore {
  readonly kind: 's3';
  readonly bucket: string;
  close(): void;
}

/** HEAD requests in flight at once while listing (the listing needs each object's type). */
const LIST_HEAD_CONCURRENCY = 8;

/** Signature V4 refuses presigned URLs that live longer than a week. */
export const MAX_PRESIGNED_SECONDS = 7 * 24 * 60 * 60;

const PREFIX = /^([a-z0-9_-][a-z0-9._-]*\/)*$/i;

/**
 * Throws unless the list prefix is empty, a key, or a key followed by `/`: the same alphabet as
 * keys, so a prefix never reaches a URL with anything else in it.
 */
export function assertListPrefix(prefix: string): void {
  if (prefix === '') return;
  assertObjectKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

/**
 * A `Content-Disposition: attachment` value for the name: an ASCII fallback (quotes, backslashes,
 * controls and non-ASCII replaced) and the exact name as RFC 5987 `filename*`.
 */
export function attachmentDisposition(name: string): string {
  const cleaned =
    name
      .replace(/[\p{Cc}\p{Cf}/\\]/gu, '_')
      .trim()
      .slice(0, 200) || 'download';
  const ascii = cleaned.replace(/[^\x20-\x7e]/g, '_').replace(/["%;]/g, '_');
  const encoded = encodeURIComponent(cleaned).replace(
    /['()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Errors S3 and its imitators answer when the request will not succeed without a configuration change. */
const MISCONFIGURED = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'NoSuchBucket',
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'InvalidBucketName',
  'AllAccessDisabled',
  'AccountProblem',
  'InvalidRegion',
  'IllegalLocationConstraintException',
]);
/** Errors that say the store is overloaded or down for now: the SDK already retried them. */
const TRANSIENT = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'TimeoutError',
  'AbortError',
  'ThrottlingException',
]);
/** Socket-level failures: nothing answered. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);
/** The object's bytes were damaged on the way: our checksum and the store's disagree. */
const INTEGRITY = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch']);

/** A socket-level failure, on the error or one it wraps (AggregateError from dual-stack connects). */
function isNetworkFailure(error: unknown): boolean {
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 8; seen += 1) {
    const current = pending.pop() as { code?: unknown; cause?: unknown; errors?: unknown } | null;
    if (current === null || typeof current !== 'object') continue;
    if (typeof current.code === 'string' && NETWORK_CODES.has(current.code)) return true;
    pending.push(current.cause);
    if (Array.isArray(current.errors)) pending.push(...current.errors.slice(0, 4));
  }
  return false;
}

function isObjectKey(key: string): boolean {
  try {
    assertObjectKey(key);
    return true;
  } catch {
    return false;
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** True when S3 answered that the object (not the bucket) does not exist. */
function isMissingObject(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NoSuchKey' || (error.name === 'NotFound' && statusOf(error) === 404);
}

/** Turns what the SDK threw into the store's errors, naming the operation and what to check. */
function storeError(operation: string, bucket: string, error: unknown): Error {
  if (error instanceof InvalidObjectKeyError || error instanceof RangeError) return error;
  const name = (error as { name?: unknown }).name;
  const status = statusOf(error);
  const label = typeof name === 'string' ? name : 'Error';
  // HEAD answers carry no body, so the SDK only knows the status: say what it means.
  const said =
    status === 403
      ? 'access denied: check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and the bucket policy'
      : status === 404
        ? `no bucket "${bucket}": check S3_BUCKET, S3_ENDPOINT and S3_REGION`
        : status === 301
          ? `bucket "${bucket}" is in another region: check S3_REGION`
          : (error as Error).message;
  if (typeof name === 'string' && INTEGRITY.has(name))
    return new FileStoreError('s3', operation, `${label}: ${said}`, { cause: error });
  if (
    (typeof name === 'string' && MISCONFIGURED.has(name)) ||
    status === 403 ||
    status === 301 ||
    (status === 404 && name !== 'NoSuchKey')
  )
    return new FileStoreUnavailableError('s3', operation, 'misconfigured', `${label}: ${said}`, {
      cause: error,
    });
  if (
    (typeof name === 'string' && TRANSIENT.has(name)) ||
    isNetworkFailure(error) ||
    (status !== undefined && status >= 500)
  )
    return new FileStoreUnavailableError('s3', operation, 'unreachable', `${label}: ${said}`, {
      cause: error,
    });
  return new FileStoreError('s3', operation, `${label}: ${said}`, { cause: error });
}

function objectOf(
  key: string,
  answer: { ContentLength?: number; ContentType?: string; ETag?: string; LastModified?: Date },
): StoredObject {
  return {
    key,
    byteSize: answer.ContentLength ?? 0,
    contentType: answer.ContentType ?? 'application/octet-stream',
    etag: answer.ETag ?? '""',
    lastModified: answer.LastModified ?? new Date(0),
  };
}

export function createS3FileStore(options: S3FileStoreOptions): S3FileStore {
  const prefix = options.prefix ?? '';
  if (!PREFIX.test(prefix))
    throw new RangeError(`S3 key prefix ${JSON.stringify(prefix)} must be empty or folders ending with /`);
  const pageSize = options.listPageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)
    throw new RangeError(`listPageSize must be an integer of 1-1000, not ${pageSize}`);
  const { bucket } = options;

  const clientConfig = (endpoint: string | undefined): S3ClientConfig => ({
    ...(endpoint === undefined ? {} : { endpoint }),
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
    },
    // Since early 2025 the SDK adds a CRC32 checksum to every upload, and sends streamed bodies
    // as `aws-chunked` with a trailing checksum (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`). Several
    // S3-compatible servers refuse one or the other. We send whole buffers with Content-MD5,
    // which every S3 API checks, and a signed SHA-256 of the payload: integrity without the new
    // headers (docs/files-s3.md, "Checksums").
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const client = new S3Client(clientConfig(options.endpoint));
  const signer =
    options.publicEndpoint === undefined || options.publicEndpoint === options.endpoint
      ? client
      : new S3Client(clientConfig(options.publicEndpoint));

  const fullKey = (key: string): string => {
    assertObjectKey(key);
    return prefix + key;
  };

  /** HEAD of one object: what the store knows of it, or null when S3 says 404. */
  const headObject = async (operation: string, key: string): Promise<StoredObject | null> => {
    const Key = fullKey(key);
    try {
      return objectOf(key, await client.send(new HeadObjectCommand({ Bucket: bucket, Key })));
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw storeError(operation, bucket, error);
    }
  };

  const store: S3FileStore = {
    kind: 's3',
    bucket,

    async put(key, body, putOptions) {
      const Key = fullKey(key);
      try {
        const answer = await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key,
            Body: body,
            ContentLength: body.length,
            ContentType: putOptions.contentType,
            ContentMD5: createHash('md5').update(body).digest('base64'),
            ...(putOptions.cacheControl === undefined ? {} : { CacheControl: putOptions.cacheControl }),
          }),
        );
        return {
          key,
          byteSize: body.length,
          contentType: putOptions.contentType,
          etag: answer.ETag ?? `"${createHash('md5').update(body).digest('hex')}"`,
          lastModified: new Date(),
        };
      } catch (error) {
        throw storeError('put', bucket, error);
      }
    },

    async get(key) {
      const Key = fullKey(key);
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
        if (!(answer.Body instanceof Readable))
          throw new FileStoreError('s3', 'get', 'the SDK returned a body that is not a Node.js stream');
        return { object: objectOf(key, answer), body: answer.Body };
      } catch (error) {
        if (isMissingObject(error)) return null;
        throw storeError('get', bucket, error);
      }
    },

    async head(key) {
      const object = await headObject('head', key);
      // HEAD has no body: a missing object and a missing bucket are both a bare 404. Ask the
      // bucket only then, so a wrong S3_BUCKET is not read as "every file is gone".
      if (object === null) await store.check();
      return object;
    },

    async delete(key) {
      const Key = fullKey(key);
      try {
        // S3 answers 204 whether or not the key existed: deleting twice succeeds.
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
      } catch (error) {
        if (isMissingObject(error)) return;
        throw storeError('delete', bucket, error);
      }
    },

    async *list(listPrefix) {
      assertListPrefix(listPrefix);
      let ContinuationToken: string | undefined;
      do {
        let page;
        try {
          page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix + listPrefix,
              MaxKeys: pageSize,
              ContinuationToken,
            }),
          );
        } catch (error) {
          throw storeError('list', bucket, error);
        }
        // ListObjectsV2 returns keys in ascending UTF-8 byte order; ours are ASCII, so that is
        // also JavaScript's string order. A key the port could not have made (written by hand
        // into the bucket) is not addressable through the port: skip it.
        const keys: string[] = [];
        for (const entry of page.Contents ?? []) {
          if (entry.Key === undefined || !entry.Key.startsWith(prefix)) continue;
          const key = entry.Key.slice(prefix.length);
          if (isObjectKey(key)) keys.push(key);
        }
        // ListObjectsV2 has no content type, which the port promises: one HEAD per object, a few
        // at a time, in order. An object deleted since the listing is left out.
        for (let start = 0; start < keys.length; start += LIST_HEAD_CONCURRENCY) {
          const batch = keys.slice(start, start + LIST_HEAD_CONCURRENCY);
          const objects = await Promise.all(batch.map((key) => headObject('list', key)));
          for (const object of objects) if (object !== null) yield object;
        }
        ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (ContinuationToken !== undefined);
    },

    async signedUrl(key, signOptions) {
      const Key = fullKey(key);
      const seconds = signOptions.expiresInSeconds;
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGNED_SECONDS)
        throw new RangeError(`a presigned URL lives 1-${MAX_PRESIGNED_SECONDS} seconds, not ${seconds}`);
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key,
        ...(signOptions.downloadName === undefined
          ? {}
          : { ResponseContentDisposition: attachmentDisposition(signOptions.downloadName) }),
      });
      try {
        // Signed locally with the credentials: no request is sent.
        return await getSignedUrl(signer, command, { expiresIn: seconds });
      } catch (error) {
        throw storeError('signedUrl', bucket, error);
      }
    },

    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        throw storeError('check', bucket, error);
      }
    },

    close() {
      client.destroy();
      if (signer !== client) signer.destroy();
    },
  };
  return store;
}
