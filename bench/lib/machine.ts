import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  postgres?: string;
  /** How the benchmark reached PostgreSQL: `unix socket /var/run/postgresql` or `tcp host:port`. */
  postgresConnection: string;
  measuredAt: string;
}

/** Describes the machine a figure was measured on; every result file carries it. */
export async function describeMachine(postgresVersion?: () => Promise<string>): Promise<MachineDescription> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    ...(postgresVersion === undefined ? {} : { postgres: await postgresVersion() }),
    postgresConnection: postgresConnection(),
    measuredAt: new Date().toISOString(),
  };
}

function postgresConnection(): string {
  const url = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const socket = url.searchParams.get('host');
  return socket !== null && socket.startsWith('/') ? `unix socket ${socket}` : `tcp ${url.host}`;
}

const resultsDirectory = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes bench/results/<name>.json (bigints as strings) and returns its path. */
export function writeResult(name: string, result: unknown): string {
  mkdirSync(resultsDirectory, { recursive: true });
  const file = path.join(resultsDirectory, `${name}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(result, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2)}\n`,
  );
  return file;
}

export function gitRevision(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
