import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const TOOLS = ['admin', 'audit-export', 'ledger', 'migrate', 'projections', 'seed-demo', 'simulators'];

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(tool: string, ...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `src/cli/${tool}.ts`, ...args], {
      cwd: root,
      // A data directory and a database that do not exist: --help or a typo must touch neither.
      env: {
        PATH: process.env.PATH,
        DATA_DIR: '/nonexistent-fd-cli',
        DATABASE_URL: 'postgres://127.0.0.1:1/none',
      },
    });
    const result: Result = { status: null, stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (result.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()));
    child.on('close', (code) => resolve({ ...result, status: code }));
  });
}

const STACK_LINE = /^\s+at .+[:(]\d+/m;

describe('every command-line tool', () => {
  // The tools start in parallel: each costs a Node start and tsx's compilation.
  it('--help prints the usage and exits 0 without touching a database', { timeout: 120_000 }, async () => {
    const results = await Promise.all(TOOLS.map((tool) => run(tool, '--help')));
    results.forEach((result, index) => {
      expect(result.status, `${TOOLS[index]}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(/^usage: npm run /);
      expect(result.stderr).not.toMatch(STACK_LINE);
    });
  });

  it('an unknown command or option is one line and exit 64', { timeout: 120_000 }, async () => {
    const tools = TOOLS.filter((tool) => !['audit-export', 'migrate', 'seed-demo'].includes(tool));
    const results = await Promise.all(
      tools.map((tool) => run(tool, tool === 'simulators' ? '--no-such-option' : 'no-such-command')),
    );
    results.forEach((result, index) => {
      expect(result.status, `${tools[index]}: ${result.stderr}`).toBe(64);
      expect(result.stderr).toMatch(/unknown (command|option)/i);
      expect(result.stderr).not.toMatch(STACK_LINE);
    });
  });

  it(
    'a failure after a readable error prints one line, not a stack trace',
    { timeout: 120_000 },
    async () => {
      const result = await run('ledger', 'verify');
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^ledger verify failed: /m);
      expect(result.stderr).not.toMatch(STACK_LINE);
    },
  );
});
