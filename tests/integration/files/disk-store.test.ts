import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDiskFileStore } from '../../../src/modules/files/disk-store.js';
import { describeFileStoreContract } from './store-contract.js';

describeFileStoreContract('disk', async () => {
  const directory = await mkdtemp(path.join(tmpdir(), 'fd-files-'));
  const store = createDiskFileStore({
    directory,
    publicBaseUrl: 'http://127.0.0.1:3000',
    signingKey: 'a-test-signing-key-of-32-characters',
  });
  return {
    store,
    verifySignedUrl: (url) => store.verifySignedUrl(url),
    close: () => rm(directory, { recursive: true, force: true }),
  };
});

describe('disk store', () => {
  it('leaves no temporary file behind a write, and writes nowhere outside its directory', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'fd-files-'));
    const store = createDiskFileStore({ directory, publicBaseUrl: 'http://x', signingKey: 'k'.repeat(32) });
    await store.put('a/b.png', Buffer.from('bytes'), { contentType: 'image/png' });
    expect(await readdir(path.join(directory, 'tmp'))).toEqual([]);
    expect((await readdir(directory)).sort()).toEqual(['objects', 'tmp']);
    await rm(directory, { recursive: true, force: true });
  });

  it('refuses a signature made with another key, and says when a good one expired', async () => {
    let now = new Date('2026-12-05T10:00:00Z');
    const directory = await mkdtemp(path.join(tmpdir(), 'fd-files-'));
    const options = { directory, publicBaseUrl: 'http://x', now: () => now };
    const store = createDiskFileStore({ ...options, signingKey: 'k'.repeat(32) });
    const forger = createDiskFileStore({ ...options, signingKey: 'f'.repeat(32) });
    const parse = (url: string) => {
      const parsed = new URL(url);
      return {
        key: 'a/b.png',
        expires: Number(parsed.searchParams.get('expires')),
        signature: parsed.searchParams.get('sig')!,
      };
    };
    expect(store.verifyBlobSignature(parse(await store.signedUrl('a/b.png', { expiresInSeconds: 60 })))).toBe(
      'valid',
    );
    expect(
      store.verifyBlobSignature(parse(await forger.signedUrl('a/b.png', { expiresInSeconds: 60 }))),
    ).toBe('invalid');
    const signed = parse(await store.signedUrl('a/b.png', { expiresInSeconds: 60 }));
    expect(store.verifyBlobSignature({ ...signed, expires: signed.expires + 3600 })).toBe('invalid');
    now = new Date(now.getTime() + 61_000);
    expect(store.verifyBlobSignature(signed)).toBe('expired');
    await rm(directory, { recursive: true, force: true });
  });
});
