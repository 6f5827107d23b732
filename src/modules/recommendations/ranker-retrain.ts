/**
 * The ranker's retrain, in the daily retrain job (issue #24): the placed orders of the last
 * `RETRAIN_DAYS` from `reco_orders` (the order events' read model), replayed in time order into
 * `HistoryStats` with the trainer's features (each order read before it is folded, so no row sees
 * its own future). The first `WARMUP_DAYS` only build history; orders up to `HOLDOUT_DAYS` before
 * the run train a candidate MLP (`ml/`'s architecture and loss: one ordered dish against
 * `NEGATIVES` dishes near its restaurant); the held-out days rank each order's dishes among
 * `HOLDOUT_NEGATIVES` others with the candidate and with the served model. The candidate is
 * promoted only if its NDCG@10 beats the served model's by `PROMOTION_MARGIN` (or none is
 * served): card then model written beside the served file by atomic renames, reloaded, audited
 * `recommendations.ranker_promoted`; otherwise `…_kept` (or `…_skipped` with too little data).
 *
 * The replay and the training (`ranker-training.ts`, pure CPU work) run in a worker thread
 * (`ranker-worker.ts`, one per run, ended after it): on the synthetic history they take seconds of
 * CPU in one stretch, which would hold the API process's requests (measured in
 * `bench/recommendations/ranker-retrain.ts`). The option `thread: 'inline'` runs them in the
 * process instead (training then yields between batches; the replay does not): the bench's
 * comparison.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { AuditEntry } from '../identity/index.js';
import { cellCentre, FEATURE_NAMES, seasonalRain, type CandidateItem, type OrderFact } from './features.js';
import type { WeatherHistory } from './weather/history.js';
import { logits, toOnnx, trainYielding, type Mlp } from './mlp.js';
import { cardPathOf, type Ranker } from './model.js';
import { encodeOnnx } from './onnx-writer.js';
import {
  evaluate,
  prepareCandidate,
  trainedResult,
  HOLDOUT_NEGATIVES,
  MIN_HOLDOUT_ORDERS,
  MIN_TRAIN_GROUPS,
  NEGATIVES,
  RANKER_RETRAIN_DAYS,
  RANKER_TRAINING,
  HOLDOUT_DAYS,
  WARMUP_DAYS,
  DAY_MS,
  type TrainInput,
  type TrainResult,
} from './ranker-training.js';
import type { RecommendationsDb } from './tables.js';

export {
  HOLDOUT_DAYS,
  HOLDOUT_NEGATIVES,
  MAX_HOLDOUT_ORDERS,
  MAX_TRAIN_GROUPS,
  MIN_HOLDOUT_ORDERS,
  MIN_TRAIN_GROUPS,
  NEGATIVES,
  RANKER_RETRAIN_DAYS,
  RANKER_TRAINING,
  WARMUP_DAYS,
} from './ranker-training.js';
export const RANKER_MAX_ORDERS = 300_000;
/** A candidate must raise the held-out NDCG@10 by this share to replace the served ranker. */
export const PROMOTION_MARGIN = 0.01;

export type RankerRetrainThread = 'worker' | 'inline';

const round = (value: number | null) =>
  value === null || !Number.isFinite(value) ? null : Number(value.toFixed(4));

/** tsx's ESM API (`register`), as a file URL: only needed when running from the TypeScript sources. */
function tsxApi(): string {
  const root = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  return pathToFileURL(join(root, 'dist', 'esm', 'api', 'index.mjs')).href;
}

/**
 * Runs `trainCandidate` in a new worker thread and ends it. From TypeScript sources (tsx, vitest)
 * the worker gets tsx's loader; from the build (dist/) it is plain JavaScript.
 */
export function trainInWorker(input: TrainInput): Promise<TrainResult> {
  const entry = new URL(`./ranker-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);
  // Node 20 does not apply an `--import` loader to a worker's entry: the thread registers tsx's
  // hooks itself, then imports the TypeScript entry.
  const worker = entry.pathname.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`,
        { eval: true, workerData: input },
      )
    : new Worker(entry, { workerData: input });
  return new Promise<TrainResult>((resolve, reject) => {
    let settled = false;
    worker.once('message', (message: { ok: true; result: TrainResult } | { ok: false; error: string }) => {
      settled = true;
      if (message.ok) resolve(message.result);
      else reject(new Error(`ranker training failed in its worker: ${message.error}`));
      void worker.terminate();
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the ranker's training worker exited (${code}) without an answer`));
    });
  });
}

/** The same work in this thread: training yields to the event loop between batches, the replay does not. */
export async function trainInline(input: TrainInput): Promise<TrainResult> {
  const prepared = prepareCandidate(input);
  if ('result' in prepared) return prepared.result;
  const { mlp, groups, cases } = prepared;
  const losses = await trainYielding(mlp, groups, RANKER_TRAINING);
  const candidate = (await evaluate(cases, async (rows, count) => logits(mlp, rows, count)))!;
  return trainedResult(prepared, losses, candidate);
}

export interface RankerRetrainOutcome {
  at: string;
  outcome: 'promoted' | 'kept' | 'skipped';
  reason: string;
  trainGroups: number;
  holdoutOrders: number;
  candidateNdcg: number | null;
  servedNdcg: number | null;
  candidateHitRate: number | null;
  servedHitRate: number | null;
  version: string | null;
}

export interface RankerRetrain {
  run(at?: Date): Promise<RankerRetrainOutcome>;
  last(): RankerRetrainOutcome | null;
}

export function createRankerRetrain(options: {
  db: RecommendationsDb;
  ranker: Ranker;
  /** The catalog's orderable dishes (the recommendations service's candidates). */
  items: () => readonly CandidateItem[];
  audit: (entry: AuditEntry) => Promise<void>;
  logger: Logger;
  /** Where the replay and the training run (default: a worker thread). */
  thread?: RankerRetrainThread;
  /** The recorded weather (each order's rain is its city-hour's reading, else the season's). */
  weatherHistory?: WeatherHistory;
}): RankerRetrain {
  const { db, ranker, audit, logger } = options;
  const thread = options.thread ?? 'worker';
  let last: RankerRetrainOutcome | null = null;

  async function ordersBefore(at: Date): Promise<OrderFact[]> {
    const rows = await db
      .selectFrom('reco_orders')
      .select(['order_id', 'customer_id', 'restaurant_id', 'lines', 'cell', 'placed_at'])
      .where('placed_at', '>=', new Date(at.getTime() - RANKER_RETRAIN_DAYS * DAY_MS))
      .where('placed_at', '<', at)
      .orderBy('placed_at')
      .orderBy('order_id')
      .limit(RANKER_MAX_ORDERS)
      .execute();
    const weather = await options.weatherHistory?.read(
      new Date(at.getTime() - RANKER_RETRAIN_DAYS * DAY_MS),
      at,
    );
    return rows.map((row) => {
      const at = row.placed_at!.getTime();
      const location = cellCentre(row.cell);
      return {
        orderId: row.order_id,
        customerId: row.customer_id,
        restaurantId: row.restaurant_id,
        lines: row.lines,
        at,
        cell: row.cell,
        rain: weather?.rainAt(location, at) ?? seasonalRain(at, location),
      };
    });
  }

  async function promote(mlp: Mlp, version: number, card: Record<string, unknown>): Promise<void> {
    const path = ranker.status().path;
    const bytes = encodeOnnx(
      toOnnx(mlp, {
        version,
        docString: 'Dish ranker for GET /v1/recommendations (issue #24), retrained from the order events',
        metadata: { model_version: String(version), features: FEATURE_NAMES.join(',') },
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
    await ranker.reloadIfChanged();
  }

  async function decide(
    at: Date,
    mlp: Mlp,
    trained: TrainResult & { candidate: { ndcg: number; hitRate: number } },
  ) {
    const { cases, losses, candidate } = trained;
    const served = await evaluate(cases, (rows, count) => ranker.logits(rows, count));
    const wins = served === null || candidate.ndcg > served.ndcg * (1 + PROMOTION_MARGIN);
    const before = ranker.status().version;
    const version = (before === null ? 0 : Number.parseInt(before, 10) || 0) + 1;
    if (wins)
      await promote(mlp, version, {
        name: 'recommendations',
        modelVersion: version,
        file: ranker.status().path.split('/').pop(),
        task: 'rank the orderable dishes for a customer (or a guest at a place) now; GET /v1/recommendations',
        architecture:
          'standardise → Dense(32) → Dense(16) with ReLU → Dense(1) → sigmoid; ranked by the logit',
        trainer: `the retrain job (src/modules/recommendations/ranker-retrain.ts), sampled softmax over one ordered dish and ${NEGATIVES} dishes near it, Adam`,
        data: {
          source: 'reco_orders (the order events)',
          trainedAt: at.toISOString(),
          split: `first ${WARMUP_DAYS} days history only, then training, last ${HOLDOUT_DAYS} days held out, of ${RANKER_RETRAIN_DAYS}`,
          trainGroups: trained.trainGroups,
          holdoutOrders: cases.length,
          previousVersion: await readFile(cardPathOf(ranker.status().path), 'utf8')
            .then((text) => (JSON.parse(text) as { modelVersion?: unknown }).modelVersion ?? null)
            .catch(() => null),
        },
        features: FEATURE_NAMES,
        training: { ...RANKER_TRAINING, finalLoss: round(losses.at(-1) ?? null) },
        metrics: {
          holdout: `each held-out order's dishes among ${HOLDOUT_NEGATIVES} dishes near them`,
          ndcgAt10: round(candidate.ndcg),
          hitRateAt10: round(candidate.hitRate),
          servedNdcgAt10: round(served?.ndcg ?? null),
          servedHitRateAt10: round(served?.hitRate ?? null),
        },
      });
    const now = ranker.status();
    if (wins && now.version !== String(version))
      throw new Error(`the promoted ranker did not load: ${now.error ?? 'unknown'}`);
    return { wins, candidate, served, version: now.version };
  }

  async function run(at = new Date()): Promise<RankerRetrainOutcome> {
    const input: TrainInput = { orders: await ordersBefore(at), items: options.items(), at: at.getTime() };
    const trained = await (thread === 'worker' ? trainInWorker(input) : trainInline(input));
    const { cases, trainGroups } = trained;
    const served = ranker.status();
    const base = { at: at.toISOString(), trainGroups, holdoutOrders: cases.length };
    let outcome: RankerRetrainOutcome;
    if (trained.mlp === null || trained.candidate === null) {
      outcome = {
        ...base,
        outcome: 'skipped',
        reason: `too few orders (${trainGroups} training groups, ${cases.length} held out; ${MIN_TRAIN_GROUPS} and ${MIN_HOLDOUT_ORDERS} needed)`,
        candidateNdcg: null,
        servedNdcg: null,
        candidateHitRate: null,
        servedHitRate: null,
        version: served.version,
      };
    } else {
      logger.info(
        {
          thread,
          orders: input.orders.length,
          replayElapsedMs: Math.round(trained.replayElapsedMs),
          trainElapsedMs: Math.round(trained.trainElapsedMs),
        },
        'recommendations: ranker candidate trained',
      );
      const decision = await decide(at, trained.mlp, { ...trained, candidate: trained.candidate });
      const [candidate, old] = [round(decision.candidate.ndcg), round(decision.served?.ndcg ?? null)];
      outcome = {
        ...base,
        outcome: decision.wins ? 'promoted' : 'kept',
        reason: decision.wins
          ? old === null
            ? 'no ranker was served'
            : `held-out NDCG@10 ${candidate} > ${old}`
          : `held-out NDCG@10 ${candidate} does not beat the served ${old} by ${PROMOTION_MARGIN * 100} %`,
        candidateNdcg: candidate,
        servedNdcg: old,
        candidateHitRate: round(decision.candidate.hitRate),
        servedHitRate: round(decision.served?.hitRate ?? null),
        version: decision.version,
      };
    }
    await audit({
      action: `recommendations.ranker_${outcome.outcome}`,
      actor: { kind: 'system' },
      resource: 'model:recommendations',
      oldValue: { version: served.version },
      newValue: outcome,
    });
    logger.info(outcome, `recommendations: ranker retrain ${outcome.outcome}`);
    last = outcome;
    return outcome;
  }

  return { run, last: () => last };
}
