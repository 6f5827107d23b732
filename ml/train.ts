/**
 * `npm run ml:train`: generates the synthetic history (ml/src/generate.ts), builds training groups
 * from its training weeks, trains the ranker and writes `ml/model/recommendations.onnx`, its model
 * card `ml/model/recommendations.card.json` and `ml/results/train.json`. Deterministic: the same
 * code and parameters give the same bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../src/modules/catalog/fixtures.js';
import { FEATURE_COUNT, FEATURE_NAMES, featureRows } from '../src/modules/recommendations/features.js';
import { WeatherLog } from '../src/modules/recommendations/weather/history.js';
import { GENERATOR_PARAMS, generateHistory } from './src/generate.js';
import { relevantOf, replay, SPLIT } from './src/dataset.js';
import { createMlp, fitScaler, toOnnx, train, type Group } from './src/mlp.js';
import { encodeOnnx } from './src/onnx.js';

export const MODEL_VERSION = 1;
export const TRAINING = {
  seed: 7,
  hidden: [32, 16],
  negatives: 15,
  /** Share of training-week orders turned into groups (bounds time and memory). */
  keep: 0.5,
  epochs: 6,
  batchGroups: 64,
  learningRate: 0.003,
  l2: 1e-5,
} as const;

const here = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const started = Date.now();
  const history = generateHistory();
  // Each order's weather as recorded for its city and hour (the retrains read the same records).
  const weather = new WeatherLog(history.weather);
  console.log(
    `generated ${history.orders.length} orders, ${history.items.length} dishes in ${Date.now() - started} ms`,
  );
  const random = seededRandom(TRAINING.seed);
  const groups: Group[] = [];
  let trainOrders = 0;
  replay(history, (order, phase, stats) => {
    if (phase !== 'train' || random() >= TRAINING.keep) return;
    trainOrders += 1;
    const city = history.itemsByCity[order.city];
    const relevant = relevantOf(order);
    const negatives = [];
    while (negatives.length < TRAINING.negatives) {
      const item = city[Math.floor(random() * city.length)]!;
      if (!relevant.has(item.itemId)) negatives.push(item);
    }
    const context = {
      at: order.at,
      rain: weather.rainAt(order.location, order.at),
      location: order.location,
    };
    const negativeRows = featureRows(stats, order.customerId, context, negatives);
    for (const itemId of relevant) {
      const positive = featureRows(stats, order.customerId, context, [
        history.items.find((item) => item.itemId === itemId)!,
      ]);
      const rows = new Float32Array((1 + negatives.length) * FEATURE_COUNT);
      rows.set(positive, 0);
      rows.set(negativeRows, FEATURE_COUNT);
      groups.push({ rows, size: 1 + negatives.length });
    }
  });
  console.log(`${groups.length} groups from ${trainOrders} training orders`);
  const mlp = createMlp(FEATURE_COUNT, [...TRAINING.hidden], TRAINING.seed);
  fitScaler(mlp, groups);
  const trainStarted = Date.now();
  const losses = train(mlp, groups, { ...TRAINING, log: (line) => console.log(line) });
  const trainMs = Date.now() - trainStarted;

  const metadata = {
    model_version: String(MODEL_VERSION),
    features: FEATURE_NAMES.join(','),
  };
  const onnx = encodeOnnx(
    toOnnx(mlp, {
      version: MODEL_VERSION,
      docString:
        'Dish ranker for GET /v1/recommendations (issue #24); features: src/modules/recommendations/features.ts',
      metadata,
    }),
  );
  const modelDir = join(here, 'model');
  mkdirSync(modelDir, { recursive: true });
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(modelDir, 'recommendations.onnx'), onnx);
  const summary = {
    modelVersion: MODEL_VERSION,
    bytes: onnx.length,
    generator: GENERATOR_PARAMS,
    split: SPLIT,
    training: TRAINING,
    orders: history.orders.length,
    trainOrders,
    groups: groups.length,
    losses: losses.map((loss) => Number(loss.toFixed(5))),
    trainMs,
    totalMs: Date.now() - started,
  };
  writeFileSync(join(here, 'results', 'train.json'), `${JSON.stringify(summary, null, 2)}\n`);
  // The model card: the server checks `features` against its own before serving the model;
  // `npm run ml:eval` adds the offline metrics.
  const card = {
    name: 'recommendations',
    modelVersion: MODEL_VERSION,
    file: 'recommendations.onnx',
    bytes: onnx.length,
    task: 'rank the orderable dishes for a customer (or a guest at a place) now; GET /v1/recommendations',
    architecture: `standardise → Dense(${TRAINING.hidden.join(') → Dense(')}) with ReLU → Dense(1) → sigmoid; ranked by the logit`,
    trainer:
      'TypeScript (ml/src/mlp.ts), sampled softmax over one ordered dish and ' +
      `${TRAINING.negatives} dishes of its city, Adam`,
    data: {
      source: 'synthetic history (ml/src/generate.ts), regenerated from its seed, never committed',
      generator: GENERATOR_PARAMS,
      orders: history.orders.length,
      split: `weeks 1-${SPLIT.warmupWeeks} history only, ${SPLIT.warmupWeeks + 1}-${SPLIT.trainWeeks} training, ${SPLIT.trainWeeks + 1}-${GENERATOR_PARAMS.weeks} holdout`,
      trainOrders,
    },
    features: FEATURE_NAMES,
    training: TRAINING,
    metrics: null as unknown,
  };
  writeFileSync(join(modelDir, 'recommendations.card.json'), `${JSON.stringify(card, null, 2)}\n`);
  console.log(`wrote ml/model/recommendations.onnx (${onnx.length} bytes) in ${Date.now() - started} ms`);
}

await main();
