/**
 * A real ClamAV daemon for tests (Debian's `clamav-daemon`), started per test file with a
 * signature database the test writes itself: the public signatures cannot be downloaded here,
 * and our own make the verdicts predictable. docs/files-scanning.md, "How the tests make their
 * own signatures".
 *
 * - Body signatures go in an `.ndb` file written by hand, one `Name:0:*:<hex>` line each
 *   (target type 0: any file; offset `*`: anywhere).
 * - Hash signatures go in an `.hdb` file made by `sigtool --md5` (`<md5>:<size>:<name>`), over
 *   a file named after the signature.
 *
 * clamd reports a signature from a database of ours with `.UNOFFICIAL` after its name.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

/** The file the EICAR test string makes: harmless, recognised by every scanner. */
export const EICAR = Buffer.from(
  'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*',
  'latin1',
);

function findExecutable(name: string): string | undefined {
  const directories = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const directory of directories) {
    if (directory === '') continue;
    const candidate = path.join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface ClamdTools {
  clamd: string;
  sigtool: string;
}

/** The binaries, or why the clamd tests cannot run here (to be printed: a skip must be visible). */
export function findClamdTools(): { tools: ClamdTools } | { missing: string } {
  const clamd = findExecutable('clamd');
  const sigtool = findExecutable('sigtool');
  if (clamd !== undefined && sigtool !== undefined) return { tools: { clamd, sigtool } };
  const absent = [clamd === undefined ? 'clamd' : [], sigtool === undefined ? 'sigtool' : []].flat();
  return {
    missing: `${absent.join(' and ')} not found on PATH or in /usr/sbin (Debian: apt-get install clamav-daemon clamav)`,
  };
}

export interface TestSignatures {
  /** Matched anywhere in a scanned file (`.ndb`, written by hand). */
  body?: { name: string; bytes: Buffer }[];
  /** Matched on a whole file's MD5 and size (`.hdb`, made with `sigtool --md5`). */
  hash?: { name: string; file: Buffer }[];
}

export interface StartClamdOptions {
  signatures: TestSignatures;
  /** clamd's `StreamMaxLength`, in bytes. */
  streamMaxLengthBytes: number;
  /** Also listen on a Unix socket in the temporary directory. */
  localSocket?: boolean;
  /** How long to wait for the first PONG. */
  startTimeoutMs?: number;
}

export interface RunningClamd {
  host: string;
  port: number;
  /** The Unix socket, when asked for. */
  socketPath: string | undefined;
  /** From spawn to the first PONG, in ms. */
  startMs: number;
  process: ChildProcess;
  /** SIGSTOP: clamd stays listening (the kernel still accepts connections) but never answers. */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  stop(): Promise<void>;
}

export { freePort };

function writeSignatures(tools: ClamdTools, directory: string, signatures: TestSignatures): void {
  const body = (signatures.body ?? []).map(({ name, bytes }) => `${name}:0:*:${bytes.toString('hex')}\n`);
  if (body.length > 0) writeFileSync(path.join(directory, 'test.ndb'), body.join(''));
  const hashes = (signatures.hash ?? []).map(({ name, file }) => {
    writeFileSync(path.join(directory, name), file);
    const made = spawnSync(tools.sigtool, ['--md5', name], { cwd: directory, encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`sigtool --md5 failed: ${made.stderr}`);
    rmSync(path.join(directory, name));
    return made.stdout;
  });
  if (hashes.length > 0) writeFileSync(path.join(directory, 'test.hdb'), hashes.join(''));
}

function clamdConf(directory: string, port: number, options: StartClamdOptions, socketPath?: string): string {
  return [
    'Foreground yes',
    `TCPSocket ${port}`,
    'TCPAddr 127.0.0.1',
    ...(socketPath === undefined ? [] : [`LocalSocket ${socketPath}`]),
    `DatabaseDirectory ${directory}`,
    `TemporaryDirectory ${directory}`,
    `StreamMaxLength ${options.streamMaxLengthBytes}`,
    // No LogFile: clamd logs nowhere but its own stderr, which the helper keeps for errors.
    'LogTime no',
    // There is no bytecode database here; without this clamd looks for one.
    'Bytecode no',
    'MaxThreads 4',
    '',
  ].join('\n');
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('connect', () => socket.end('zPING\0'));
    socket.on('data', (data) => (reply += data.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(reply === 'PONG\0'));
  });
}

async function waitForPong(child: ChildProcess, port: number, timeoutMs: number, output: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `clamd exited (${child.exitCode ?? child.signalCode}) before answering PING:\n${output()}`,
      );
    if (await ping(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`clamd did not answer PING within ${timeoutMs} ms:\n${output()}`);
}

function stopper(child: ChildProcess, directory: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(forced);
    }
    rmSync(directory, { recursive: true, force: true });
  };
}

/** Starts clamd in a temporary directory with the given signatures; `stop()` kills it and cleans up. */
export async function startClamd(tools: ClamdTools, options: StartClamdOptions): Promise<RunningClamd> {
  const directory = mkdtempSync(path.join(tmpdir(), 'clamd-test-'));
  const port = await freePort();
  const socketPath = options.localSocket === true ? path.join(directory, 'clamd.sock') : undefined;
  writeSignatures(tools, directory, options.signatures);
  const configPath = path.join(directory, 'clamd.conf');
  writeFileSync(configPath, clamdConf(directory, port, options, socketPath));
  const started = performance.now();
  const child = spawn(tools.clamd, ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (data: Buffer) => (output = (output + data.toString('utf8')).slice(-4_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = stopper(child, directory);
  try {
    await waitForPong(child, port, options.startTimeoutMs ?? 30_000, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    socketPath,
    startMs: Math.round(performance.now() - started),
    process: child,
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    stop,
  };
}
