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
 * Training yields to the event loop between batches (the job runs in an API process).
 */
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { AuditEntry } from '../identity/index.js';
import {
  CELL_DEGREES,
  distanceKm,
  FEATURE_COUNT,
  FEATURE_NAMES,
  featureRows,
  HistoryStats,
  seasonalRain,
  type CandidateItem,
  type OrderFact,
} from './features.js';
import {
  createMlp,
  fitScaler,
  logits,
  seededRandom,
  toOnnx,
  trainYielding,
  type Group,
  type Mlp,
} from './mlp.js';
import { cardPathOf, type Ranker } from './model.js';
import { encodeOnnx } from './onnx-writer.js';
import type { RecommendationsDb } from './tables.js';

export const RANKER_RETRAIN_DAYS = 120;
export const WARMUP_DAYS = 14;
export const HOLDOUT_DAYS = 14;
export const RANKER_MAX_ORDERS = 300_000;
/** Training groups at most (a seeded sample beyond it): bounds the job's CPU time and memory. */
export const MAX_TRAIN_GROUPS = 20_000;
/** Held-out orders evaluated at most (the latest ones). */
export const MAX_HOLDOUT_ORDERS = 3_000;
export const MIN_TRAIN_GROUPS = 200;
export const MIN_HOLDOUT_ORDERS = 50;
/** A candidate must raise the held-out NDCG@10 by this share to replace the served ranker. */
export const PROMOTION_MARGIN = 0.01;
export const NEGATIVES = 15;
export const HOLDOUT_NEGATIVES = 49;
/** Negatives come from dishes within this distance of the ordered dish's restaurant (its city). */
const NEIGHBOURHOOD_KM = 30;
const K = 10;
const DAY_MS = 86_400_000;
export const RANKER_TRAINING = {
  seed: 11,
  hidden: [32, 16],
  epochs: 4,
  batchGroups: 64,
  learningRate: 0.003,
  l2: 1e-5,
} as const;

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

interface HoldoutCase {
  rows: Float32Array;
  size: number;
  /** Rows [0, relevant) are the order's dishes. */
  relevant: number;
}

const round = (value: number | null) =>
  value === null || !Number.isFinite(value) ? null : Number(value.toFixed(4));

/** The centre of a location cell (`cellOf`), the place a replayed order is ranked for. */
function cellCentre(cell: string | null): { latitude: number; longitude: number } | null {
  const match = cell === null ? null : /^(-?\d+):(-?\d+)$/.exec(cell);
  if (match === null) return null;
  return {
    latitude: (Number(match[1]) + 0.5) * CELL_DEGREES,
    longitude: (Number(match[2]) + 0.5) * CELL_DEGREES,
  };
}

/** HitRate@K and NDCG@K of one case, from its scores (binary relevance). */
function scoreCase(scores: Float32Array, testCase: HoldoutCase): { hit: number; ndcg: number } {
  const order = Array.from(scores.subarray(0, testCase.size), (score, index) => ({ score, index })).sort(
    (a, b) => b.score - a.score || a.index - b.index,
  );
  let dcg = 0;
  let found = 0;
  order.slice(0, K).forEach(({ index }, rank) => {
    if (index < testCase.relevant) {
      found += 1;
      dcg += 1 / Math.log2(rank + 2);
    }
  });
  let ideal = 0;
  for (let rank = 0; rank < Math.min(K, testCase.relevant); rank += 1) ideal += 1 / Math.log2(rank + 2);
  return { hit: found > 0 ? 1 : 0, ndcg: ideal === 0 ? 0 : dcg / ideal };
}

async function evaluate(
  cases: HoldoutCase[],
  score: (rows: Float32Array, count: number) => Promise<Float32Array | undefined>,
): Promise<{ ndcg: number; hitRate: number } | null> {
  let ndcg = 0;
  let hits = 0;
  for (const testCase of cases) {
    const scores = await score(testCase.rows, testCase.size);
    if (scores === undefined) return null;
    const result = scoreCase(scores, testCase);
    ndcg += result.ndcg;
    hits += result.hit;
  }
  return { ndcg: ndcg / Math.max(1, cases.length), hitRate: hits / Math.max(1, cases.length) };
}

/** Replays the orders: training groups before the holdout, ranking cases within it. */
function replayOrders(orders: OrderFact[], items: readonly CandidateItem[], at: number) {
  const byId = new Map(items.map((item) => [item.itemId, item]));
  const stats = new HistoryStats((itemId) => byId.get(itemId));
  const random = seededRandom(RANKER_TRAINING.seed);
  const warmupEnd = at - (RANKER_RETRAIN_DAYS - WARMUP_DAYS) * DAY_MS;
  const split = at - HOLDOUT_DAYS * DAY_MS;
  const trainOrders = orders.filter((order) => order.at >= warmupEnd && order.at < split).length;
  // Each training order gives about one group per dish; keep a share that stays under the bound.
  const keep = Math.min(1, MAX_TRAIN_GROUPS / Math.max(1, trainOrders * 1.5));
  const holdoutStart = orders.filter((order) => order.at >= split).length - MAX_HOLDOUT_ORDERS;
  const groups: Group[] = [];
  const cases: HoldoutCase[] = [];
  let holdoutIndex = 0;
  const near = (item: CandidateItem) => items.filter((other) => distanceKm(item, other) <= NEIGHBOURHOOD_KM);
  const neighbourhoods = new Map<string, CandidateItem[]>();
  const sample = (pool: CandidateItem[], exclude: ReadonlySet<string>, count: number) => {
    const chosen: CandidateItem[] = [];
    const available = pool.filter((item) => !exclude.has(item.itemId));
    for (let tries = 0; chosen.length < Math.min(count, available.length) && tries < count * 10; tries += 1) {
      const item = available[Math.floor(random() * available.length)]!;
      if (!chosen.includes(item)) chosen.push(item);
    }
    return chosen;
  };
  for (const order of orders) {
    const dishes = [...new Set(order.lines.map((line) => line.itemId))]
      .map((itemId) => byId.get(itemId))
      .filter((item): item is CandidateItem => item !== undefined);
    const phase = order.at < warmupEnd ? 'warmup' : order.at < split ? 'train' : 'holdout';
    if (dishes.length > 0 && phase !== 'warmup') {
      const first = dishes[0]!;
      const pool = neighbourhoods.get(first.restaurantId) ?? near(first);
      neighbourhoods.set(first.restaurantId, pool);
      const relevant = new Set(dishes.map((item) => item.itemId));
      const location = cellCentre(order.cell);
      const context = { at: order.at, rain: seasonalRain(order.at, location), location };
      if (phase === 'train' && groups.length < MAX_TRAIN_GROUPS && random() < keep) {
        const negatives = sample(pool, relevant, NEGATIVES);
        if (negatives.length > 0) {
          const negativeRows = featureRows(stats, order.customerId, context, negatives);
          for (const dish of dishes) {
            const rows = new Float32Array((1 + negatives.length) * FEATURE_COUNT);
            rows.set(featureRows(stats, order.customerId, context, [dish]), 0);
            rows.set(negativeRows, FEATURE_COUNT);
            groups.push({ rows, size: 1 + negatives.length });
          }
        }
      } else if (phase === 'holdout' && holdoutIndex++ >= holdoutStart) {
        const negatives = sample(pool, relevant, HOLDOUT_NEGATIVES);
        const ranked = [...dishes, ...negatives];
        cases.push({
          rows: featureRows(stats, order.customerId, context, ranked),
          size: ranked.length,
          relevant: dishes.length,
        });
      }
    }
    stats.add(order);
  }
  return { groups, cases };
}

export function createRankerRetrain(options: {
  db: RecommendationsDb;
  ranker: Ranker;
  /** The catalog's orderable dishes (the recommendations service's candidates). */
  items: () => readonly CandidateItem[];
  audit: (entry: AuditEntry) => Promise<void>;
  logger: Logger;
}): RankerRetrain {
  const { db, ranker, audit, logger } = options;
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
    return rows.map((row) => ({
      orderId: row.order_id,
      customerId: row.customer_id,
      restaurantId: row.restaurant_id,
      lines: row.lines,
      at: row.placed_at!.getTime(),
      cell: row.cell,
    }));
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

  async function decide(at: Date, groups: Group[], cases: HoldoutCase[]) {
    const mlp = createMlp(FEATURE_COUNT, [...RANKER_TRAINING.hidden], RANKER_TRAINING.seed);
    fitScaler(mlp, groups);
    const losses = await trainYielding(mlp, groups, RANKER_TRAINING);
    const candidate = (await evaluate(cases, async (rows, count) => logits(mlp, rows, count)))!;
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
          trainGroups: groups.length,
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
    const { groups, cases } = replayOrders(await ordersBefore(at), options.items(), at.getTime());
    const served = ranker.status();
    const base = { at: at.toISOString(), trainGroups: groups.length, holdoutOrders: cases.length };
    let outcome: RankerRetrainOutcome;
    if (groups.length < MIN_TRAIN_GROUPS || cases.length < MIN_HOLDOUT_ORDERS) {
      outcome = {
        ...base,
        outcome: 'skipped',
        reason: `too few orders (${groups.length} training groups, ${cases.length} held out; ${MIN_TRAIN_GROUPS} and ${MIN_HOLDOUT_ORDERS} needed)`,
        candidateNdcg: null,
        servedNdcg: null,
        candidateHitRate: null,
        servedHitRate: null,
        version: served.version,
      };
    } else {
      const decision = await decide(at, groups, cases);
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
