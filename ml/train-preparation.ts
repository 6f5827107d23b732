/**
 * `npm run ml:train:preparation` (also run by `npm run ml:train`): the preparation-time model.
 * Generates the synthetic history (ml/src/generate.ts) and its kitchens (ml/src/kitchen.ts),
 * replays it in time order (features before each order is known; a completion joins the history
 * only once its ready time has passed), fits a ridge regression on the training weeks and
 * evaluates it on the holdout weeks against two baselines: the restaurant's mean preparation time
 * so far, and the time it states. Writes `ml/model/preparation.onnx`, its card (with the metrics)
 * and `ml/results/preparation.json`. Deterministic.
 *
 * The weather's effect is measured by an ablation: the same fit with the `rain` column zeroed (the
 * version-1 feature set), on the same holdout, overall and on rainy and dry days apart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  packRows,
  PREPARATION_FEATURE_COUNT,
  PREPARATION_FEATURE_NAMES,
  preparationRows,
  type PreparationRow,
} from '../src/modules/recommendations/preparation.js';
import { phaseOf, SPLIT } from './src/dataset.js';
import { GENERATOR_PARAMS, generateHistory } from './src/generate.js';
import { KITCHEN_PARAMS, simulateKitchens } from './src/kitchen.js';
import { encodeOnnx } from './src/onnx.js';
import { fitRidge, predictRidge, ridgeToOnnx } from './src/ridge.js';

export const PREPARATION_MODEL_VERSION = 2;
const LAMBDA = 1e-4;
const here = dirname(fileURLToPath(import.meta.url));

type Row = PreparationRow;

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
  const rows = preparationRows(facts, (fact) => phaseOf(history, fact.placedAt) !== 'warmup');
  const train = rows.filter((row) => phaseOf(history, row.at) === 'train');
  const test = rows.filter((row) => phaseOf(history, row.at) === 'test');
  const pack = packRows;
  const model = fitRidge(
    pack(train),
    Float64Array.from(train.map((row) => row.minutes)),
    PREPARATION_FEATURE_COUNT,
    LAMBDA,
  );
  const predicted = predictRidge(model, pack(test), test.length);
  // Ablation: the same rows without the weather (its column is constant, so the fit ignores it).
  const rainColumn = PREPARATION_FEATURE_NAMES.indexOf('rain');
  const withoutRain = (rows: Row[]) => {
    const packed = pack(rows);
    for (let row = 0; row < rows.length; row += 1) packed[row * PREPARATION_FEATURE_COUNT + rainColumn] = 0;
    return packed;
  };
  const dryModel = fitRidge(
    withoutRain(train),
    Float64Array.from(train.map((row) => row.minutes)),
    PREPARATION_FEATURE_COUNT,
    LAMBDA,
  );
  const predictedWithout = predictRidge(dryModel, withoutRain(test), test.length);
  const isRain = (row: Row) => row.features[rainColumn] === 1;
  const byWeather = (rain: boolean) => {
    const indices = test.flatMap((row, index) => (isRain(row) === rain ? [index] : []));
    const rows = indices.map((index) => test[index]!);
    return {
      orders: rows.length,
      meanMinutes: Number((rows.reduce((sum, row) => sum + row.minutes, 0) / rows.length).toFixed(3)),
      model: errors(rows, (_row, index) => predicted[indices[index]!]!),
      modelWithoutWeather: errors(rows, (_row, index) => predictedWithout[indices[index]!]!),
      restaurantMean: errors(rows, (row) => row.restaurantMean),
    };
  };
  const metrics = {
    holdoutOrders: test.length,
    meanMinutes: Number((test.reduce((sum, row) => sum + row.minutes, 0) / test.length).toFixed(3)),
    model: errors(test, (_row, index) => predicted[index]!),
    modelWithoutWeather: errors(test, (_row, index) => predictedWithout[index]!),
    restaurantMean: errors(test, (row) => row.restaurantMean),
    stated: errors(test, (row) => row.statedMinutes),
    rainyDays: byWeather(true),
    dryDays: byWeather(false),
  };
  const gain = 1 - metrics.model.maeMinutes / metrics.restaurantMean.maeMinutes;
  const weatherGain = 1 - metrics.model.maeMinutes / metrics.modelWithoutWeather.maeMinutes;
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
    metrics: {
      ...metrics,
      maeGainOverRestaurantMean: Number(gain.toFixed(4)),
      maeGainOverNoWeather: Number(weatherGain.toFixed(4)),
    },
  };
  writeFileSync(join(here, 'model', 'preparation.card.json'), `${JSON.stringify(card, null, 2)}\n`);
  writeFileSync(
    join(here, 'results', 'preparation.json'),
    `${JSON.stringify({ modelVersion: PREPARATION_MODEL_VERSION, bytes: onnx.length, trainOrders: train.length, metrics: card.metrics, totalMs: Date.now() - started }, null, 2)}\n`,
  );
  console.log(`wrote ml/model/preparation.onnx (${onnx.length} bytes) in ${Date.now() - started} ms`);
}

await main();
