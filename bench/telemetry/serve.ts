/**
 * One mode of the tracing benchmark (bench/telemetry/run.ts starts it in a process of its own,
 * with or without the preload): the real app on a fresh database, listening until SIGTERM. Its
 * first stdout line (JSON) gives the URL to load and whether tracing is on.
 */
import '../lib/local-postgres.js'; // first: chooses how the app reaches PostgreSQL
import { randomUUID } from 'node:crypto';
import { startBenchApp } from '../lib/app.js';
import { shutdownTracing, tracingEnabled } from '../../src/telemetry/tracing.js';

const bench = await startBenchApp();
// A menu read of a restaurant that does not exist: routing, the access hook, one PostgreSQL
// query and the problem+json answer (404), the path of any read, with nothing cached.
const url = `${bench.url}/v1/restaurants/${randomUUID()}/menu`;
const probe = await fetch(url);
if (probe.status !== 404) throw new Error(`expected 404 from ${url}, got ${probe.status}`);
console.log(JSON.stringify({ url, tracing: tracingEnabled() }));
process.once('SIGTERM', () => {
  void bench
    .close()
    .then(() => shutdownTracing())
    .then(() => process.exit(0));
});
