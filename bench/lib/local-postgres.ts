import { existsSync } from 'node:fs';

/**
 * Imported first by the application benchmarks (orders, payments, catalog, auth, HTTP baseline):
 * when PostgreSQL runs on this machine and TEST_DATABASE_URL is not set, the app reaches it over
 * its Unix socket, as a service deployed beside its database would (DATABASE_URL=
 * postgres://user@localhost/db?host=/var/run/postgresql). On this 2-core VM a loopback TCP round
 * trip costs the app and PostgreSQL noticeably more CPU than the socket (docs/benchmarks.md).
 * BENCH_PG_TCP=1 keeps TCP, to measure the difference. The results record which was used.
 */
const SOCKET_DIRECTORY = '/var/run/postgresql';

if (
  process.env.TEST_DATABASE_URL === undefined &&
  process.env.BENCH_PG_TCP !== '1' &&
  existsSync(`${SOCKET_DIRECTORY}/.s.PGSQL.5432`)
) {
  process.env.TEST_DATABASE_URL = `postgres://postgres@localhost:5432/postgres?host=${encodeURIComponent(SOCKET_DIRECTORY)}`;
}
