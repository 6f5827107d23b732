import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * docs/operations.md, "Backup and restore": pg_dump of a database with real activity (the demo
 * seed: orders paid from a topped-up wallet), pg_restore into a new database, then the ledger
 * verifies there with the same final hash; and the signed audit export of the restored copy
 * passes the standalone verifier, which names a changed byte.
 */
const root = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'fd-backup-'));
// One data directory for every run: it holds the generated development secrets.
const dataDirectory = path.join(work, 'data');
let original: TestDatabase;
let restored: TestDatabase;

function run(
  command: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { PATH: process.env.PATH, DATA_DIR: dataDirectory, PORT: '1', ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (status) => resolve({ status, output }));
  });
}

const tsx = (script: string, args: string[], env: Record<string, string | undefined>) =>
  run(process.execPath, ['--import', 'tsx', script, ...args], env);

async function verifiedHash(url: string): Promise<string> {
  const verify = await tsx('src/cli/ledger.ts', ['verify'], { DATABASE_URL: url });
  expect(verify.status, verify.output.slice(-3_000)).toBe(0);
  expect(verify.output).toContain('verify: OK');
  return /final hash ([0-9a-f]{64})/.exec(verify.output)![1]!;
}

beforeAll(async () => {
  if (!hasClientTools) return;
  original = await createTestDatabase({ migrate: false });
  restored = await createTestDatabase({ migrate: false });
  const seeded = await tsx('src/cli/seed-demo.ts', [], {
    DATABASE_URL: original.url,
    PAYMENT_SIMULATOR_DELAY_MS: '300',
  });
  expect(seeded.status, seeded.output.slice(-3_000)).toBe(0);
}, 240_000);
afterAll(async () => {
  await original?.drop();
  await restored?.drop();
});

// PostgreSQL's client tools come with the server's Debian package; without them there is nothing to test.
const hasClientTools = ['pg_dump', 'pg_restore'].every((tool) => spawnSync(tool, ['--version']).status === 0);
if (!hasClientTools) console.warn('[backup] pg_dump/pg_restore not installed: backup and restore NOT TESTED');

describe.runIf(hasClientTools)('backup and restore', () => {
  it(
    'pg_dump then pg_restore into a new database: the ledger verifies with the same final hash',
    { timeout: 240_000 },
    async () => {
      const before = await verifiedHash(original.url);
      const dump = path.join(work, 'backup.dump');
      const dumped = await run('pg_dump', ['--format=custom', '--no-owner', `--file=${dump}`, original.url]);
      expect(dumped.status, dumped.output).toBe(0);
      const restoredRun = await run('pg_restore', [
        '--no-owner',
        '--exit-on-error',
        `--dbname=${restored.url}`,
        dump,
      ]);
      expect(restoredRun.status, restoredRun.output).toBe(0);
      expect(await verifiedHash(restored.url)).toBe(before);
    },
  );

  it(
    'the signed audit export of the restored copy passes the standalone verifier, which catches one changed byte',
    { timeout: 240_000 },
    async () => {
      const seed = Buffer.alloc(32, 7).toString('base64');
      const exportDirectory = path.join(work, 'export');
      const exported = await tsx('src/cli/audit-export.ts', [exportDirectory], {
        DATABASE_URL: restored.url,
        AUDIT_SIGNING_KEY: seed,
      });
      expect(exported.status, exported.output.slice(-3_000)).toBe(0);
      const hash = await verifiedHash(restored.url);
      expect(exported.output).toContain(`final hash ${hash}`);

      // The auditor pins the operator's public key, given to them apart from the export.
      const manifest = JSON.parse(readFileSync(path.join(exportDirectory, 'manifest.json'), 'utf8')) as {
        ledger: { events: number; finalHash: string };
        auditLog: { entries: number };
        signature: { publicKey: string; ephemeral: boolean };
      };
      expect(manifest.ledger.finalHash).toBe(hash);
      expect(manifest.ledger.events).toBeGreaterThan(0);
      expect(manifest.auditLog.entries).toBeGreaterThan(0);
      expect(manifest.signature.ephemeral).toBe(false);
      const pinned = path.join(work, 'operator.pem');
      writeFileSync(pinned, manifest.signature.publicKey);
      const verifier = (directory: string, key = pinned) =>
        run(process.execPath, ['scripts/verify-audit-export.mjs', directory, '--public-key', key]);
      const good = await verifier(exportDirectory);
      expect(good.status, good.output).toBe(0);
      expect(good.output).toContain('audit export: OK');

      // One amount changed in the ledger file (and the file's digest in the manifest left alone).
      const ledgerFile = path.join(exportDirectory, 'ledger.ndjson');
      const text = readFileSync(ledgerFile, 'utf8');
      const tampered = text.replace(/(\\"amountMinor\\":\\")(\d)/, (_, prefix: string, digit: string) => {
        return `${prefix}${digit === '9' ? '8' : String(Number(digit) + 1)}`;
      });
      expect(tampered).not.toBe(text);
      writeFileSync(ledgerFile, tampered);
      const bad = await verifier(exportDirectory);
      expect(bad.status).toBe(1);
      expect(bad.output).toMatch(/ledger\.ndjson: SHA-256/);
      expect(bad.output).toMatch(/ledger\.ndjson line \d+: hash [0-9a-f]{64} but the content hashes to/);
      writeFileSync(ledgerFile, text);

      // A key other than the pinned one.
      const other = path.join(work, 'other.pem');
      writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }));
      const wrongKey = await verifier(exportDirectory, other);
      expect(wrongKey.status).toBe(1);
      expect(wrongKey.output).toContain('not the pinned key');
    },
  );
});
