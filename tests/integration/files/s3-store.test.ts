/**
 * The S3 adapter (issue #18) against a real S3-protocol server on this machine
 * (tests/helpers/s3-server.ts: @20minutes/s3rver, Signature V4 checked): the port's contract,
 * then what only S3 has (headers on presigned URLs, the key prefix, errors of a store that is
 * misconfigured or unreachable).
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3FileStore, type S3FileStoreOptions } from '../../../src/modules/files/s3-store.js';
import { FileStoreUnavailableError } from '../../../src/modules/files/store-errors.js';
import { isDependencyOutage } from '../../../src/shared/outage.js';
import { startS3Server, type S3TestServer } from '../../helpers/s3-server.js';
import { describeFileStoreContract } from './store-contract.js';

function optionsFor(server: S3TestServer, bucket: string): S3FileStoreOptions {
  return {
    endpoint: server.endpoint,
    region: server.region,
    bucket,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
  };
}

async function freePortWithNobody(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// The contract, with a small listing page so that listing walks several pages.
describeFileStoreContract('s3 (s3rver)', async () => {
  const server = await startS3Server({ buckets: ['contract-bucket'] });
  const store = createS3FileStore({ ...optionsFor(server, 'contract-bucket'), listPageSize: 10 });
  return {
    store,
    async close() {
      store.close();
      await server.stop();
    },
  };
});

// The same contract under a key prefix, beside objects of another deployment in the bucket.
describeFileStoreContract('s3 (s3rver, key prefix)', async () => {
  const server = await startS3Server({ buckets: ['shared-bucket'] });
  const neighbour = createS3FileStore({ ...optionsFor(server, 'shared-bucket'), prefix: 'other-app/' });
  await neighbour.put('contract/not-mine.jpg', Buffer.from('neighbour'), { contentType: 'image/jpeg' });
  const store = createS3FileStore({
    ...optionsFor(server, 'shared-bucket'),
    prefix: 'food-delivery/',
    listPageSize: 7,
  });
  return {
    store,
    async close() {
      store.close();
      neighbour.close();
      await server.stop();
    },
  };
});

describe('S3 file store beyond the contract', () => {
  let server: S3TestServer;
  let raw: S3Client;
  const bucket = 'files-test';

  beforeAll(async () => {
    server = await startS3Server({ buckets: [bucket] });
    raw = new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
  });
  afterAll(async () => {
    raw?.destroy();
    await server?.stop();
  });

  it('serves a presigned URL with the content type, cache policy and download name', async () => {
    const store = createS3FileStore(optionsFor(server, bucket));
    try {
      await store.put('menu/item-1/large.webp', Buffer.from('webp bytes'), {
        contentType: 'image/webp',
        cacheControl: 'public, max-age=31536000, immutable',
      });
      const url = await store.signedUrl('menu/item-1/large.webp', {
        expiresInSeconds: 300,
        downloadName: 'Ndolé "spécial".webp',
      });
      const parsed = new URL(url);
      expect(parsed.origin).toBe(server.endpoint);
      expect(parsed.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
      expect(parsed.searchParams.get('X-Amz-Expires')).toBe('300');
      const answer = await fetch(url);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('image/webp');
      expect(answer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(answer.headers.get('content-disposition')).toBe(
        `attachment; filename="Ndol_ _sp_cial_.webp"; filename*=UTF-8''Ndol%C3%A9%20%22sp%C3%A9cial%22.webp`,
      );
      expect(await answer.text()).toBe('webp bytes');
    } finally {
      store.close();
    }
  });

  it('refuses presigned lifetimes S3 would not honour', async () => {
    const store = createS3FileStore(optionsFor(server, bucket));
    try {
      for (const seconds of [0, -1, 1.5, 604_801])
        await expect(
          store.signedUrl('menu/a.jpg', { expiresInSeconds: seconds }),
          String(seconds),
        ).rejects.toThrow(RangeError);
      await expect(store.signedUrl('menu/a.jpg', { expiresInSeconds: 604_800 })).resolves.toContain(
        'X-Amz-Expires=604800',
      );
    } finally {
      store.close();
    }
  });

  it('writes presigned URLs for the public endpoint when one is configured', async () => {
    const store = createS3FileStore({
      ...optionsFor(server, bucket),
      publicEndpoint: 'https://files.example.cm',
    });
    try {
      const url = new URL(await store.signedUrl('menu/a.jpg', { expiresInSeconds: 60 }));
      expect(url.origin).toBe('https://files.example.cm');
      expect(url.pathname).toBe(`/${bucket}/menu/a.jpg`);
    } finally {
      store.close();
    }
  });

  it('keeps its objects under the key prefix and shows keys without it', async () => {
    const store = createS3FileStore({ ...optionsFor(server, bucket), prefix: 'prod/' });
    try {
      await store.put('documents/driver-9/licence.pdf', Buffer.from('%PDF'), {
        contentType: 'application/pdf',
      });
      const listing = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'prod/documents/' }));
      expect(listing.Contents?.map((object) => object.Key)).toEqual(['prod/documents/driver-9/licence.pdf']);
      const listed = [];
      for await (const object of store.list('documents/')) listed.push(object.key);
      expect(listed).toEqual(['documents/driver-9/licence.pdf']);
      const direct = await raw.send(
        new GetObjectCommand({ Bucket: bucket, Key: 'prod/documents/driver-9/licence.pdf' }),
      );
      expect(direct.ContentType).toBe('application/pdf');
      expect(await direct.Body?.transformToString()).toBe('%PDF');
      // A single-part upload's ETag is the MD5 of its bytes (the Content-MD5 the adapter sends).
      expect(direct.ETag).toBe(`"${createHash('md5').update('%PDF').digest('hex')}"`);
    } finally {
      store.close();
    }
    expect(() => createS3FileStore({ ...optionsFor(server, bucket), prefix: '../' })).toThrow(RangeError);
    expect(() => createS3FileStore({ ...optionsFor(server, bucket), prefix: 'no-slash' })).toThrow(
      RangeError,
    );
  });

  it('answers wrong credentials with a store-unavailable error naming the configuration, and stores nothing', async () => {
    const store = createS3FileStore({
      ...optionsFor(server, bucket),
      secretAccessKey: 'not-the-secret',
      maxAttempts: 1,
    });
    try {
      const check = await store.check().catch((error: unknown) => error);
      expect(check).toBeInstanceOf(FileStoreUnavailableError);
      expect(check).toMatchObject({ store: 's3', operation: 'check', reason: 'misconfigured' });
      expect((check as Error).message).toContain('S3_SECRET_ACCESS_KEY');
      expect(isDependencyOutage(check)).toBe(true); // the HTTP edge answers 503

      const put = await store
        .put('menu/denied.jpg', Buffer.from('x'), { contentType: 'image/jpeg' })
        .catch((error: unknown) => error);
      expect(put).toMatchObject({
        name: 'FileStoreUnavailableError',
        operation: 'put',
        reason: 'misconfigured',
      });
      await expect(store.get('menu/denied.jpg')).rejects.toBeInstanceOf(FileStoreUnavailableError);
      // HEAD has no error body: still not mistaken for "no such object".
      await expect(store.head('menu/denied.jpg')).rejects.toBeInstanceOf(FileStoreUnavailableError);
      const listing = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'menu/denied' }));
      expect(listing.Contents ?? []).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('answers a bucket that does not exist as misconfigured, never as a missing object', async () => {
    const store = createS3FileStore({ ...optionsFor(server, 'no-such-bucket'), maxAttempts: 1 });
    try {
      const check = await store.check().catch((error: unknown) => error);
      expect(check).toMatchObject({ name: 'FileStoreUnavailableError', reason: 'misconfigured' });
      expect((check as Error).message).toContain('no bucket "no-such-bucket"');
      await expect(store.head('menu/a.jpg')).rejects.toMatchObject({ reason: 'misconfigured' });
      await expect(store.get('menu/a.jpg')).rejects.toMatchObject({ reason: 'misconfigured' });
      await expect(
        store.put('menu/a.jpg', Buffer.from('x'), { contentType: 'image/jpeg' }),
      ).rejects.toMatchObject({ reason: 'misconfigured' });
    } finally {
      store.close();
    }
  });

  it('answers a store nobody listens on as unreachable (503), quickly', async () => {
    const port = await freePortWithNobody();
    const store = createS3FileStore({
      ...optionsFor(server, bucket),
      endpoint: `http://127.0.0.1:${port}`,
      maxAttempts: 1,
      connectionTimeoutMs: 1_000,
    });
    try {
      const started = Date.now();
      const error = await store.check().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(FileStoreUnavailableError);
      expect(error).toMatchObject({ reason: 'unreachable', operation: 'check' });
      expect(isDependencyOutage(error)).toBe(true);
      await expect(
        store.put('menu/a.jpg', Buffer.from('x'), { contentType: 'image/jpeg' }),
      ).rejects.toMatchObject({
        reason: 'unreachable',
      });
      await expect(store.get('menu/a.jpg')).rejects.toMatchObject({ reason: 'unreachable' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      store.close();
    }
  });

  it('uploads a whole body with Content-MD5 and a signed SHA-256, without CRC32 or aws-chunked', async () => {
    // What goes on the wire, seen by a listener that records the request and answers like S3.
    const seen: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const recorder = createHttpServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({ headers: request.headers, body: Buffer.concat(chunks) });
        response.writeHead(200, { etag: '"recorded"' }).end();
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const { port } = recorder.address() as { port: number };
    const store = createS3FileStore({ ...optionsFor(server, bucket), endpoint: `http://127.0.0.1:${port}` });
    try {
      const body = Buffer.from('a proof of delivery, in bytes');
      await store.put('proofs/order-1/photo.jpg', body, {
        contentType: 'image/jpeg',
        cacheControl: 'private',
      });
      expect(seen).toHaveLength(1);
      const { headers, body: received } = seen[0]!;
      expect(received.equals(body)).toBe(true);
      expect(headers['content-length']).toBe(String(body.length));
      expect(headers['content-md5']).toBe(createHash('md5').update(body).digest('base64'));
      expect(headers['x-amz-content-sha256']).toBe(createHash('sha256').update(body).digest('hex'));
      expect(headers['content-type']).toBe('image/jpeg');
      expect(headers['cache-control']).toBe('private');
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 .*SignedHeaders=[^,]*content-md5[^,]*x-amz-content-sha256/,
      );
      expect(headers['content-encoding']).toBeUndefined();
      expect(headers['transfer-encoding']).toBeUndefined();
      expect(headers['x-amz-acl']).toBeUndefined();
      expect(
        Object.keys(headers).filter((name) => name.startsWith('x-amz-checksum') || name === 'x-amz-trailer'),
      ).toEqual([]);
    } finally {
      store.close();
      await new Promise<void>((resolve) => recorder.close(() => resolve()));
    }
  });
});
