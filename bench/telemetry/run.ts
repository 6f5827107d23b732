/**
 * What tracing costs (docs/operations.md, "Tracing"; bench/results/telemetry.json):
 *   1. `traced()` when off, against calling the function directly (ns per call, in this process);
 *   2. the app under autocannon on a traced route, in three processes one after the other:
 *      without the preload, with the preload but no endpoint (tracing off: production's default),
 *      and with tracing on (every trace sampled) exporting by OTLP/HTTP to a receiver here that
 *      counts spans and throws them away.
 * Two rounds (the second in reverse order), the best of each mode kept. TELEMETRY_BENCH_SECONDS
 * (default 8) is each load's length; the machine is shared, keep it short.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from '../lib/autocannon.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';
import { setTracingEnabled, traced } from '../../src/telemetry/tracing.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const REGISTER = path.join(ROOT, 'src/telemetry/register.ts');
const SECONDS = Number(process.env.TELEMETRY_BENCH_SECONDS ?? '8');

/** ns per call of `fn` over `calls` calls, best of 5 rounds. */
function nsPerCall(calls: number, fn: () => number): number {
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let round = 0; round < 5; round += 1) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < calls; index += 1) sink += fn();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / calls);
  }
  if (sink === -1) console.log(sink); // keeps the loop from being optimised away
  return Math.round(best * 10) / 10;
}

function micro() {
  setTracingEnabled(false);
  const work = (value: number) => (value * 31) % 7;
  let counter = 0;
  const direct = nsPerCall(5_000_000, () => work((counter += 1)));
  const off = nsPerCall(5_000_000, () =>
    traced('decide', { 'eventstore.stream': 'order-x', 'decider.command': 'CreateOrder' }, () =>
      work((counter += 1)),
    ),
  );
  return {
    directNsPerCall: direct,
    tracedOffNsPerCall: off,
    overheadNsPerCall: Math.round((off - direct) * 10) / 10,
  };
}

/** An OTLP/HTTP receiver that counts the spans it is sent and keeps nothing. */
async function countingReceiver() {
  let spans = 0;
  let exports = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      exports += 1;
      spans += Buffer.concat(chunks).toString('utf8').split('"spanId"').length - 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ spans, exports }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Starts the app in a process of its own, loads it from here (autocannon in a worker), stops it. */
async function mode(preload: boolean, environment: Record<string, string>) {
  const argumentsList = [
    '--import',
    'tsx',
    ...(preload ? ['--import', REGISTER] : []),
    path.join(here, 'serve.ts'),
  ];
  const child = spawn(process.execPath, argumentsList, {
    cwd: ROOT,
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const started = await new Promise<{ url: string; tracing: boolean }>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((text) => text.startsWith('{"url"'));
      if (line !== undefined) resolve(JSON.parse(line) as { url: string; tracing: boolean });
    });
    void exited.then((code) => reject(new Error(`the app exited with ${code}: ${output.slice(-2_000)}`)));
  });
  try {
    await load({ url: started.url, duration: 3 }); // warm-up
    const figures = await load({ url: started.url, connections: 50, duration: SECONDS });
    return { tracing: started.tracing, figures };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const withoutOtel = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')),
) as Record<string, string>;
for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];

const microFigures = micro();
console.log(`traced() off: ${microFigures.overheadNsPerCall} ns per call over a direct call`);
const receiver = await countingReceiver();
const MODES = {
  noPreload: () => mode(false, withoutOtel),
  preloadTracingOff: () => mode(true, withoutOtel),
  tracingOnAllSampled: () =>
    mode(true, {
      ...withoutOtel,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER: 'always_on',
    }),
};
type Mode = keyof typeof MODES;
// Two rounds, the second in reverse order, best of each: the machine is shared, and a neighbour's
// burst during one run must not read as the cost of a mode.
const runs: Record<Mode, Awaited<ReturnType<typeof mode>>[]> = {
  noPreload: [],
  preloadTracingOff: [],
  tracingOnAllSampled: [],
};
const order = Object.keys(MODES) as Mode[];
for (const name of [...order, ...[...order].reverse()]) {
  const run = await MODES[name]();
  runs[name].push(run);
  console.log(`${name}: ${run.figures.requestsPerSecond} req/s, p99 ${run.figures.latencyP99Ms} ms`);
}
const received = receiver.counts();
await receiver.close();
if (runs.noPreload.some((run) => run.tracing) || runs.preloadTracingOff.some((run) => run.tracing))
  throw new Error('tracing was on where it should be off');
if (runs.tracingOnAllSampled.some((run) => !run.tracing))
  throw new Error('tracing was off where it should be on');
const best = (name: Mode) =>
  runs[name].map((run) => run.figures).sort((a, b) => b.requestsPerSecond - a.requestsPerSecond)[0]!;
const absent = { figures: best('noPreload') };
const off = { figures: best('preloadTracingOff') };
const on = { figures: best('tracingOnAllSampled') };
const requestsWhileOn = runs.tracingOnAllSampled.reduce(
  (sum, run) => sum + run.figures.requestsPerSecond * run.figures.durationSeconds,
  0,
);

const machine = await describeMachine();
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
const file = writeResult('telemetry', {
  benchmark: 'telemetry',
  revision: gitRevision(),
  machine,
  target:
    'GET /v1/restaurants/{unknown id}/menu (404 after one PostgreSQL query), 50 connections, pino at warn; the app in its own process, autocannon in a worker thread of the benchmark process',
  micro: microFigures,
  http: {
    noPreload: absent.figures,
    preloadTracingOff: off.figures,
    tracingOnAllSampled: {
      ...on.figures,
      spansReceived: received.spans,
      exportRequests: received.exports,
      // Warm-ups included in the spans, not in the requests: an upper bound.
      spansPerRequestAtMost: Math.round((received.spans / requestsWhileOn) * 10) / 10,
    },
    rounds: Object.fromEntries(
      order.map((name) => [name, runs[name].map((run) => run.figures.requestsPerSecond)]),
    ),
    offOverNoPreload: ratio(off.figures.requestsPerSecond, absent.figures.requestsPerSecond),
    onOverNoPreload: ratio(on.figures.requestsPerSecond, absent.figures.requestsPerSecond),
  },
});
console.log(`written to ${file}`);
