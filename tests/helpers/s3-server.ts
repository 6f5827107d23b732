import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A real S3-protocol server for the S3 adapter's tests (issue #18): @20minutes/s3rver in a child
 * process (tests/helpers/s3-server-process.ts says why), on a free port of 127.0.0.1, with its
 * objects in a temporary directory removed on `stop()`. It checks Signature V4 on every request
 * and on presigned URLs (expiry included), so a wrong secret or a tampered URL is refused as S3
 * would. Nothing outside this machine is reached; CI runs it the same way.
 */
export interface S3TestServer {
  endpoint: string;
  region: string;
  /** The only credentials s3rver knows. */
  accessKeyId: string;
  secretAccessKey: string;
  /** Buckets that exist from the start. */
  buckets: string[];
  directory: string;
  stop(): Promise<void>;
}

const HELPERS = path.dirname(fileURLToPath(import.meta.url));
const PROCESS_SCRIPT = path.join(HELPERS, 's3-server-process.ts');
/** The project root, where `--import tsx` and the dev dependency resolve. */
const ROOT = path.resolve(HELPERS, '..', '..');

export async function startS3Server(options: { buckets?: string[] } = {}): Promise<S3TestServer> {
  const buckets = options.buckets ?? ['files-test'];
  const directory = await mkdtemp(path.join(tmpdir(), 's3-test-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', PROCESS_SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, S3_TEST_DIRECTORY: directory, S3_TEST_BUCKETS: buckets.join(',') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let port: number;
  try {
    port = await listeningPort(child);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    buckets,
    directory,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.stdin?.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Resolves with the port the child prints, or rejects with what it wrote to stderr. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    const timer = setTimeout(
      () => reject(new Error(`the S3 test server did not start in 20 s: ${errors}`)),
      20_000,
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString('utf8')).slice(-4_000);
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const line = output.split('\n')[0];
      if (output.includes('\n') && line !== undefined) {
        clearTimeout(timer);
        try {
          resolve((JSON.parse(line) as { port: number }).port);
        } catch {
          reject(new Error(`the S3 test server said ${JSON.stringify(line)}`));
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the S3 test server exited (${code ?? signal}) before listening: ${errors.trim()}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
