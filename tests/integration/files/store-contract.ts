/**
 * The contract of the file storage port (src/modules/files/store.ts, issue #18): what every
 * adapter (disk, S3) must do, run against each by its own test file:
 *
 *   describeFileStoreContract('s3', async () => ({ store, close }));
 *
 * `make` is called once per suite and returns a fresh, empty store. `verifySignedUrl` reads a
 * signed URL the way a client would and returns the bytes, or `null` when the URL is refused
 * (bad signature, expired, no such object); without it, the URL is fetched over HTTP and any
 * answer but 2xx counts as refused (S3's presigned URLs).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidObjectKeyError,
  type FileStore,
  type StoredObject,
} from '../../../src/modules/files/store.js';

export interface FileStoreUnderTest {
  store: FileStore;
  verifySignedUrl?: (url: string) => Promise<Buffer | null>;
  close(): Promise<void>;
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function fetchSignedUrl(url: string): Promise<Buffer | null> {
  const answer = await fetch(url);
  if (!answer.ok) {
    await answer.body?.cancel();
    return null;
  }
  return Buffer.from(await answer.arrayBuffer());
}

async function collect(iterable: AsyncIterable<StoredObject>): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  for await (const object of iterable) objects.push(object);
  return objects;
}

/** Keys an attacker or a bug could produce; none may reach a path or a URL. */
export const BAD_OBJECT_KEYS = [
  '',
  '/',
  '/absolute/key.jpg',
  '../escape.jpg',
  'menu/../../escape.jpg',
  'menu/..',
  'menu/./photo.jpg',
  'menu//photo.jpg',
  'menu/photo.jpg/',
  '.hidden',
  'menu\\..\\escape.jpg',
  'menu/photo .jpg',
  'menu/%2e%2e/escape.jpg',
  'menu/photo.jpg?x=1',
  'menu/photo.jpg#x',
  'menu/ph\u0000oto.jpg',
  'menu/ph\noto.jpg',
  'menu/phöto.jpg',
  'C:\\windows\\photo.jpg',
  `menu/${'a'.repeat(520)}.jpg`,
];

export function describeFileStoreContract(name: string, make: () => Promise<FileStoreUnderTest>): void {
  describe(`file store contract: ${name}`, () => {
    let subject: FileStoreUnderTest;
    let store: FileStore;
    let readSignedUrl: (url: string) => Promise<Buffer | null>;
    /** A namespace per test, so tests never see each other's objects. */
    const space = (label: string) => `contract/${label}-${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      subject = await make();
      store = subject.store;
      readSignedUrl = subject.verifySignedUrl ?? fetchSignedUrl;
    });
    afterAll(async () => {
      await subject?.close();
    });

    it('answers its readiness check', async () => {
      await expect(store.check()).resolves.toBeUndefined();
      expect(['disk', 's3']).toContain(store.kind);
    });

    it('stores bytes under a key and gives them back, with what it knows of them', async () => {
      const key = `${space('put')}/original.jpg`;
      // Every byte value, and more than one read buffer's worth.
      const body = Buffer.concat([
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        randomBytes(300_000),
      ]);
      const stored = await store.put(key, body, {
        contentType: 'image/jpeg',
        cacheControl: 'private, max-age=60',
      });
      expect(stored).toMatchObject({ key, byteSize: body.length, contentType: 'image/jpeg' });
      expect(stored.etag).toMatch(/^".+"$/);
      expect(stored.lastModified).toBeInstanceOf(Date);

      const head = await store.head(key);
      expect(head).toMatchObject({
        key,
        byteSize: body.length,
        contentType: 'image/jpeg',
        etag: stored.etag,
      });
      expect(Math.abs(head!.lastModified.getTime() - Date.now())).toBeLessThan(5 * 60_000);

      const got = await store.get(key);
      expect(got).not.toBeNull();
      expect(got!.object).toMatchObject({
        key,
        byteSize: body.length,
        contentType: 'image/jpeg',
        etag: stored.etag,
      });
      const bytes = await bytesOf(got!.body);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(
        createHash('sha256').update(body).digest('hex'),
      );
    });

    it('replaces what a key held when put again (the last write wins, whole)', async () => {
      const key = `${space('replace')}/doc.pdf`;
      const first = await store.put(key, Buffer.from('first version, longer than the second'), {
        contentType: 'application/pdf',
      });
      const second = await store.put(key, Buffer.from('second'), { contentType: 'image/png' });
      expect(second.etag).not.toBe(first.etag);
      const head = await store.head(key);
      expect(head).toMatchObject({ byteSize: 6, contentType: 'image/png', etag: second.etag });
      const got = await store.get(key);
      expect((await bytesOf(got!.body)).toString('utf8')).toBe('second');
      // The same bytes under the same key: the validator is the same (it describes the bytes).
      const again = await store.put(key, Buffer.from('second'), { contentType: 'image/png' });
      expect(again.etag).toBe(second.etag);
    });

    it('streams a large object whole (larger than any single read)', async () => {
      const key = `${space('large')}/document.pdf`;
      const body = randomBytes(3 * 1024 * 1024 + 17);
      const stored = await store.put(key, body, { contentType: 'application/pdf' });
      expect(stored.byteSize).toBe(body.length);
      const read = await store.get(key);
      expect((await bytesOf(read!.body)).equals(body)).toBe(true);
    });

    it('answers null for a key that holds nothing, on get and head', async () => {
      const key = `${space('missing')}/nothing.jpg`;
      await expect(store.get(key)).resolves.toBeNull();
      await expect(store.head(key)).resolves.toBeNull();
    });

    it('deletes an object, and deleting again (or what never existed) succeeds', async () => {
      const base = space('delete');
      const key = `${base}/gone.webp`;
      const kept = `${base}/kept.webp`;
      await store.put(key, Buffer.from('to delete'), { contentType: 'image/webp' });
      await store.put(kept, Buffer.from('to keep'), { contentType: 'image/webp' });
      await store.delete(key);
      await expect(store.head(key)).resolves.toBeNull();
      await expect(store.get(key)).resolves.toBeNull();
      await expect(store.delete(key)).resolves.toBeUndefined();
      await expect(store.delete(`${base}/never-existed.webp`)).resolves.toBeUndefined();
      // Only that key went.
      expect((await store.head(kept))?.byteSize).toBe(7);
      expect((await collect(store.list(`${base}/`))).map((object) => object.key)).toEqual([kept]);
    });

    it('lists every object under a prefix, in key order, with sizes', async () => {
      const base = space('list');
      // Deliberately stored out of order, across folders, upper case before lower case (byte
      // order). '-' (0x2d) sorts before '/' (0x2f): a store that walks folders one level at a
      // time would list `b/…` before `b-1.jpg`, the wrong way round.
      const keys = [
        `${base}/b/2.jpg`,
        `${base}/a.jpg`,
        `${base}/b-1.jpg`,
        `${base}/bz.jpg`,
        `${base}/b/1.jpg`,
        `${base}/B.jpg`,
        `${base}/c_9/x.png`,
      ];
      const typeOf = (key: string) => (key.endsWith('.png') ? 'image/png' : 'image/jpeg');
      for (const [index, key] of keys.entries())
        await store.put(key, Buffer.alloc(index + 1, index), { contentType: typeOf(key) });
      const outside = `${space('list-outside')}/a.jpg`;
      await store.put(outside, Buffer.from('elsewhere'), { contentType: 'image/jpeg' });

      const listed = await collect(store.list(`${base}/`));
      const expected = [...keys].sort();
      expect(listed.map((object) => object.key)).toEqual(expected);
      for (const object of listed) {
        expect(object.byteSize).toBe(keys.indexOf(object.key) + 1);
        expect(object.contentType).toBe(typeOf(object.key));
        expect(object.etag).toMatch(/^".+"$/);
        expect(object.etag).toBe((await store.head(object.key))?.etag);
        expect(object.lastModified).toBeInstanceOf(Date);
      }
      // A prefix is a prefix of the key, not only a folder.
      expect((await collect(store.list(`${base}/b`))).map((object) => object.key)).toEqual([
        `${base}/b-1.jpg`,
        `${base}/b/1.jpg`,
        `${base}/b/2.jpg`,
        `${base}/bz.jpg`,
      ]);
      expect((await collect(store.list(`${base}/b/`))).map((object) => object.key)).toEqual([
        `${base}/b/1.jpg`,
        `${base}/b/2.jpg`,
      ]);
      await expect(collect(store.list(`${base}/nothing-here/`))).resolves.toEqual([]);
    });

    it('lists more objects than fit one page of a listing', async () => {
      const base = space('many');
      const keys = Array.from({ length: 25 }, (_, index) => `${base}/${String(index).padStart(3, '0')}.jpg`);
      await Promise.all(keys.map((key) => store.put(key, Buffer.from(key), { contentType: 'image/jpeg' })));
      const listed = await collect(store.list(`${base}/`));
      expect(listed.map((object) => object.key)).toEqual(keys);
    });

    it('signs a URL that reads the bytes', async () => {
      const key = `${space('signed')}/licence.pdf`;
      const body = randomBytes(4_096);
      await store.put(key, body, { contentType: 'application/pdf' });
      const url = await store.signedUrl(key, { expiresInSeconds: 60 });
      expect(typeof url).toBe('string');
      const read = await readSignedUrl(url);
      expect(read?.equals(body)).toBe(true);
      // With a download name too (the disposition's header is the adapter's own test).
      const named = await store.signedUrl(key, {
        expiresInSeconds: 60,
        downloadName: 'Permis de conduire "A".pdf',
      });
      expect((await readSignedUrl(named))?.equals(body)).toBe(true);
    });

    it('refuses a signed URL once it has expired', async () => {
      const key = `${space('expiry')}/proof.jpg`;
      await store.put(key, Buffer.from('delivery proof'), { contentType: 'image/jpeg' });
      const url = await store.signedUrl(key, { expiresInSeconds: 1 });
      // Signatures carry whole seconds: past the second after the one it was signed in, it is dead.
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      await expect(readSignedUrl(url)).resolves.toBeNull();
      // The object is still there: only the URL expired.
      expect((await store.head(key))?.byteSize).toBe(14);
    });

    it('refuses a signed URL altered to read another object', async () => {
      const base = space('tamper');
      await store.put(`${base}/mine.jpg`, Buffer.from('mine'), { contentType: 'image/jpeg' });
      await store.put(`${base}/other.jpg`, Buffer.from('someone else'), { contentType: 'image/jpeg' });
      const url = await store.signedUrl(`${base}/mine.jpg`, { expiresInSeconds: 60 });
      const altered = url.replace('mine.jpg', 'other.jpg');
      expect(altered).not.toBe(url);
      await expect(readSignedUrl(altered)).resolves.toBeNull();
    });

    it('signs no URL that reads an object that does not exist', async () => {
      const key = `${space('signed-missing')}/none.jpg`;
      let url: string | undefined;
      try {
        url = await store.signedUrl(key, { expiresInSeconds: 60 });
      } catch {
        return; // refusing to sign is as good
      }
      await expect(readSignedUrl(url)).resolves.toBeNull();
    });

    it('refuses every key that is not one the files context makes, and stores nothing', async () => {
      const probe = space('refused');
      await store.put(`${probe}/witness.jpg`, Buffer.from('w'), { contentType: 'image/jpeg' });
      for (const key of BAD_OBJECT_KEYS) {
        const body = Buffer.from('evil');
        await expect(store.put(key, body, { contentType: 'image/jpeg' }), key).rejects.toBeInstanceOf(
          InvalidObjectKeyError,
        );
        await expect(store.get(key), key).rejects.toBeInstanceOf(InvalidObjectKeyError);
        await expect(store.head(key), key).rejects.toBeInstanceOf(InvalidObjectKeyError);
        await expect(store.delete(key), key).rejects.toBeInstanceOf(InvalidObjectKeyError);
        await expect(store.signedUrl(key, { expiresInSeconds: 60 }), key).rejects.toBeInstanceOf(
          InvalidObjectKeyError,
        );
      }
      for (const prefix of ['../', '/', 'contract/../', 'a//', '%2e%2e/'])
        await expect(collect(store.list(prefix)), prefix).rejects.toBeInstanceOf(InvalidObjectKeyError);
      // Nothing was written anywhere: every object in the store is one a test put under contract/.
      const everything = await collect(store.list(''));
      expect(everything.length).toBeGreaterThan(0);
      for (const object of everything) expect(object.key.startsWith('contract/'), object.key).toBe(true);
    });
  });
}
