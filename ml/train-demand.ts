/**
 * `npm run ml:train:demand` (also run by `npm run ml:train`): the demand forecast. From the
 * synthetic history (ml/src/generate.ts), the orders per local hour of every restaurant and every
 * delivery zone; for each series and each day, the 24 hourly counts of that day predicted from days
 * at least two days before it (`demand.ts`). A ridge regression is fitted on the training weeks'
 * days and evaluated on the holdout weeks' days against the seasonal-naive forecast (the same
 * hour one week before) and the 7-day same-hour mean. Writes `ml/model/demand.onnx`, its card and
 * `ml/results/demand.json`. Deterministic.
 *
 * Weather: the `rain` features get the day's rain in the series' city (the generator's draw; rain
 * raises each customer's order rate by 0–60 %). The holdout is scored three ways: with the day's
 * weather (a perfect forecast: today's reading is close to it), with the season's chance (what the
 * server knows of tomorrow), and by a model fitted without the weather (version 1's features).
 * Then tomorrow with a forecast's chance of rain (`modelForecastChance`): the history has no
 * forecasts, so calibrated forecasts of several skills are simulated (seeded, below) and the same
 * model is scored with each, beside the forecast's Brier score: what a provider's probability is
 * worth to the forecast as a function of how good it is.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  dayStart,
  DEMAND_FEATURE_COUNT,
  DEMAND_WINDOW_DAYS,
  DEMAND_FEATURE_NAMES,
  DEMAND_HISTORY_DAYS,
  demandFeatures,
  HourlySeries,
  hourShares,
  localDayIndex,
  zoneOfCell,
} from '../src/modules/recommendations/demand.js';
import { seededRandom } from '../src/modules/catalog/fixtures.js';
import { CITY_CENTRES, rainChance } from '../src/modules/recommendations/features.js';
import { WeatherLog } from '../src/modules/recommendations/weather/history.js';
import { SPLIT } from './src/dataset.js';
import { GENERATOR_PARAMS, generateHistory } from './src/generate.js';
import { encodeOnnx } from './src/onnx.js';
import { fitRidge, predictRidge, ridgeToOnnx } from './src/ridge.js';

export const DEMAND_MODEL_VERSION = 2;
const LAMBDA = 1e-4;
const here = dirname(fileURLToPath(import.meta.url));
/** The simulated forecasts' seed and skills (the correlation of a forecaster's signal with the day's weather). */
const FORECAST_SEED = 2412;
const FORECAST_SKILLS = [0, 0.5, 0.7, 0.9, 0.97] as const;

/** The standard normal distribution function (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Its inverse, by bisection (deterministic; 80 halvings of [-10, 10]). */
function normalQuantile(p: number): number {
  let low = -10;
  let high = 10;
  for (let step = 0; step < 80; step += 1) {
    const middle = (low + high) / 2;
    if (normalCdf(middle) < p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

function errors(actual: number[], predicted: number[], per: 'Hour' | 'Day' = 'Hour') {
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
    [`maeOrdersPer${per}`]: Number((abs / actual.length).toFixed(4)),
    [`rmseOrdersPer${per}`]: Number(Math.sqrt(sq / actual.length).toFixed(4)),
    /** Weighted absolute percentage error: Σ|error| / Σ actual. */
    wape: Number((abs / total).toFixed(4)),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const history = generateHistory();
  type City = keyof typeof CITY_CENTRES;
  const restaurants = new Map<string, HourlySeries>();
  const zones = new Map<string, HourlySeries>();
  const cityOf = new Map<HourlySeries, City>();
  const total = new HourlySeries();
  for (const order of history.orders) {
    const restaurant = restaurants.get(order.restaurantId) ?? new HourlySeries();
    restaurant.add(order.at);
    restaurants.set(order.restaurantId, restaurant);
    cityOf.set(restaurant, order.city);
    const zone = zoneOfCell(order.cell);
    if (zone !== null) {
      const series = zones.get(zone) ?? new HourlySeries();
      series.add(order.at);
      zones.set(zone, series);
      cityOf.set(series, order.city);
    }
    total.add(order.at);
  }
  const firstDay = localDayIndex(history.params.start);
  const trainStart = firstDay + DEMAND_HISTORY_DAYS;
  const testStart = firstDay + SPLIT.trainWeeks * 7;
  const end = firstDay + history.params.weeks * 7;

  /** The day's rain in a city (0 or 1): its recorded noon reading (the generator's draw for the day). */
  const weather = new WeatherLog(history.weather);
  const dayRain = (city: City, day: number) =>
    weather.rainAt(CITY_CENTRES[city], dayStart(day) + 12 * 3_600_000) ? 1 : 0;
  /** The season's chance of rain that day in a city: what the server knows of tomorrow. */
  const seasonRain = (city: City, day: number) =>
    rainChance(dayStart(day) + 12 * 3_600_000, CITY_CENTRES[city]);
  const windowOf = (rainOf: (city: City, day: number) => number, city: City, day: number) => {
    let sum = 0;
    for (let past = day + DEMAND_WINDOW_DAYS.from; past <= day + DEMAND_WINDOW_DAYS.to; past += 1)
      sum += rainOf(city, past);
    return sum / (DEMAND_WINDOW_DAYS.to - DEMAND_WINDOW_DAYS.from + 1);
  };
  type Knowledge = {
    target: (city: City, day: number) => number;
    window: (city: City, day: number) => number;
  };
  const collect = (from: number, to: number, knows: Knowledge) => {
    const rows: Float32Array[] = [];
    const targets: number[] = [];
    const kinds: ('restaurant' | 'zone')[] = [];
    const rainy: boolean[] = [];
    for (let day = from; day < to; day += 1) {
      const shares = hourShares(total, day);
      for (const [kind, map] of [
        ['restaurant', restaurants],
        ['zone', zones],
      ] as const) {
        for (const series of map.values()) {
          const city = cityOf.get(series)!;
          rows.push(
            demandFeatures(series, shares, day, {
              target: knows.target(city, day),
              window: knows.window(city, day),
            }),
          );
          for (let hour = 0; hour < 24; hour += 1) {
            targets.push(series.at(day, hour));
            kinds.push(kind);
            rainy.push(dayRain(city, day) === 1);
          }
        }
      }
    }
    const packed = new Float32Array(targets.length * DEMAND_FEATURE_COUNT);
    rows.forEach((block, index) => packed.set(block, index * 24 * DEMAND_FEATURE_COUNT));
    return { packed, targets, kinds, rainy };
  };
  const truth: Knowledge = { target: dayRain, window: (city, day) => windowOf(dayRain, city, day) };
  const train = collect(trainStart, testStart, truth);
  const test = collect(testStart, end, truth);
  // What the server knows of tomorrow without a record of past days: the season, both sides.
  const testSeason = collect(testStart, end, {
    target: seasonRain,
    window: (city, day) => windowOf(seasonRain, city, day),
  });
  // Today, from the provider's reading, still without a record of past days.
  const testToday = collect(testStart, end, {
    target: dayRain,
    window: (city, day) => windowOf(seasonRain, city, day),
  });
  // Tomorrow with a forecast's chance of rain (what the server reads from the provider). The
  // history has no forecasts, only the weather that came, so forecasts are simulated, calibrated,
  // at several skills: the day's rain is a latent normal z below the season's quantile
  // (rain ⇔ Φ(z) < chance, z drawn given the day's rain), and a forecaster of skill ρ sees
  // s = ρ z + √(1 − ρ²) ε and says P(rain | s) = Φ((Φ⁻¹(chance) − ρ s) / √(1 − ρ²)). ρ = 0 is the
  // season; ρ → 1 a sure forecast. Seeded (FORECAST_SEED); ε is shared by every ρ.
  const forecastRandom = seededRandom(FORECAST_SEED);
  const latent = new Map<string, { z: number; noise: number }>();
  for (let day = testStart + DEMAND_WINDOW_DAYS.from; day < end; day += 1)
    for (const city of ['douala', 'yaounde'] as const) {
      const chance = seasonRain(city, day);
      const u = forecastRandom();
      const z = normalQuantile(dayRain(city, day) === 1 ? u * chance : chance + u * (1 - chance));
      latent.set(`${city}|${day}`, {
        z,
        noise: normalQuantile(Math.min(1 - 1e-12, Math.max(1e-12, forecastRandom()))),
      });
    }
  const forecastChance = (rho: number) => (city: City, day: number) => {
    const chance = seasonRain(city, day);
    const drawn = latent.get(`${city}|${day}`);
    if (rho === 0 || drawn === undefined) return chance;
    const spread = Math.sqrt(1 - rho * rho);
    const signal = rho * drawn.z + spread * drawn.noise;
    return normalCdf((normalQuantile(chance) - rho * signal) / spread);
  };
  const brier = (rho: number) => {
    let sum = 0;
    let count = 0;
    for (let day = testStart; day < end; day += 1)
      for (const city of ['douala', 'yaounde'] as const) {
        sum += (forecastChance(rho)(city, day) - dayRain(city, day)) ** 2;
        count += 1;
      }
    return Number((sum / count).toFixed(4));
  };
  const testForecasts = FORECAST_SKILLS.map((rho) => ({
    rho,
    brier: brier(rho),
    collected: collect(testStart, end, {
      target: forecastChance(rho),
      window: (city, day) => windowOf(seasonRain, city, day),
    }),
  }));
  const model = fitRidge(train.packed, Float64Array.from(train.targets), DEMAND_FEATURE_COUNT, LAMBDA);
  const predictWith = (fitted: typeof model, packed: Float32Array) =>
    Array.from(predictRidge(fitted, packed, test.targets.length), (value) => Math.max(0, value));
  const predicted = predictWith(model, test.packed);
  const predictedSeason = predictWith(model, testSeason.packed);
  const predictedToday = predictWith(model, testToday.packed);
  const predictedForecasts = testForecasts.map((forecast) => ({
    ...forecast,
    predicted: predictWith(model, forecast.collected.packed),
  }));
  // Ablation: the same fit with the weather columns constant (version 1's features).
  const weatherColumns = [
    DEMAND_FEATURE_NAMES.indexOf('rain_change'),
    DEMAND_FEATURE_NAMES.indexOf('rain_change_x_profile'),
  ];
  const dry = (packed: Float32Array) => {
    const copy = packed.slice();
    for (let row = 0; row < copy.length / DEMAND_FEATURE_COUNT; row += 1)
      for (const column of weatherColumns) copy[row * DEMAND_FEATURE_COUNT + column] = 0;
    return copy;
  };
  const noWeather = fitRidge(
    dry(train.packed),
    Float64Array.from(train.targets),
    DEMAND_FEATURE_COUNT,
    LAMBDA,
  );
  const predictedNoWeather = predictWith(noWeather, dry(test.packed));
  const column = (name: (typeof DEMAND_FEATURE_NAMES)[number]) =>
    test.targets.map(
      (_, row) => test.packed[row * DEMAND_FEATURE_COUNT + DEMAND_FEATURE_NAMES.indexOf(name)]!,
    );
  const seasonalNaive = column('lag_7d');
  const sameHourMean = column('same_hour_mean_7d');
  const part = (kind: 'restaurant' | 'zone' | null, rainy: boolean | null = null) => {
    const keep = test.targets.map(
      (_, index) =>
        (kind === null || test.kinds[index] === kind) && (rainy === null || test.rainy[index] === rainy),
    );
    const pick = (values: number[]) => values.filter((_, index) => keep[index]);
    const actual = pick(test.targets);
    // A series' day in one figure (rows come in blocks of 24 hours): hourly counts are mostly
    // Poisson noise (an hour's RMSE cannot go much below √mean), a day's total shows the weather.
    const days = (values: number[]) => {
      const picked = pick(values);
      return Array.from({ length: picked.length / 24 }, (_, day) =>
        picked.slice(day * 24, day * 24 + 24).reduce((a, b) => a + b, 0),
      );
    };
    const actualDays = days(test.targets);
    return {
      seriesHours: actual.length,
      dayTotals: {
        seriesDays: actualDays.length,
        meanOrdersPerDay: Number((actualDays.reduce((a, b) => a + b, 0) / actualDays.length).toFixed(3)),
        model: errors(actualDays, days(predicted), 'Day'),
        modelSeasonWeather: errors(actualDays, days(predictedSeason), 'Day'),
        modelTodayReading: errors(actualDays, days(predictedToday), 'Day'),
        // Tomorrow with a forecast's chance of rain of skill ρ (Brier score of the forecast).
        modelForecastChance: predictedForecasts.map((forecast) => ({
          rho: forecast.rho,
          brier: forecast.brier,
          ...errors(actualDays, days(forecast.predicted), 'Day'),
        })),
        modelWithoutWeather: errors(actualDays, days(predictedNoWeather), 'Day'),
        seasonalNaive: errors(actualDays, days(seasonalNaive), 'Day'),
        sameHourMean7d: errors(actualDays, days(sameHourMean), 'Day'),
      },
      meanOrdersPerHour: Number((actual.reduce((a, b) => a + b, 0) / actual.length).toFixed(4)),
      model: errors(actual, pick(predicted)),
      modelSeasonWeather: errors(actual, pick(predictedSeason)),
      modelTodayReading: errors(actual, pick(predictedToday)),
      modelForecastChance: predictedForecasts.map((forecast) => ({
        rho: forecast.rho,
        ...errors(actual, pick(forecast.predicted)),
      })),
      modelWithoutWeather: errors(actual, pick(predictedNoWeather)),
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
    rainyDays: part(null, true),
    dryDays: part(null, false),
  };
  const gain = 1 - metrics.all.model.maeOrdersPerHour! / metrics.all.seasonalNaive.maeOrdersPerHour!;
  const weatherGain =
    1 - metrics.all.model.maeOrdersPerHour! / metrics.all.modelWithoutWeather.maeOrdersPerHour!;
  const dayTotals = metrics.all.dayTotals;
  const weatherDayGain =
    1 - dayTotals.model.maeOrdersPerDay! / dayTotals.modelWithoutWeather.maeOrdersPerDay!;
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
    metrics: {
      ...metrics,
      maeGainOverSeasonalNaive: Number(gain.toFixed(4)),
      maeGainOverNoWeather: Number(weatherGain.toFixed(4)),
      dayTotalMaeGainOverNoWeather: Number(weatherDayGain.toFixed(4)),
    },
  };
  writeFileSync(join(here, 'model', 'demand.card.json'), `${JSON.stringify(card, null, 2)}\n`);
  writeFileSync(
    join(here, 'results', 'demand.json'),
    `${JSON.stringify({ modelVersion: DEMAND_MODEL_VERSION, bytes: onnx.length, trainRows: train.targets.length, metrics: card.metrics, totalMs: Date.now() - started }, null, 2)}\n`,
  );
  console.log(`wrote ml/model/demand.onnx (${onnx.length} bytes) in ${Date.now() - started} ms`);
}

await main();
