import '../lib/local-postgres.js'; // first: chooses how the app reaches PostgreSQL
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';
import { startBenchApp } from '../lib/app.js';
import { load } from '../lib/autocannon.js';

// The framework's overhead on this machine: every other HTTP benchmark is read against it.
const bench = await startBenchApp();
try {
  await load({ url: `${bench.url}/health/live`, duration: 2 }); // warm-up
  const live = await load({ url: `${bench.url}/health/live`, connections: 50, duration: 10 });
  const machine = await describeMachine(async () => {
    const { rows } = await bench.database.pool.query<{ server_version: string }>('show server_version');
    return rows[0]?.server_version ?? 'unknown';
  });
  const result = {
    benchmark: 'http-baseline',
    revision: gitRevision(),
    machine,
    target:
      'GET /health/live (full middleware: helmet, CORS, rate-limit hook off, metrics, request ids, pino at warn)',
    figures: live,
    peer: {
      note: 'docs/benchmarks.md, peer figures: bare Fastify 5 {ok:true}, no logging, 50 connections',
      requestsPerSecond: 52_000,
    },
  };
  const file = writeResult('http-baseline', result);
  console.log(
    `GET /health/live: ${live.requestsPerSecond} req/s, p99 ${live.latencyP99Ms} ms (errors ${live.errors}, non-2xx ${live.non2xx})`,
  );
  console.log(`written to ${file}`);
} finally {
  await bench.close();
}
