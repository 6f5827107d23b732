/**
 * Picks the file store the configuration names (FILES_STORE, issue #18). The disk store is
 * passed in, made by its own factory, so this file depends on the S3 adapter alone.
 */
import type { Config } from '../../config/index.js';
import { createS3FileStore, type S3FileStore } from './s3-store.js';
import type { FileStore } from './store.js';

export type FileStoreConfig = Pick<
  Config,
  | 'FILES_STORE'
  | 'S3_ENDPOINT'
  | 'S3_PUBLIC_ENDPOINT'
  | 'S3_REGION'
  | 'S3_BUCKET'
  | 'S3_KEY_PREFIX'
  | 'S3_ACCESS_KEY_ID'
  | 'S3_SECRET_ACCESS_KEY'
  | 'S3_FORCE_PATH_STYLE'
>;

export interface ChosenFileStore {
  store: FileStore;
  /** Releases the store's connections on shutdown (nothing for the disk). */
  close(): void;
}

/** The S3 store the configuration describes; loadConfig has already required its variables. */
export function s3FileStoreFromConfig(config: FileStoreConfig): S3FileStore {
  const { S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = config;
  if (S3_BUCKET === undefined || S3_ACCESS_KEY_ID === undefined || S3_SECRET_ACCESS_KEY === undefined)
    throw new Error('FILES_STORE=s3 needs S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY');
  return createS3FileStore({
    endpoint: config.S3_ENDPOINT,
    publicEndpoint: config.S3_PUBLIC_ENDPOINT,
    region: config.S3_REGION,
    bucket: S3_BUCKET,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    prefix: config.S3_KEY_PREFIX,
  });
}

/** `disk` (the default): the store `diskStore()` makes; `s3`: the S3 adapter. */
export function createFileStore(config: FileStoreConfig, diskStore: () => FileStore): ChosenFileStore {
  if (config.FILES_STORE === 's3') {
    const store = s3FileStoreFromConfig(config);
    return { store, close: () => store.close() };
  }
  return { store: diskStore(), close: () => undefined };
}
