/**
 * `npm run ml:eval`: ranks every dish of the city for each holdout order (the weeks after the
 * training weeks) with the committed ONNX model (through onnxruntime-node, as the server does) and
 * with two baselines, and writes HitRate@10, Recall@10 and NDCG@10 to `ml/results/eval.json`.
 *   - popularity: the city's dishes by decayed order count (the server's fallback);
 *   - recent reorder: the customer's own dishes, most recent first, then popularity.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { FEATURE_COUNT, featureRows } from '../src/modules/recommendations/features.js';
import { WeatherLog } from '../src/modules/recommendations/weather/history.js';
import { generateHistory } from './src/generate.js';
import { relevantOf, replay, SPLIT } from './src/dataset.js';
import { emptyMetrics, scoreRanking, summarise } from './src/metrics.js';

export const EVAL = { k: 10, maxOrders: 5000 } as const;
const here = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const started = Date.now();
  const history = generateHistory();
  // Each order's weather as recorded for its city and hour (the retrains read the same records).
  const weather = new WeatherLog(history.weather);
  const session = await ort.InferenceSession.create(join(here, 'model', 'recommendations.onnx'));
  const testOrders = history.orders.filter(
    (order) => order.at >= history.params.start + SPLIT.trainWeeks * 7 * 86_400_000,
  );
  const every = Math.max(1, Math.ceil(testOrders.length / EVAL.maxOrders));
  const chosen = new Set(testOrders.filter((_, index) => index % every === 0).map((order) => order.orderId));
  const pending: {
    order: (typeof testOrders)[number];
    rows: Float32Array;
    guestRows: Float32Array;
    returning: boolean;
    popularity: string[];
    recent: string[];
  }[] = [];
  const rankers = () => ({
    model: emptyMetrics(),
    popularity: emptyMetrics(),
    recentReorder: emptyMetrics(),
  });
  const metrics = rankers();
  const segments = { returning: rankers(), firstOrder: rankers() };
  // Cold start: the same orders ranked as if a guest asked (no customer, only place and time).
  const coldStart = { model: emptyMetrics(), popularity: emptyMetrics() };
  replay(history, (order, phase, stats) => {
    if (phase !== 'test' || !chosen.has(order.orderId)) return;
    const city = history.itemsByCity[order.city];
    const context = {
      at: order.at,
      rain: weather.rainAt(order.location, order.at),
      location: order.location,
    };
    const rows = featureRows(stats, order.customerId, context, city);
    const guestRows = featureRows(stats, null, context, city);
    const returning = (stats.customers.get(order.customerId)?.orders ?? 0) > 0;
    const byPopularity = city
      .map((item) => ({ id: item.itemId, p: stats.popularity(item.itemId, order.at) }))
      .sort((a, b) => b.p - a.p)
      .map((entry) => entry.id);
    const recent = stats.recentItems(order.customerId, EVAL.k);
    const filled = [...recent, ...byPopularity.filter((id) => !recent.includes(id))];
    pending.push({ order, rows, guestRows, returning, popularity: byPopularity, recent: filled });
  });
  let inferenceMs = 0;
  for (const { order, rows, guestRows, returning, popularity, recent } of pending) {
    const city = history.itemsByCity[order.city];
    const rank = async (features: Float32Array) => {
      const t = performance.now();
      const output = await session.run({
        features: new ort.Tensor('float32', features, [city.length, FEATURE_COUNT]),
      });
      inferenceMs += performance.now() - t;
      const logit = output.logit!.data as Float32Array;
      return city
        .map((item, index) => ({ id: item.itemId, z: logit[index]! }))
        .sort((a, b) => b.z - a.z)
        .map((entry) => entry.id);
    };
    const ranked = await rank(rows);
    const relevant = relevantOf(order);
    scoreRanking(coldStart.model, await rank(guestRows), relevant, EVAL.k);
    scoreRanking(coldStart.popularity, popularity, relevant, EVAL.k);
    const segment = segments[returning ? 'returning' : 'firstOrder'];
    for (const [name, ranking] of [
      ['model', ranked],
      ['popularity', popularity],
      ['recentReorder', recent],
    ] as const) {
      scoreRanking(metrics[name], ranking, relevant, EVAL.k);
      scoreRanking(segment[name], ranking, relevant, EVAL.k);
    }
  }
  const result = {
    k: EVAL.k,
    split: SPLIT,
    holdoutOrders: pending.length,
    metrics: Object.fromEntries(Object.entries(metrics).map(([name, m]) => [name, summarise(m)])),
    segments: Object.fromEntries(
      Object.entries(segments).map(([segment, byModel]) => [
        segment,
        Object.fromEntries(Object.entries(byModel).map(([name, m]) => [name, summarise(m)])),
      ]),
    ),
    coldStart: Object.fromEntries(Object.entries(coldStart).map(([name, m]) => [name, summarise(m)])),
    candidatesPerOrder: {
      douala: history.itemsByCity.douala.length,
      yaounde: history.itemsByCity.yaounde.length,
    },
    meanInferenceMs: Number((inferenceMs / Math.max(1, 2 * pending.length)).toFixed(3)),
    totalMs: Date.now() - started,
  };
  writeFileSync(join(here, 'results', 'eval.json'), `${JSON.stringify(result, null, 2)}\n`);
  const cardPath = join(here, 'model', 'recommendations.card.json');
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as Record<string, unknown>;
  card.metrics = {
    holdoutOrders: result.holdoutOrders,
    k: EVAL.k,
    ...result.metrics,
    coldStart: result.coldStart,
  };
  writeFileSync(cardPath, `${JSON.stringify(card, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

await main();
