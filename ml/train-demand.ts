/**
 * `npm run ml:train:demand` (also run by `npm run ml:train`): the demand forecast. From the
 * synthetic history (ml/src/generate.ts), the orders per local hour of every restaurant and every
 * delivery zone; for each series and each day, the 24 hourly counts of that day predicted from days
 * at least two days before it (`demand.ts`). A ridge regression is fitted on the training weeks'
 * days and evaluated on the holdout weeks' days against the seasonal-naive forecast (the same
 * hour one week before) and the 7-day same-hour mean. Writes `ml/model/demand.onnx`, its card and
 * `ml/results/demand.json`. Deterministic.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEMAND_FEATURE_COUNT,
  DEMAND_FEATURE_NAMES,
  DEMAND_HISTORY_DAYS,
  demandFeatures,
  HourlySeries,
  hourShares,
  localDayIndex,
  zoneOfCell,
} from '../src/modules/recommendations/demand.js';
import { SPLIT } from './src/dataset.js';
import { GENERATOR_PARAMS, generateHistory } from './src/generate.js';
import { encodeOnnx } from './src/onnx.js';
import { fitRidge, predictRidge, ridgeToOnnx } from './src/ridge.js';

export const DEMAND_MODEL_VERSION = 1;
const LAMBDA = 1e-4;
const here = dirname(fileURLToPath(import.meta.url));

function errors(actual: number[], predicted: number[]) {
  let abs = 0;
  let sq = 0;
  let total = 0;
  actual.forEach((value, index) => {
    const error = predicted[index]! - value;
    abs += Math.abs(error);
    sq += error * error;
    total += value;
  });
  return {
    maeOrdersPerHour: Number((abs / actual.length).toFixed(4)),
    rmseOrdersPerHour: Number(Math.sqrt(sq / actual.length).toFixed(4)),
    /** Weighted absolute percentage error: Σ|error| / Σ actual. */
    wape: Number((abs / total).toFixed(4)),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const history = generateHistory();
  const restaurants = new Map<string, HourlySeries>();
  const zones = new Map<string, HourlySeries>();
  const total = new HourlySeries();
  for (const order of history.orders) {
    const restaurant = restaurants.get(order.restaurantId) ?? new HourlySeries();
    restaurant.add(order.at);
    restaurants.set(order.restaurantId, restaurant);
    const zone = zoneOfCell(order.cell);
    if (zone !== null) {
      const series = zones.get(zone) ?? new HourlySeries();
      series.add(order.at);
      zones.set(zone, series);
    }
    total.add(order.at);
  }
  const firstDay = localDayIndex(history.params.start);
  const trainStart = firstDay + DEMAND_HISTORY_DAYS;
  const testStart = firstDay + SPLIT.trainWeeks * 7;
  const end = firstDay + history.params.weeks * 7;

  const collect = (from: number, to: number) => {
    const rows: Float32Array[] = [];
    const targets: number[] = [];
    const kinds: ('restaurant' | 'zone')[] = [];
    for (let day = from; day < to; day += 1) {
      const shares = hourShares(total, day);
      for (const [kind, map] of [
        ['restaurant', restaurants],
        ['zone', zones],
      ] as const) {
        for (const series of map.values()) {
          rows.push(demandFeatures(series, shares, day));
          for (let hour = 0; hour < 24; hour += 1) {
            targets.push(series.at(day, hour));
            kinds.push(kind);
          }
        }
      }
    }
    const packed = new Float32Array(targets.length * DEMAND_FEATURE_COUNT);
    rows.forEach((block, index) => packed.set(block, index * 24 * DEMAND_FEATURE_COUNT));
    return { packed, targets, kinds };
  };
  const train = collect(trainStart, testStart);
  const test = collect(testStart, end);
  const model = fitRidge(train.packed, Float64Array.from(train.targets), DEMAND_FEATURE_COUNT, LAMBDA);
  const predicted = Array.from(predictRidge(model, test.packed, test.targets.length), (value) =>
    Math.max(0, value),
  );
  const column = (name: (typeof DEMAND_FEATURE_NAMES)[number]) =>
    test.targets.map(
      (_, row) => test.packed[row * DEMAND_FEATURE_COUNT + DEMAND_FEATURE_NAMES.indexOf(name)]!,
    );
  const seasonalNaive = column('lag_7d');
  const sameHourMean = column('same_hour_mean_7d');
  const part = (kind: 'restaurant' | 'zone' | null) => {
    const keep = test.targets.map((_, index) => kind === null || test.kinds[index] === kind);
    const pick = (values: number[]) => values.filter((_, index) => keep[index]);
    const actual = pick(test.targets);
    return {
      seriesHours: actual.length,
      meanOrdersPerHour: Number((actual.reduce((a, b) => a + b, 0) / actual.length).toFixed(4)),
      model: errors(actual, pick(predicted)),
      seasonalNaive: errors(actual, pick(seasonalNaive)),
      sameHourMean7d: errors(actual, pick(sameHourMean)),
    };
  };
  const metrics = {
    holdoutDays: end - testStart,
    series: { restaurants: restaurants.size, zones: zones.size },
    all: part(null),
    restaurants: part('restaurant'),
    zones: part('zone'),
  };
  const gain = 1 - metrics.all.model.maeOrdersPerHour / metrics.all.seasonalNaive.maeOrdersPerHour;
  console.log(JSON.stringify(metrics, null, 2));

  const onnx = encodeOnnx(
    ridgeToOnnx(model, {
      graphName: 'demand_forecast',
      output: 'orders',
      version: DEMAND_MODEL_VERSION,
      docString:
        'Orders in one hour of the next day for a restaurant or a zone (issue #24); features: src/modules/recommendations/demand.ts',
      metadata: { model_version: String(DEMAND_MODEL_VERSION), features: DEMAND_FEATURE_NAMES.join(',') },
    }),
  );
  mkdirSync(join(here, 'model'), { recursive: true });
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'model', 'demand.onnx'), onnx);
  const card = {
    name: 'demand',
    modelVersion: DEMAND_MODEL_VERSION,
    file: 'demand.onnx',
    bytes: onnx.length,
    task: 'orders per hour of the next local day, per restaurant and per delivery zone; GET /v1/admin/forecasts/demand',
    architecture: 'standardise → linear (ridge regression, closed form); negative answers read as 0',
    trainer: `TypeScript (ml/src/ridge.ts), L2 ${LAMBDA} per row`,
    data: {
      source: 'synthetic history (ml/src/generate.ts), regenerated from its seed',
      generator: GENERATOR_PARAMS,
      split: `days ${DEMAND_HISTORY_DAYS + 1}-${SPLIT.trainWeeks * 7} training (each day's 24 hours, every series), days ${SPLIT.trainWeeks * 7 + 1}-${GENERATOR_PARAMS.weeks * 7} holdout`,
      trainRows: train.targets.length,
    },
    features: DEMAND_FEATURE_NAMES,
    weights: Object.fromEntries(
      DEMAND_FEATURE_NAMES.map((name, index) => [
        name,
        Number((model.weights[index]! * model.scale[index]!).toFixed(5)),
      ]),
    ),
    metrics: { ...metrics, maeGainOverSeasonalNaive: Number(gain.toFixed(4)) },
  };
  writeFileSync(join(here, 'model', 'demand.card.json'), `${JSON.stringify(card, null, 2)}\n`);
  writeFileSync(
    join(here, 'results', 'demand.json'),
    `${JSON.stringify({ modelVersion: DEMAND_MODEL_VERSION, bytes: onnx.length, trainRows: train.targets.length, metrics: card.metrics, totalMs: Date.now() - started }, null, 2)}\n`,
  );
  console.log(`wrote ml/model/demand.onnx (${onnx.length} bytes) in ${Date.now() - started} ms`);
}

await main();
