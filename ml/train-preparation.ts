/**
 * `npm run ml:train:preparation` (also run by `npm run ml:train`): the preparation-time model.
 * Generates the synthetic history (ml/src/generate.ts) and its kitchens (ml/src/kitchen.ts),
 * replays it in time order (features before each order is known; a completion joins the history
 * only once its ready time has passed), fits a ridge regression on the training weeks and
 * evaluates it on the holdout weeks against two baselines: the restaurant's mean preparation time
 * so far, and the time it states. Writes `ml/model/preparation.onnx`, its card (with the metrics)
 * and `ml/results/preparation.json`. Deterministic.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  KitchenStats,
  OPEN_WINDOW_MS,
  PREPARATION_FEATURE_COUNT,
  PREPARATION_FEATURE_NAMES,
  preparationFeatures,
} from '../src/modules/recommendations/preparation.js';
import { phaseOf, SPLIT } from './src/dataset.js';
import { GENERATOR_PARAMS, generateHistory } from './src/generate.js';
import { KITCHEN_PARAMS, simulateKitchens, type KitchenFact } from './src/kitchen.js';
import { encodeOnnx } from './src/onnx.js';
import { fitRidge, predictRidge, ridgeToOnnx } from './src/ridge.js';

export const PREPARATION_MODEL_VERSION = 1;
const LAMBDA = 1e-4;
const MINUTE = 60_000;
const here = dirname(fileURLToPath(import.meta.url));

interface Row {
  features: Float32Array;
  minutes: number;
  stated: number;
  restaurantMean: number;
}

function errors(rows: Row[], predict: (row: Row, index: number) => number) {
  let abs = 0;
  let sq = 0;
  let within5 = 0;
  rows.forEach((row, index) => {
    const error = predict(row, index) - row.minutes;
    abs += Math.abs(error);
    sq += error * error;
    if (Math.abs(error) <= 5) within5 += 1;
  });
  return {
    maeMinutes: Number((abs / rows.length).toFixed(3)),
    rmseMinutes: Number(Math.sqrt(sq / rows.length).toFixed(3)),
    within5Minutes: Number((within5 / rows.length).toFixed(4)),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const history = generateHistory();
  const facts = simulateKitchens(history);
  // Completions in ready order: each joins the history when the replay passes its ready time.
  const completions = facts
    .filter((fact): fact is KitchenFact & { readyAt: number } => fact.readyAt !== null)
    .sort((a, b) => a.readyAt - b.readyAt);
  const stats = new KitchenStats();
  const plainMean = new Map<string, { count: number; sum: number }>();
  let next = 0;
  const train: Row[] = [];
  const test: Row[] = [];
  history.orders.forEach((order, index) => {
    const fact = facts[index]!;
    while (next < completions.length && completions[next]!.readyAt <= order.at) {
      const done = completions[next]!;
      const minutes = (done.readyAt - done.placedAt) / MINUTE;
      stats.addCompleted(done.restaurantId, minutes);
      const mean = plainMean.get(done.restaurantId) ?? { count: 0, sum: 0 };
      mean.count += 1;
      mean.sum += minutes;
      plainMean.set(done.restaurantId, mean);
      next += 1;
    }
    stats.prune(order.restaurantId, order.at - OPEN_WINDOW_MS);
    const phase = phaseOf(history, order.at);
    if (phase !== 'warmup' && fact.readyAt !== null) {
      const features = preparationFeatures(stats, {
        restaurantId: order.restaurantId,
        statedMinutes: fact.statedMinutes,
        items: fact.items,
        at: order.at,
      });
      const mean = plainMean.get(order.restaurantId);
      const row = {
        features,
        minutes: (fact.readyAt - fact.placedAt) / MINUTE,
        stated: fact.statedMinutes,
        restaurantMean: mean === undefined ? fact.statedMinutes : mean.sum / mean.count,
      };
      (phase === 'train' ? train : test).push(row);
    }
    stats.addRecent(fact);
  });

  const pack = (rows: Row[]) => {
    const out = new Float32Array(rows.length * PREPARATION_FEATURE_COUNT);
    rows.forEach((row, index) => out.set(row.features, index * PREPARATION_FEATURE_COUNT));
    return out;
  };
  const model = fitRidge(
    pack(train),
    Float64Array.from(train.map((row) => row.minutes)),
    PREPARATION_FEATURE_COUNT,
    LAMBDA,
  );
  const predicted = predictRidge(model, pack(test), test.length);
  const metrics = {
    holdoutOrders: test.length,
    meanMinutes: Number((test.reduce((sum, row) => sum + row.minutes, 0) / test.length).toFixed(3)),
    model: errors(test, (_row, index) => predicted[index]!),
    restaurantMean: errors(test, (row) => row.restaurantMean),
    stated: errors(test, (row) => row.stated),
  };
  const gain = 1 - metrics.model.maeMinutes / metrics.restaurantMean.maeMinutes;
  console.log(JSON.stringify(metrics, null, 2));

  const onnx = encodeOnnx(
    ridgeToOnnx(model, {
      graphName: 'preparation_time',
      output: 'minutes',
      version: PREPARATION_MODEL_VERSION,
      docString:
        'Minutes from placement to ready for pickup (issue #24); features: src/modules/recommendations/preparation.ts',
      metadata: {
        model_version: String(PREPARATION_MODEL_VERSION),
        features: PREPARATION_FEATURE_NAMES.join(','),
      },
    }),
  );
  mkdirSync(join(here, 'model'), { recursive: true });
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'model', 'preparation.onnx'), onnx);
  const card = {
    name: 'preparation',
    modelVersion: PREPARATION_MODEL_VERSION,
    file: 'preparation.onnx',
    bytes: onnx.length,
    task: 'minutes from an order’s placement to ready for pickup; the order’s estimatedPreparationMinutes (ETA, dispatch)',
    architecture: 'standardise → linear (ridge regression, closed form)',
    trainer: `TypeScript (ml/src/ridge.ts), L2 ${LAMBDA} per row`,
    data: {
      source:
        'synthetic history (ml/src/generate.ts) and its kitchens (ml/src/kitchen.ts), regenerated from their seeds',
      generator: GENERATOR_PARAMS,
      kitchens: KITCHEN_PARAMS,
      split: `weeks 1-${SPLIT.warmupWeeks} history only, ${SPLIT.warmupWeeks + 1}-${SPLIT.trainWeeks} training, ${SPLIT.trainWeeks + 1}-${GENERATOR_PARAMS.weeks} holdout`,
      trainOrders: train.length,
    },
    features: PREPARATION_FEATURE_NAMES,
    weights: Object.fromEntries(
      PREPARATION_FEATURE_NAMES.map((name, index) => [
        name,
        Number((model.weights[index]! * model.scale[index]!).toFixed(5)),
      ]),
    ),
    metrics: { ...metrics, maeGainOverRestaurantMean: Number(gain.toFixed(4)) },
  };
  writeFileSync(join(here, 'model', 'preparation.card.json'), `${JSON.stringify(card, null, 2)}\n`);
  writeFileSync(
    join(here, 'results', 'preparation.json'),
    `${JSON.stringify({ modelVersion: PREPARATION_MODEL_VERSION, bytes: onnx.length, trainOrders: train.length, metrics: card.metrics, totalMs: Date.now() - started }, null, 2)}\n`,
  );
  console.log(`wrote ml/model/preparation.onnx (${onnx.length} bytes) in ${Date.now() - started} ms`);
}

await main();
