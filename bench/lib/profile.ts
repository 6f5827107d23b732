import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Profiling runs only (CPU_PROFILE=<directory>): a V8 CPU profile of this process over the
 * measured phase, written as `<name>-<time>.cpuprofile` (open it in Chrome DevTools). Returns
 * undefined, and costs nothing, when CPU_PROFILE is not set.
 */
export async function startProfile(name: string): Promise<{ stop(): Promise<void> } | undefined> {
  // PGSS_RESET=1: PostgreSQL's statement figures of the measured phase only (pg_stat_statements,
  // read from the postgres database afterwards).
  if (process.env.PGSS_RESET === '1')
    execFileSync('psql', ['-U', 'postgres', '-h', '127.0.0.1', '-qc', 'select pg_stat_statements_reset()']);
  const directory = process.env.CPU_PROFILE;
  if (directory === undefined || directory === '') return undefined;
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(path.join(directory, `${name}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    },
  };
}
