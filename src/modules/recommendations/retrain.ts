/**
 * The preparation model's retrain job (issue #24): rebuilds the training rows from the order
 * events' read model (`reco_orders`: placement, ready and end times, stated time, dishes), replays
 * them with the trainer's code (`preparationRows`), fits a ridge regression on all but the last
 * `HOLDOUT_DAYS`, and evaluates it and the model being served on those held-out days. The
 * candidate is promoted only if its MAE beats the served model's by `PROMOTION_MARGIN` (or no
 * model is served): written beside the served file (card first, then the model, each by an atomic
 * rename) with the next version, then reloaded. Every run is audited (`recommendations.model_
 * promoted`, `…_kept`, `…_skipped`) and its outcome is kept for `/health/ready`.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { AuditEntry } from '../identity/index.js';
import { cellCentre, seasonalRain } from './features.js';
import { cardPathOf } from './model.js';
import { encodeOnnx } from './onnx-writer.js';
import {
  meanAbsoluteError,
  packRows,
  PREPARATION_FEATURE_COUNT,
  PREPARATION_FEATURE_NAMES,
  preparationRows,
  type PreparationFact,
} from './preparation.js';
import type { RegressionModel } from './regression-model.js';
import { fitRidge, predictRidge, ridgeToOnnx } from './ridge.js';
import type { RecommendationsDb } from './tables.js';
import type { WeatherHistory } from './weather/history.js';

export const RETRAIN_QUEUE = 'recommendations-retrain';
export const RETRAIN_DAYS = 120;
export const HOLDOUT_DAYS = 14;
export const RETRAIN_MAX_ORDERS = 300_000;
/** Fewer rows than this and the run is skipped: nothing to learn or to judge from. */
export const MIN_TRAIN_ROWS = 200;
export const MIN_HOLDOUT_ROWS = 50;
/** A candidate must lower the held-out MAE by this share to replace the served model. */
export const PROMOTION_MARGIN = 0.01;
const LAMBDA = 1e-4;
const DAY_MS = 86_400_000;

export interface RetrainOutcome {
  at: string;
  outcome: 'promoted' | 'kept' | 'skipped';
  reason: string;
  trainRows: number;
  holdoutRows: number;
  candidateMae: number | null;
  servedMae: number | null;
  /** The version served after the run. */
  version: string | null;
}

export interface PreparationRetrain {
  run(at?: Date): Promise<RetrainOutcome>;
  last(): RetrainOutcome | null;
}

const round = (value: number | null) =>
  value === null || !Number.isFinite(value) ? null : Number(value.toFixed(3));

export function createPreparationRetrain(options: {
  db: RecommendationsDb;
  model: RegressionModel;
  audit: (entry: AuditEntry) => Promise<void>;
  logger: Logger;
  /** The recorded weather (each order's rain is its city-hour's reading, else the season's). */
  weatherHistory?: WeatherHistory;
}): PreparationRetrain {
  const { db, model, audit, logger } = options;
  let last: RetrainOutcome | null = null;

  async function facts(at: Date): Promise<PreparationFact[]> {
    const rows = await db
      .selectFrom('reco_orders')
      .select([
        'order_id',
        'restaurant_id',
        'lines',
        'placed_at',
        'ready_at',
        'closed_at',
        'stated_prep_minutes',
        'cell',
      ])
      .where('placed_at', '>=', new Date(at.getTime() - RETRAIN_DAYS * DAY_MS))
      .where('placed_at', '<', at)
      .orderBy('placed_at')
      .orderBy('order_id')
      .limit(RETRAIN_MAX_ORDERS)
      .execute();
    const weather = await options.weatherHistory?.read(new Date(at.getTime() - RETRAIN_DAYS * DAY_MS), at);
    return rows
      .filter((row) => row.stated_prep_minutes !== null)
      .map((row) => ({
        orderId: row.order_id,
        restaurantId: row.restaurant_id,
        placedAt: row.placed_at!.getTime(),
        // A ready time before placement, or beyond the model's bound, is not a kitchen's pace.
        readyAt:
          row.ready_at !== null &&
          row.ready_at.getTime() >= row.placed_at!.getTime() &&
          row.ready_at.getTime() - row.placed_at!.getTime() <= 240 * 60_000
            ? row.ready_at.getTime()
            : null,
        closedAt: row.closed_at?.getTime() ?? null,
        statedMinutes: row.stated_prep_minutes!,
        items: row.lines.reduce((sum, line) => sum + line.quantity, 0),
        // The reading recorded for the order's city and hour; the season's bucket without one.
        rain:
          weather?.rainAt(cellCentre(row.cell), row.placed_at!.getTime()) ??
          seasonalRain(row.placed_at!.getTime(), cellCentre(row.cell)),
      }));
  }

  async function promote(
    candidate: ReturnType<typeof fitRidge>,
    version: number,
    card: Record<string, unknown>,
  ) {
    const path = model.status().path;
    const bytes = encodeOnnx(
      ridgeToOnnx(candidate, {
        graphName: 'preparation_time',
        output: 'minutes',
        version,
        docString: 'Minutes from placement to ready for pickup (issue #24), retrained from the order events',
        metadata: { model_version: String(version), features: PREPARATION_FEATURE_NAMES.join(',') },
      }),
    );
    const suffix = `.${randomUUID()}.tmp`;
    // The card first: the loader reads the card when the model's file changes.
    await writeFile(
      cardPathOf(path) + suffix,
      `${JSON.stringify({ ...card, bytes: bytes.length }, null, 2)}\n`,
    );
    await rename(cardPathOf(path) + suffix, cardPathOf(path));
    await writeFile(path + suffix, bytes);
    await rename(path + suffix, path);
    await model.reloadIfChanged();
  }

  async function run(at = new Date()): Promise<RetrainOutcome> {
    const all = await facts(at);
    const split = at.getTime() - HOLDOUT_DAYS * DAY_MS;
    const rows = preparationRows(all);
    const train = rows.filter((row) => row.at < split);
    const holdout = rows.filter((row) => row.at >= split);
    const served = model.status();
    const base = {
      at: at.toISOString(),
      trainRows: train.length,
      holdoutRows: holdout.length,
    };
    let outcome: RetrainOutcome;
    if (train.length < MIN_TRAIN_ROWS || holdout.length < MIN_HOLDOUT_ROWS) {
      outcome = {
        ...base,
        outcome: 'skipped',
        reason: `too few ready orders (${train.length} to train, ${holdout.length} held out; ${MIN_TRAIN_ROWS} and ${MIN_HOLDOUT_ROWS} needed)`,
        candidateMae: null,
        servedMae: null,
        version: served.version,
      };
    } else {
      const candidate = fitRidge(
        packRows(train),
        Float64Array.from(train.map((row) => row.minutes)),
        PREPARATION_FEATURE_COUNT,
        LAMBDA,
      );
      const holdoutRows = packRows(holdout);
      const candidateMae = meanAbsoluteError(holdout, predictRidge(candidate, holdoutRows, holdout.length));
      const servedPredictions = await model.predict(holdoutRows, holdout.length);
      const servedMae =
        servedPredictions === undefined
          ? null
          : meanAbsoluteError(
              holdout,
              Array.from(servedPredictions, (v) => Math.max(1, v)),
            );
      const wins = servedMae === null || candidateMae < servedMae * (1 - PROMOTION_MARGIN);
      const version = (served.version === null ? 0 : Number.parseInt(served.version, 10) || 0) + 1;
      if (wins) {
        const restaurantMae = meanAbsoluteError(
          holdout,
          holdout.map((row) => row.restaurantMean),
        );
        await promote(candidate, version, {
          name: 'preparation',
          modelVersion: version,
          file: model.status().path.split('/').pop(),
          task: 'minutes from an order’s placement to ready for pickup',
          architecture: 'standardise → linear (ridge regression, closed form)',
          trainer: 'the retrain job (src/modules/recommendations/retrain.ts)',
          data: {
            source: 'reco_orders (the order events)',
            trainedAt: at.toISOString(),
            split: `last ${HOLDOUT_DAYS} days held out of ${RETRAIN_DAYS}`,
            trainRows: train.length,
            holdoutRows: holdout.length,
            previousCard: await readFile(cardPathOf(model.status().path), 'utf8')
              .then((text) => (JSON.parse(text) as { modelVersion?: unknown }).modelVersion ?? null)
              .catch(() => null),
          },
          features: PREPARATION_FEATURE_NAMES,
          metrics: {
            maeMinutes: round(candidateMae),
            servedMaeMinutes: round(servedMae),
            restaurantMeanMaeMinutes: round(restaurantMae),
          },
        });
      }
      const now = model.status();
      if (wins && now.version !== String(version))
        throw new Error(`the promoted preparation model did not load: ${now.error ?? 'unknown'}`);
      outcome = {
        ...base,
        outcome: wins ? 'promoted' : 'kept',
        reason: wins
          ? servedMae === null
            ? 'no model was served'
            : `held-out MAE ${round(candidateMae)} < ${round(servedMae)} min`
          : `held-out MAE ${round(candidateMae)} does not beat the served ${round(servedMae)} min by ${PROMOTION_MARGIN * 100} %`,
        candidateMae: round(candidateMae),
        servedMae: round(servedMae),
        version: now.version,
      };
    }
    await audit({
      action: `recommendations.model_${outcome.outcome}`,
      actor: { kind: 'system' },
      resource: 'model:preparation',
      oldValue: { version: served.version },
      newValue: outcome,
    });
    logger.info(outcome, `recommendations: preparation retrain ${outcome.outcome}`);
    last = outcome;
    return outcome;
  }

  return { run, last: () => last };
}
