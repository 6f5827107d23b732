/**
 * The ranker retrain's cost (issue #24) → bench/results/recommendations-ranker-retrain.json.
 *
 * The synthetic history of ml/ (66,200 orders over 16 weeks, 1,200 dishes: within the retrain's
 * 120 days) given to the retrain's training step exactly as the job gives it (`OrderFact`s and the
 * catalog's dishes), run twice in this process:
 *   - `inline`: in the API's thread, as before (training yields every 4 batches, the replay never);
 *   - `worker`: in a worker thread (`trainInWorker`, what the job does now).
 * For each: elapsed time, the process's CPU time (user + system, all threads), the replay's and the
 * training's own elapsed times, and how long the main thread's event loop was held at most (the
 * longest gap between 5 ms timer ticks, and the event-loop delay histogram's p99 and max): the
 * wait a request arriving during the retrain would see.
 *
 *   npx tsx bench/recommendations/ranker-retrain.ts     (SMOKE=1: 8 weeks of history, prints only)
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { generateHistory } from '../../ml/src/generate.js';
import { trainInline, trainInWorker } from '../../src/modules/recommendations/ranker-retrain.js';
import type { TrainInput, TrainResult } from '../../src/modules/recommendations/ranker-training.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';

const SMOKE = process.env.SMOKE === '1';
const history = generateHistory(SMOKE ? { weeks: 8 } : {});
const input: TrainInput = {
  orders: history.orders.map((order) => ({
    orderId: order.orderId,
    customerId: order.customerId,
    restaurantId: order.restaurantId,
    lines: order.lines,
    at: order.at,
    cell: order.cell,
  })),
  items: history.items,
  at: history.params.start + history.params.weeks * 7 * 86_400_000,
};

async function measure(name: string, run: () => Promise<TrainResult>) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let last = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 5);
  const cpu = process.cpuUsage();
  const started = performance.now();
  histogram.enable();
  const result = await run();
  histogram.disable();
  const elapsedMs = performance.now() - started;
  clearInterval(ticker);
  const used = process.cpuUsage(cpu);
  const figures = {
    name,
    elapsedMs: Math.round(elapsedMs),
    processCpuMs: Math.round((used.user + used.system) / 1000),
    replayElapsedMs: Math.round(result.replayElapsedMs),
    trainElapsedMs: Math.round(result.trainElapsedMs),
    trainGroups: result.trainGroups,
    holdoutCases: result.cases.length,
    finalLoss: Number((result.losses.at(-1) ?? Number.NaN).toFixed(4)),
    mainThreadLongestGapMs: Math.round(longestGap),
    eventLoopDelayP99Ms: Number((histogram.percentile(99) / 1e6).toFixed(1)),
    eventLoopDelayMaxMs: Number((histogram.max / 1e6).toFixed(1)),
  };
  console.log(JSON.stringify(figures));
  return figures;
}

const loadAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
// The worker first: the inline run warms this thread's JIT, not the worker's.
const worker = await measure('worker', () => trainInWorker(input));
const inlineRun = await measure('inline', () => trainInline(input));
const result = {
  name: 'recommendations-ranker-retrain',
  revision: gitRevision(),
  machine: await describeMachine(),
  loadAverage: { atStart: loadAtStart, atEnd: os.loadavg().map((value) => Math.round(value * 100) / 100) },
  history: {
    orders: input.orders.length,
    dishes: input.items.length,
    weeks: history.params.weeks,
    generatorSeed: history.params.seed,
  },
  runs: [worker, inlineRun],
};
if (SMOKE) console.log(JSON.stringify(result, null, 2));
else console.log(`wrote ${writeResult('recommendations-ranker-retrain', result)}`);
