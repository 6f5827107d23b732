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
import { startProfile } from '../lib/profile.js';
import { benchMatching, benchRouteQuality } from './matching.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SMOKE = process.env.SMOKE === '1';
const DRIVERS = Number(process.env.DRIVERS ?? (SMOKE ? 200 : 2_000));
const DURATION = Number(process.env.DURATION ?? (SMOKE ? 3 : 20));
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const MATCH_DRIVERS = Number(process.env.MATCH_DRIVERS ?? (SMOKE ? 200 : 2_000));
const MATCH_ORDERS = Number(process.env.MATCH_ORDERS ?? (SMOKE ? 50 : 500));
const ROUTE_BATCHES = Number(process.env.ROUTE_BATCHES ?? (SMOKE ? 60 : 3_000));
// The /ws/driver phase: every driver's socket open, at most WS_INFLIGHT fixes in flight in all.
const WS_INFLIGHT = Number(process.env.WS_INFLIGHT ?? 100);
// PHASES=ingest,ws,matching,route (all by default): profiling runs take one at a time.
const PHASES = new Set((process.env.PHASES ?? 'ingest,ws,matching,route').split(','));
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

type WsFigures = {
  sockets: number;
  inflight: number;
  seconds: number;
  sent: number;
  answered: number;
  acked: number;
  ackedPerSecond: number;
  errorsByCode: Record<string, number>;
  closedByServer: number;
  latency: { p50: number; p90: number; p95: number; p99: number; max: number };
};

/** The /ws/driver phase, its load generator in a process of its own (ws-drivers.ts). */
async function measureSockets(fixture: string, seconds: number, inflight: number) {
  const child = fork(path.join(here, 'ws-drivers.ts'), [fixture], { execArgv: ['--import', 'tsx'] });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        resolve(message as T);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`the socket load process exited (${code})`)));
    });
  await next('started');
  child.send({ type: 'connect' });
  const connected = await next<{ count: number; failed: number; ms: number }>('connected');
  child.send({ type: 'run', seconds: SMOKE ? 1 : 3, inflight }); // warm-up
  await next('ran');
  const stopProfile = await startProfile('dispatch-ws-ingest');
  child.send({ type: 'run', seconds, inflight });
  const ran = await next<WsFigures>('ran');
  await stopProfile?.stop();
  child.send({ type: 'close' });
  return { connected, ran };
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

  let measured: Measured | undefined;
  let indexed = 0;
  if (PHASES.has('ingest')) {
    await measure(bench.url, SMOKE ? 1 : 3, 10); // warm-up
    const stopProfile = await startProfile('dispatch-put-ingest');
    measured = await measure(bench.url, DURATION, CONNECTIONS);
    await stopProfile?.stop();
    indexed = (await dispatch.index.nearby(DOUALA, 50, DRIVERS + 100)).length;
  }
  let sockets: Awaited<ReturnType<typeof measureSockets>> | undefined;
  if (PHASES.has('ws')) {
    writeFileSync(fixture, JSON.stringify({ url: bench.url, tokens, starts }));
    sockets = await measureSockets(fixture, DURATION, WS_INFLIGHT);
  }
  const accepted = measured === undefined ? 0 : measured.responses - measured.non2xx;
  // The ingest's drivers go offline first: matching has its own MATCH_DRIVERS.
  for (const driverId of driverIds) await dispatch.setAvailability(driverId, { online: false });
  const matching = PHASES.has('matching')
    ? await benchMatching(bench.services, MATCH_DRIVERS, MATCH_ORDERS)
    : undefined;
  const routeQuality = PHASES.has('route')
    ? await benchRouteQuality(bench.services, ROUTE_BATCHES)
    : undefined;
  const result = {
    benchmark: 'dispatch',
    revision: gitRevision(),
    machine: await describeMachine(async () => {
      const { rows } = await bench.database.pool.query<{ server_version: string }>('show server_version');
      return rows[0]?.server_version ?? 'unknown';
    }),
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg().map((value) => Math.round(value * 100) / 100) },
    locationIngest:
      measured === undefined
        ? undefined
        : {
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
            driversFoundInIndex: indexed,
            loadGenerator: 'autocannon in its own process; percentiles exact over every response',
          },
    socketIngest:
      sockets === undefined
        ? undefined
        : {
            target: `driver-location messages on /ws/driver, ${sockets.connected.count} drivers' sockets open (${sockets.connected.failed} failed to open), one fix in flight per driver, at most ${WS_INFLIGHT} in flight in all, round-robin, ${DURATION} s; DISPATCH_LOCATION_MIN_INTERVAL_MS=0`,
            goal: '>= 5,000 accepted and indexed fixes per second on this machine',
            acceptedPerSecond: sockets.ran.ackedPerSecond,
            latencyP50Ms: sockets.ran.latency.p50,
            latencyP90Ms: sockets.ran.latency.p90,
            latencyP95Ms: sockets.ran.latency.p95,
            latencyP99Ms: sockets.ran.latency.p99,
            latencyMaxMs: sockets.ran.latency.max,
            sent: sockets.ran.sent,
            answered: sockets.ran.answered,
            accepted: sockets.ran.acked,
            refusedByCode: sockets.ran.errorsByCode,
            socketsClosedByServer: sockets.ran.closedByServer,
            socketsOpenedInMs: sockets.connected.ms,
            loadGenerator:
              'ws clients in a process of their own (bench/dispatch/ws-drivers.ts); percentiles exact over every fix, from send to its answer',
          },
    matching,
    routeQuality,
  };
  if (measured !== undefined)
    console.log(
      `location ingest (PUT): ${result.locationIngest?.acceptedPerSecond} accepted fixes/s (${measured.requestsPerSecond} req/s), p99 ${measured.latency.p99} ms, refused ${measured.non2xx}, errors ${measured.errors}, ${indexed}/${DRIVERS} drivers in the index`,
    );
  if (sockets !== undefined)
    console.log(
      `location ingest (/ws/driver): ${sockets.ran.ackedPerSecond} accepted fixes/s over ${sockets.connected.count} sockets, p50 ${sockets.ran.latency.p50} ms, p99 ${sockets.ran.latency.p99} ms, refused ${JSON.stringify(sockets.ran.errorsByCode)}`,
    );
  if (matching !== undefined)
    console.log(
      `matching: p50 ${matching.chooseAndOfferP50Ms} ms, p95 ${matching.chooseAndOfferP95Ms} ms, p99 ${matching.chooseAndOfferP99Ms} ms to choose and offer, ${matching.matchedPerSecond} orders/s`,
    );
  if (routeQuality !== undefined)
    console.log(`route quality: 2-opt ${routeQuality.meanExcessPercent}% above the optimum on average`);
  const partial = PHASES.size < 4 || process.env.NO_WRITE === '1';
  if (SMOKE || partial) console.log(JSON.stringify(result, null, 2));
  else console.log(`written to ${writeResult('dispatch', result)}`);
} finally {
  await bench.close();
}
