/**
 * The S3-protocol test server's own process (started by tests/helpers/s3-server.ts, never by
 * itself): @20minutes/s3rver on 127.0.0.1 and a free port, its objects in S3_TEST_DIRECTORY.
 * It prints `{"port":N}` once listening, and exits when its parent closes stdin or sends SIGTERM.
 *
 * Why a process of its own: s3rver makes ListObjectsV2 continuation tokens with DES, which
 * OpenSSL 3 keeps in its legacy provider; Node loads that only when started with
 * `--openssl-legacy-provider`, a flag the test workers should not carry.
 */
import { createRequire } from 'node:module';

interface KoaContext {
  path: string;
  mountPath?: string;
  state: { vhost?: boolean };
}
type Middleware = ((context: KoaContext, next: () => Promise<unknown>) => unknown) & { name: string };
interface ListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}
interface Listing {
  objects: { key: string }[];
  commonPrefixes: string[];
  isTruncated: boolean;
}
interface S3rver {
  middleware: Middleware[];
  store: { listObjects(bucket: string, options: ListOptions): Promise<Listing> };
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rver;

const require = createRequire(import.meta.url);
let S3rverClass: S3rverConstructor;
try {
  S3rverClass = require('@20minutes/s3rver') as S3rverConstructor;
} catch (error) {
  process.stderr.write(
    `the S3 test server needs the dev dependency @20minutes/s3rver (npm install): ${(error as Error).message}\n`,
  );
  process.exit(3);
}

const directory = process.env.S3_TEST_DIRECTORY;
const buckets = (process.env.S3_TEST_BUCKETS ?? '').split(',').filter((name) => name !== '');
if (directory === undefined) {
  process.stderr.write('S3_TEST_DIRECTORY is not set\n');
  process.exit(2);
}

const server = new S3rverClass({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name })),
});

// The SDK (v3) addresses a bucket as `/<bucket>/` (path style) and signs that path, while s3rver
// rebuilds the signed path as `/<bucket>`: every bucket-level request (HeadBucket,
// ListObjectsV2) would fail with SignatureDoesNotMatch. s3rver's own virtual-host branch builds
// `/<bucket>` + mount path, so marking such a request as virtual-hosted with mount path `/`
// makes it sign `/<bucket>/`, exactly what the SDK signed. Signatures are still checked in full.
const vhost = server.middleware.findIndex((middleware) => middleware.name === 'vhost');
if (vhost < 0) {
  process.stderr.write('this s3rver has no vhost middleware: check the bucket path fix below it\n');
  process.exit(4);
}
server.middleware.splice(vhost + 1, 0, function bucketPathWithSlash(context, next) {
  if (context.state.vhost !== true && /^\/[^/]+\/$/.test(context.path)) {
    context.state.vhost = true;
    context.mountPath = '/';
  }
  return next();
});

// S3 lists keys in UTF-8 byte order; s3rver walks its folders, so it lists `b/1.jpg` before
// `b-1.jpg` ('-' is 0x2d, '/' 0x2f), and a page that ends inside `b/` would then skip `b-1.jpg`
// (the next page starts after the last key). Without a delimiter (the adapter never sends one),
// list everything under the prefix, sort by bytes, and cut the page here.
const listObjects = server.store.listObjects.bind(server.store);
server.store.listObjects = async (bucket, options) => {
  if (options.delimiter) return listObjects(bucket, options);
  const { startAfter = '', maxKeys = Infinity } = options;
  const all = await listObjects(bucket, { ...options, startAfter: '', maxKeys: Infinity });
  const after = Buffer.from(startAfter);
  const objects = all.objects
    .filter((object) => Buffer.compare(Buffer.from(object.key), after) > 0)
    .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  return { objects: objects.slice(0, maxKeys), commonPrefixes: [], isTruncated: objects.length > maxKeys };
};

// Signature V4 encodes query values per RFC 3986 (`'`, `(`, `)`, `*`, `!` as %XX), s3rver with
// encodeURIComponent, which leaves those five alone: a presigned URL whose
// response-content-disposition carries `filename*=UTF-8''…` would never match. In this process
// only, encodeURIComponent encodes them too (still valid percent-encoding for everything else).
const encodeComponent = globalThis.encodeURIComponent;
globalThis.encodeURIComponent = (value: string | number | boolean) =>
  encodeComponent(value).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );

const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);

let closing = false;
const close = () => {
  if (closing) return;
  closing = true;
  server.close().finally(() => process.exit(0));
};
process.on('SIGTERM', close);
process.stdin.on('end', close);
process.stdin.resume();
