/**
 * The contract every FileStore adapter passes (src/modules/files/store.ts): the disk adapter
 * (disk-store.test.ts) and the S3 adapter against a real S3-protocol server. Each adapter's test
 * file calls `describeFileStoreContract` with a factory of a fresh, empty store.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileStore, StoredObject } from '../../../src/modules/files/store.js';
import { InvalidObjectKeyError } from '../../../src/modules/files/store.js';

export interface StoreUnderTest {
  store: FileStore;
  /** Reads the bytes behind a signed URL (null when refused: expired or tampered). */
  verifySignedUrl?: (url: string) => Promise<Buffer | null>;
  close(): Promise<void>;
}

async function bytesOf(store: FileStore, key: string): Promise<Buffer | null> {
  const found = await store.get(key);
  if (found === null) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of found.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listed(store: FileStore, prefix: string): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  for await (const object of store.list(prefix)) objects.push(object);
  return objects;
}

/** Reads a signed URL through the adapter's verifier, or over HTTP when the store serves it. */
async function readSigned(subject: StoreUnderTest, url: string): Promise<Buffer | null> {
  if (subject.verifySignedUrl !== undefined) return subject.verifySignedUrl(url);
  const response = await fetch(url);
  return response.ok ? Buffer.from(await response.arrayBuffer()) : null;
}

export function describeFileStoreContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`FileStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: FileStore;
    // Every test writes under its own prefix, so the adapters may share a bucket or directory.
    const root = `contract-${randomUUID()}`;

    beforeAll(async () => {
      subject = await make();
      store = subject.store;
    });
    afterAll(async () => {
      await subject.close();
    });

    it('stores bytes under a key and reads them back with what it knows of them', async () => {
      const key = `${root}/put/one.webp`;
      const body = Buffer.from('RIFF....WEBPVP8 the bytes of a photo');
      const stored = await store.put(key, body, { contentType: 'image/webp' });
      expect(stored).toMatchObject({ key, byteSize: body.length, contentType: 'image/webp' });
      expect(stored.etag).toMatch(/^"[^"]+"$/);
      expect(await bytesOf(store, key)).toEqual(body);
      const head = await store.head(key);
      expect(head).toMatchObject({
        key,
        byteSize: body.length,
        contentType: 'image/webp',
        etag: stored.etag,
      });
      expect(head!.lastModified).toBeInstanceOf(Date);
    });

    it('replaces an object whole: the second put wins, with a new etag', async () => {
      const key = `${root}/replace/file.jpg`;
      const first = await store.put(key, Buffer.from('first version'), { contentType: 'image/jpeg' });
      const second = await store.put(key, Buffer.from('second, longer version'), {
        contentType: 'image/png',
      });
      expect(second.etag).not.toBe(first.etag);
      expect((await bytesOf(store, key))!.toString()).toBe('second, longer version');
      expect(await store.head(key)).toMatchObject({ contentType: 'image/png', byteSize: 22 });
    });

    it('streams a large object whole (larger than any single read)', async () => {
      const key = `${root}/large/document.pdf`;
      const body = randomBytes(3 * 1024 * 1024 + 17);
      const stored = await store.put(key, body, { contentType: 'application/pdf' });
      expect(stored.byteSize).toBe(body.length);
      expect((await bytesOf(store, key))!.equals(body)).toBe(true);
    });

    it('answers null for a key that holds nothing', async () => {
      expect(await store.get(`${root}/missing/nothing.bin`)).toBeNull();
      expect(await store.head(`${root}/missing/nothing.bin`)).toBeNull();
    });

    it('deletes idempotently: the object is gone and a second delete succeeds', async () => {
      const key = `${root}/delete/file.pdf`;
      await store.put(key, Buffer.from('%PDF-1.4 …%%EOF'), { contentType: 'application/pdf' });
      await store.delete(key);
      expect(await store.head(key)).toBeNull();
      await expect(store.delete(key)).resolves.toBeUndefined();
      await expect(store.delete(`${root}/delete/never-was.pdf`)).resolves.toBeUndefined();
    });

    it('lists the objects under a prefix in key order, and only those', async () => {
      const keys = [
        `${root}/list/b/2.png`,
        `${root}/list/a/1.png`,
        `${root}/list/a-z.png`,
        `${root}/list/c.png`,
      ];
      for (const key of keys) await store.put(key, Buffer.from(key), { contentType: 'image/png' });
      await store.put(`${root}/listed-not/x.png`, Buffer.from('x'), { contentType: 'image/png' });
      const all = (await listed(store, `${root}/list/`)).map((object) => object.key);
      expect(all).toEqual([...keys].sort());
      const underA = (await listed(store, `${root}/list/a`)).map((object) => object.key);
      expect(underA).toEqual([`${root}/list/a-z.png`, `${root}/list/a/1.png`]);
      const one = await listed(store, `${root}/list/c.png`);
      expect(one).toHaveLength(1);
      expect(one[0]).toMatchObject({ key: `${root}/list/c.png`, contentType: 'image/png' });
      expect(await listed(store, `${root}/list/nothing-here/`)).toEqual([]);
    });

    it('signs a URL that reads the bytes, and refuses it tampered with', async () => {
      const key = `${root}/signed/document.pdf`;
      const body = Buffer.from('%PDF-1.7 a driver licence %%EOF');
      await store.put(key, body, { contentType: 'application/pdf' });
      const url = await store.signedUrl(key, { expiresInSeconds: 60, downloadName: 'licence.pdf' });
      expect(await readSigned(subject, url)).toEqual(body);
      const other = `${root}/signed/other.pdf`;
      await store.put(other, Buffer.from('%PDF-1.7 someone else %%EOF'), { contentType: 'application/pdf' });
      // The signature covers the key: pointing it at another object fails.
      expect(await readSigned(subject, url.replace('/document.pdf', '/other.pdf'))).toBeNull();
    });

    it('lets a signed URL expire', async () => {
      const key = `${root}/signed/expiring.png`;
      await store.put(key, Buffer.from('png bytes'), { contentType: 'image/png' });
      const url = await store.signedUrl(key, { expiresInSeconds: 1 });
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      expect(await readSigned(subject, url)).toBeNull();
    });

    it('refuses keys it could not have made: traversal, absolute, empty segments, odd characters', async () => {
      const body = Buffer.from('x');
      for (const key of [
        '../escape.png',
        'a/../../b.png',
        '/absolute.png',
        'a//b.png',
        'a/./b.png',
        '',
        'a/b c.png',
        'a\\b.png',
        'a/b.png\u0000',
        'é.png',
      ]) {
        await expect(store.put(key, body, { contentType: 'image/png' })).rejects.toBeInstanceOf(
          InvalidObjectKeyError,
        );
        await expect(store.get(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
        await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
        await expect(store.signedUrl(key, { expiresInSeconds: 10 })).rejects.toBeInstanceOf(
          InvalidObjectKeyError,
        );
      }
    });
  });
}
