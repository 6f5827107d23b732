import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../../..');
const SERVER = path.join(ROOT, 'src/server.ts');
/** The last lines the app wrote, kept to explain a failed start. */
const KEPT_OUTPUT_LINES = 40;

export interface AppProcess {
  baseUrl: string;
  /** Starts the app (again) and resolves once /health/ready answers 200. */
  start(): Promise<void>;
  /** SIGKILL: no drain, no closers, nothing flushed (`kill -9`). */
  kill(): Promise<void>;
  /** SIGTERM and wait (the end of a schedule). */
  stop(): Promise<void>;
  running(): boolean;
  /** How many times the app was started. */
  starts(): number;
  output(): string[];
  /** The running process's id (benchmarks read its CPU time), undefined when not running. */
  pid(): number | undefined;
}

/**
 * The app as production runs it: `src/server.ts` in a process of its own, configured only by its
 * environment (DATABASE_URL, REDIS_URL, the providers' URLs), listening on `port`; `nodeArguments`
 * go to node after tsx (a preload such as the tracing registration).
 */
export function appProcess(
  environment: Record<string, string>,
  port: number,
  options: { nodeArguments?: readonly string[] } = {},
): AppProcess {
  const baseUrl = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let started = 0;
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') output.push(line);
    output.splice(0, Math.max(0, output.length - KEPT_OUTPUT_LINES));
  };

  async function ready(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (Date.now() < deadline) {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null)
        throw new Error(`the app exited during its start:\n${output.join('\n')}`);
      const answer = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(2_000) }).catch(
        () => undefined,
      );
      if (answer?.status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the app was not ready in ${deadlineMs} ms:\n${output.join('\n')}`);
  }

  return {
    baseUrl,
    async start() {
      if (child !== undefined && child.exitCode === null && child.signalCode === null)
        throw new Error('the app is already running');
      started += 1;
      const spawned = spawn(process.execPath, ['--import', 'tsx', ...(options.nodeArguments ?? []), SERVER], {
        cwd: ROOT,
        env: { ...process.env, ...environment, PORT: String(port), HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      spawned.stdout?.on('data', keep);
      spawned.stderr?.on('data', keep);
      exited = new Promise((resolve) => spawned.once('exit', () => resolve()));
      child = spawned;
      await ready(90_000);
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    starts: () => started,
    output: () => [...output],
    pid: () => (child !== undefined && child.exitCode === null ? child.pid : undefined),
  };
}
