/**
 * The recommendations context (issue #24): `GET /v1/recommendations` ranks the catalog's dishes
 * with the ONNX model trained in `ml/` (docs/recommendations.md). It reads orders through its own
 * projection (`reco_orders`) and dishes through the catalog's ranking API.
 */
import { resolve } from 'node:path';
import { defineContext, need, tablesOf } from '../../platform/context.js';
import type { Catalog } from '../catalog/index.js';
import type { Identity } from '../identity/index.js';
import { createExperiments } from './experiments.js';
import { registerExperimentRoutes } from './experiments-routes.js';
import { createRecommendationMetrics } from './metrics.js';
import { loadRanker } from './model.js';
import { DEMAND_FEATURE_NAMES } from './demand.js';
import { createDemandForecasts } from './demand-service.js';
import { registerForecastRoutes } from './forecast-routes.js';
import { createPreparationRetrain, RETRAIN_QUEUE, type PreparationRetrain } from './retrain.js';
import { createRankerRetrain, type RankerRetrain } from './ranker-retrain.js';
import { PREPARATION_FEATURE_NAMES } from './preparation.js';
import { createPreparation, type PreparationService } from './preparation-service.js';
import { loadRegressionModel } from './regression-model.js';
import { recommendationsProjection } from './projection.js';
import { registerRecommendationRoutes } from './routes.js';
import { createRecommendations } from './service.js';
import type { RecommendationsService } from './service.js';
import type { RecommendationTables } from './tables.js';
import { CITY_CENTRES } from './features.js';
import { openMeteoWeather } from './weather/open-meteo.js';
import type { WeatherProvider } from './weather/port.js';
import { simulatedWeather } from './weather/simulator.js';
import { createWeatherService, type WeatherService } from './weather/weather-service.js';
import { createWeatherHistory } from './weather/history.js';
import type { Config } from '../../config/index.js';

export type { RecommendationsService, Recommendations } from './service.js';
export type { PreparationService } from './preparation-service.js';
export { recommendationsProjection, RECOMMENDATIONS_PROJECTION } from './projection.js';

/** The weather provider the config names (open-meteo in production, the simulator otherwise). */
function weatherProvider(config: Config): WeatherProvider | null {
  const chosen = config.WEATHER_PROVIDER ?? (config.isProduction ? 'open-meteo' : 'simulator');
  if (chosen === 'season') return null;
  if (chosen === 'simulator') return simulatedWeather();
  return openMeteoWeather({
    baseUrl: config.WEATHER_OPEN_METEO_BASE_URL,
    ...(config.WEATHER_OPEN_METEO_API_KEY === undefined ? {} : { apiKey: config.WEATHER_OPEN_METEO_API_KEY }),
  });
}

/** The models' retrain (retrain.ts, ranker-retrain.ts): daily, 03:40 UTC. */
export const RETRAIN_CRON = '40 3 * * *';

export const recommendationsContext = defineContext({
  name: 'recommendations',
  needs: { catalog: need<Pick<Catalog, 'ranking'>>(), identity: need<Pick<Identity, 'audit'>>() },
  projections: [recommendationsProjection],
  tables: tablesOf<RecommendationTables>(),
  async create(platform, { catalog, identity }) {
    const { runtime, db } = platform;
    const { config, logger } = runtime;
    const ranker = await loadRanker(resolve(config.RECOMMENDATIONS_MODEL_PATH));
    const status = ranker.status();
    if (status.loaded) logger.info({ version: status.version }, 'recommendations: model loaded');
    else logger.warn({ error: status.error }, 'recommendations: no model, popularity is served');
    const provider = weatherProvider(config);
    // Every reading fetched is recorded per city and hour, for the retrains' labels.
    const weatherHistory = createWeatherHistory(db);
    let prunedAt = 0;
    const weather: WeatherService | undefined =
      provider === null
        ? undefined
        : createWeatherService({
            provider,
            logger,
            settings: {
              cacheSeconds: config.WEATHER_CACHE_SECONDS,
              staleSeconds: config.WEATHER_STALE_SECONDS,
              timeoutMs: config.WEATHER_TIMEOUT_MS,
              retryAfterSeconds: config.WEATHER_RETRY_AFTER_SECONDS,
            },
            onReading: (place, reading, fetchedAt) =>
              weatherHistory.record(place, reading, provider.name, fetchedAt),
          });
    const recommendations = createRecommendations({
      db,
      catalog: catalog.ranking,
      ranker,
      logger,
      ...(weather === undefined ? {} : { weather }),
    });
    const preparationModel = await loadRegressionModel(
      resolve(config.PREPARATION_MODEL_PATH),
      PREPARATION_FEATURE_NAMES,
      'minutes',
    );
    if (!preparationModel.status().loaded)
      logger.warn(
        { error: preparationModel.status().error },
        'recommendations: no preparation model, stated times are used',
      );
    const preparation = createPreparation({
      db,
      model: preparationModel,
      ...(weather === undefined ? {} : { weather }),
    });
    const retrain = createPreparationRetrain({
      db,
      model: preparationModel,
      audit: identity.audit,
      logger,
      weatherHistory,
    });
    const rankerRetrain = createRankerRetrain({
      db,
      ranker,
      items: () => recommendations.candidateItems(),
      audit: identity.audit,
      logger,
      weatherHistory,
    });
    const service: RecommendationsService & {
      preparation: PreparationService;
      retrain: PreparationRetrain;
      rankerRetrain: RankerRetrain;
    } = {
      ...recommendations,
      preparation,
      retrain,
      rankerRetrain,
      // Both the ranker's history and the kitchens' state.
      async refresh() {
        // The cities' weather is asked for when it is not fresh (behind, never awaited here).
        for (const centre of Object.values(CITY_CENTRES)) weather?.rainAt(centre, Date.now());
        // The weather history's retention, at most hourly (any instance may; a delete is idempotent).
        if (Date.now() - prunedAt >= 3_600_000) {
          prunedAt = Date.now();
          await weatherHistory.prune(new Date());
        }
        await Promise.all([recommendations.refresh(), preparation.refresh()]);
      },
    };
    const demandModel = await loadRegressionModel(
      resolve(config.DEMAND_MODEL_PATH),
      DEMAND_FEATURE_NAMES,
      'orders',
    );
    const demand = createDemandForecasts({
      db,
      model: demandModel,
      ...(weather === undefined ? {} : { weather }),
    });
    const experiments = createExperiments({ db, audit: identity.audit });
    const metrics = createRecommendationMetrics(() => ranker.status().version);
    let timer: NodeJS.Timeout | undefined;
    runtime.closers.push({ name: 'recommendations model', close: () => ranker.close() });
    runtime.closers.push({ name: 'preparation model', close: () => preparationModel.close() });
    runtime.closers.push({ name: 'demand model', close: () => demandModel.close() });
    // Never fails readiness (requests are served by popularity without a model): it says which.
    runtime.readiness.push({
      name: 'recommendations-model',
      check: async () => {
        const now = ranker.status();
        const state = now.loaded
          ? `model ${now.version ?? 'unversioned'} loaded`
          : `no model: popularity served (${now.error ?? 'not loaded'})`;
        const run = rankerRetrain.last();
        return {
          detail: run === null ? state : `${state}; last retrain ${run.at}: ${run.outcome} (${run.reason})`,
        };
      },
    });
    // Never fails readiness (the season answers without a provider): says where the weather comes from.
    runtime.readiness.push({
      name: 'weather',
      check: async () => {
        if (weather === undefined) return { detail: 'no provider: the season’s weather is used' };
        const now = weather.status();
        return {
          detail: `${now.provider}: ${now.cells} places cached, last reading ${now.lastSuccessAt ?? 'never'}${now.lastError === null ? '' : `, last error ${now.lastError}`}`,
        };
      },
    });
    // Like the ranker's: never fail readiness, say what is served.
    for (const [name, model, fallback] of [
      ['preparation-model', preparationModel, 'stated preparation times used'],
      ['demand-model', demandModel, 'seasonal-naive forecast served'],
    ] as const) {
      runtime.readiness.push({
        name,
        check: async () => {
          const now = model.status();
          const state = now.loaded
            ? `model ${now.version ?? 'unversioned'} loaded`
            : `no model: ${fallback} (${now.error ?? 'not loaded'})`;
          const run = name === 'preparation-model' ? retrain.last() : null;
          return {
            detail: run === null ? state : `${state}; last retrain ${run.at}: ${run.outcome} (${run.reason})`,
          };
        },
      });
    }
    return {
      service,
      routes(app) {
        registerRecommendationRoutes(app, { recommendations, metrics, experiments });
        registerExperimentRoutes(app, { experiments });
        registerForecastRoutes(app, { demand });
      },
      reactors: [
        {
          name: 'recommendations refresh',
          async start() {
            const tick = () =>
              void service.refresh().catch((error: unknown) => {
                logger.warn({ err: error }, 'recommendations: refresh failed (the last history is kept)');
              });
            tick();
            timer = setInterval(tick, config.RECOMMENDATIONS_REFRESH_SECONDS * 1000);
            timer.unref();
          },
          async stop() {
            clearInterval(timer);
          },
        },
      ],
      // Daily at 03:40 UTC, one run per day whatever the instances (a job id per day).
      jobs: [
        {
          queue: RETRAIN_QUEUE,
          concurrency: 1,
          attempts: 2,
          // The preparation model, then the ranker (with the catalog of the last refresh); a
          // failure of the first does not keep the second from running.
          async handler(data: { at: string }) {
            const at = new Date(data.at);
            const preparationRun = await Promise.allSettled([retrain.run(at)]);
            if (recommendations.candidateItems().length === 0) await recommendations.refresh();
            const rankerRun = await Promise.allSettled([rankerRetrain.run(at)]);
            const failed = [...preparationRun, ...rankerRun].find((result) => result.status === 'rejected');
            if (failed !== undefined) throw failed.reason;
          },
        },
      ],
      schedules: [
        {
          name: 'recommendations-retrain',
          cron: RETRAIN_CRON,
          run: async (at) => {
            const day = Math.floor(at.getTime() / 86_400_000);
            await platform.jobs.queue.enqueue(
              RETRAIN_QUEUE,
              { at: new Date(day * 86_400_000 + 3 * 3_600_000).toISOString() },
              { jobId: `recommendations-retrain-${day}` },
            );
          },
        },
      ],
      personalData: {
        export: async (userId) => ({
          ...(await recommendations.personalData.export(userId)),
          ...(await experiments.personalData.export(userId)),
        }),
        erase: async (userId) => {
          await recommendations.personalData.erase(userId);
          await experiments.personalData.erase(userId);
        },
      },
    };
  },
});
