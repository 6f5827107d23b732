/**
 * Dispatch benchmark → bench/results/dispatch.json (issue #20): location ingest, then matching
 * and route quality (bench/dispatch/matching.ts describes those two).
 *
 * 2,000 drivers on shift (tokens minted by the real token service, shifts set through the
 * dispatch service), then autocannon in a process of its own sends `PUT /v1/drivers/me/location`
 * round-robin over the drivers, each fix a fraction of a metre from the driver's last: measured,
 * fixes accepted and indexed per second (2xx), latency percentiles over every response, refusals
 * (non-2xx), and at the end how many drivers the index finds (Redis GEO, the test app's REDIS_URL).
 *
 * Every accepted fix does the whole path: the shift row read, the rules, the compare-and-set of
 * the last fix, GEOADD + ZADD, and orders' "which orders does this driver carry" query. The
 * per-driver interval (DISPATCH_LOCATION_MIN_INTERVAL_MS, 4 s in production) is 0 here, so the
 * figure is the ingest capacity: 2,000 drivers at one fix per 4 s is 500 fixes/s.
 *
 *   npx tsx bench/dispatch/run.ts   DRIVERS=2000 DURATION=20 CONNECTIONS=50
 *   SMOKE=1 runs 200 drivers for 3 s and prints instead of writing the result file.
 */
import '../lib/local-postgres.js'; // first: chooses how the app reaches PostgreSQL
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchApp } from '../lib/app.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';
import { benchMatching, benchRouteQuality } from './matching.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SMOKE = process.env.SMOKE === '1';
const DRIVERS = Number(process.env.DRIVERS ?? (SMOKE ? 200 : 2_000));
const DURATION = Number(process.env.DURATION ?? (SMOKE ? 3 : 20));
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const MATCH_DRIVERS = Number(process.env.MATCH_DRIVERS ?? (SMOKE ? 200 : 2_000));
const MATCH_ORDERS = Number(process.env.MATCH_ORDERS ?? (SMOKE ? 50 : 500));
const ROUTE_BATCHES = Number(process.env.ROUTE_BATCHES ?? (SMOKE ? 60 : 3_000));
const DOUALA = { latitude: 4.0511, longitude: 9.7679 };

interface Measured {
  requestsPerSecond: number;
  responses: number;
  latency: { p50: number; p90: number; p95: number; p97_5: number; p99: number; max: number };
  errors: number;
  non2xx: number;
  connections: number;
  durationSeconds: number;
}

function measure(url: string, duration: number, connections: number): Promise<Measured> {
  const child = fork(path.join(here, '../lib/autocannon-process.cjs'), [], { env: process.env });
  return new Promise<Measured>((resolve, reject) => {
    child.once('message', (message) => {
      child.kill();
      resolve(message as Measured);
    });
    child.once('exit', (code) => reject(new Error(`the load process exited (${code})`)));
    child.send({ url, connections, duration, setupRequest: path.join(here, 'setup-request.cjs') });
  });
}

const loadAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
const bench = await startBenchApp({
  DISPATCH_LOCATION_MIN_INTERVAL_MS: '0',
  RATE_LIMIT_ENABLED: 'false',
  // the benchmark opens its dispatches itself; the sweep stays on as in production
  DISPATCH_MATCHING_ENABLED: 'false',
});
try {
  const { identity, dispatch } = bench.services;
  const tokens: string[] = [];
  const driverIds: string[] = [];
  const starts: { latitude: number; longitude: number }[] = [];
  for (let index = 0; index < DRIVERS; index += 1) {
    const userId = randomUUID();
    const issued = await identity.tokens.issue({
      userId,
      sessionId: randomUUID(),
      kind: 'user',
      roles: ['driver'],
      twoFactorVerified: false,
    });
    tokens.push(issued.token);
    await dispatch.onboarding.seedApproved(userId, 'motorbike'); // only approved drivers go on shift
    driverIds.push(userId);
    await dispatch.setAvailability(userId, { online: true, vehicle: 'motorbike' });
    // spread over ~20 km × 20 km around Akwa
    starts.push({
      latitude: DOUALA.latitude + (Math.random() - 0.5) * 0.18,
      longitude: DOUALA.longitude + (Math.random() - 0.5) * 0.18,
    });
  }
  const workdir = mkdtempSync(path.join(tmpdir(), 'dispatch-bench-'));
  const fixture = path.join(workdir, 'drivers.json');
  writeFileSync(fixture, JSON.stringify({ tokens, starts }));
  process.env.DISPATCH_BENCH_FIXTURE = fixture;

  await measure(bench.url, SMOKE ? 1 : 3, 10); // warm-up
  const measured = await measure(bench.url, DURATION, CONNECTIONS);
  const indexed = await dispatch.index.nearby(DOUALA, 50, DRIVERS + 100);
  const accepted = measured.responses - measured.non2xx;
  // The ingest's drivers go offline first: matching has its own MATCH_DRIVERS.
  for (const driverId of driverIds) await dispatch.setAvailability(driverId, { online: false });
  const matching = await benchMatching(bench.services, MATCH_DRIVERS, MATCH_ORDERS);
  const routeQuality = await benchRouteQuality(bench.services, ROUTE_BATCHES);
  const result = {
    benchmark: 'dispatch',
    revision: gitRevision(),
    machine: await describeMachine(async () => {
      const { rows } = await bench.database.pool.query<{ server_version: string }>('show server_version');
      return rows[0]?.server_version ?? 'unknown';
    }),
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg().map((value) => Math.round(value * 100) / 100) },
    locationIngest: {
      target: `PUT /v1/drivers/me/location, ${DRIVERS} online drivers round-robin, ${CONNECTIONS} connections, ${DURATION} s; DISPATCH_LOCATION_MIN_INTERVAL_MS=0`,
      goal: '>= 5,000 accepted and indexed fixes per second on this machine',
      index: bench.services.runtime.redis === undefined ? 'in-process' : 'redis',
      acceptedPerSecond: Math.round(accepted / measured.durationSeconds),
      requestsPerSecond: measured.requestsPerSecond,
      latencyP50Ms: measured.latency.p50,
      latencyP95Ms: measured.latency.p95,
      latencyP99Ms: measured.latency.p99,
      latencyMaxMs: measured.latency.max,
      responses: measured.responses,
      accepted,
      refused: measured.non2xx,
      errors: measured.errors,
      driversFoundInIndex: indexed.length,
      loadGenerator: 'autocannon in its own process; percentiles exact over every response',
    },
    matching,
    routeQuality,
  };
  console.log(
    `location ingest: ${result.locationIngest.acceptedPerSecond} accepted fixes/s (${measured.requestsPerSecond} req/s), p99 ${measured.latency.p99} ms, refused ${measured.non2xx}, errors ${measured.errors}, ${indexed.length}/${DRIVERS} drivers in the index`,
  );
  console.log(
    `matching: p99 ${matching.chooseAndOfferP99Ms} ms to choose and offer, ${matching.matchedPerSecond} orders/s; route quality: 2-opt ${routeQuality.meanExcessPercent}% above the optimum on average`,
  );
  if (SMOKE) console.log(JSON.stringify(result, null, 2));
  else console.log(`written to ${writeResult('dispatch', result)}`);
} finally {
  await bench.close();
}
