import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/index.js';
import type { FileStore } from './store.js';
import { createFileStore } from './stores.js';

const SECRETS = {
  JWT_SECRET: 'a'.repeat(32),
  JWT_REFRESH_SECRET: 'b'.repeat(32),
  ENCRYPTION_KEY: 'c'.repeat(64),
};

describe('FILES_STORE configuration', () => {
  it('defaults to the disk store', () => {
    const config = loadConfig({ ...SECRETS });
    expect(config.FILES_STORE).toBe('disk');
    const disk = { kind: 'disk' } as FileStore;
    const chosen = createFileStore(config, () => disk);
    expect(chosen.store).toBe(disk);
    chosen.close();
  });

  it('names every S3 variable that FILES_STORE=s3 lacks', () => {
    let error: unknown;
    try {
      loadConfig({ ...SECRETS, FILES_STORE: 's3' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual([
      'S3_BUCKET',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
    ]);
    expect((error as Error).message).toContain('S3_BUCKET is required: FILES_STORE=s3');
  });

  it('refuses a bad bucket name, prefix or endpoint', () => {
    const s3 = { ...SECRETS, FILES_STORE: 's3', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' };
    for (const [name, value] of [
      ['S3_BUCKET', 'My_Bucket'],
      ['S3_KEY_PREFIX', 'no-slash'],
      ['S3_KEY_PREFIX', '../up/'],
      ['S3_ENDPOINT', 'minio:9000'],
      ['S3_FORCE_PATH_STYLE', 'maybe'],
    ] as const) {
      expect(() => loadConfig({ ...s3, S3_BUCKET: 'files', [name]: value }), `${name}=${value}`).toThrow(
        new RegExp(`${name}=`),
      );
    }
  });

  it('builds the S3 store from the variables, leaving the disk factory unused', async () => {
    const config = loadConfig({
      ...SECRETS,
      FILES_STORE: 's3',
      S3_ENDPOINT: 'https://account.r2.cloudflarestorage.com',
      S3_REGION: 'auto',
      S3_BUCKET: 'food-files',
      S3_KEY_PREFIX: 'prod/',
      S3_ACCESS_KEY_ID: 'key-id',
      S3_SECRET_ACCESS_KEY: 'key-secret',
      S3_FORCE_PATH_STYLE: 'true',
    });
    const chosen = createFileStore(config, () => {
      throw new Error('the disk store must not be made');
    });
    try {
      expect(chosen.store.kind).toBe('s3');
      const url = new URL(await chosen.store.signedUrl('menu/a.jpg', { expiresInSeconds: 60 }));
      expect(url.origin).toBe('https://account.r2.cloudflarestorage.com');
      expect(url.pathname).toBe('/food-files/prod/menu/a.jpg');
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^key-id\/\d{8}\/auto\/s3\/aws4_request$/);
    } finally {
      chosen.close();
    }
  });
});
