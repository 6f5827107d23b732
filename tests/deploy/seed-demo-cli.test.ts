import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const root = path.resolve(import.meta.dirname, '../..');
let database: TestDatabase;
// One data directory for both runs: it holds the generated development secrets (the master key).
const dataDirectory = mkdtempSync(path.join(tmpdir(), 'fd-seed-cli-'));
beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
});
afterAll(async () => database?.drop());

function seedDemo(): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/seed-demo.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: database.url,
        DATA_DIR: dataDirectory,
        // No server listens here: the simulators' webhooks for the top-up reach nobody.
        PORT: '1',
        PAYMENT_SIMULATOR_DELAY_MS: '300',
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (status) => resolve({ status, output }));
  });
}

describe('npm run seed:demo against DATABASE_URL (no server running)', () => {
  it(
    'creates the demo orders, paid from a topped-up wallet, and a second run adds no orders',
    { timeout: 180_000 },
    async () => {
      const first = await seedDemo();
      expect(first.status, first.output.slice(-3_000)).toBe(0);
      expect(first.output).not.toContain('skipped');
      const placed = first.output.split('\n').filter((line) => line.startsWith('orders: order '));
      expect(placed, first.output.slice(-3_000)).toHaveLength(7);
      const again = await seedDemo();
      expect(again.status, again.output.slice(-3_000)).toBe(0);
      expect(again.output.split('\n').filter((line) => line.startsWith('orders: '))).toEqual([]);
    },
  );
});
