/**
 * The ranker's retrain without I/O (issue #24): the replay of the placed orders into training
 * groups and held-out ranking cases, and the candidate's training and evaluation. Pure CPU work on
 * plain data, so the retrain job runs it in a worker thread (`ranker-worker.ts`): a day's history
 * would otherwise hold an API process's event loop for seconds (measured in
 * `bench/recommendations/ranker-retrain.ts`). `trainCandidate` is the whole of it; the job then
 * scores the served model (its ONNX session) on the same cases and decides.
 */
import {
  cellCentre,
  distanceKm,
  FEATURE_COUNT,
  featureRows,
  HistoryStats,
  seasonalRain,
  type CandidateItem,
  type OrderFact,
} from './features.js';
import { createMlp, fitScaler, logits, seededRandom, train, type Group, type Mlp } from './mlp.js';

export const RANKER_RETRAIN_DAYS = 120;
export const WARMUP_DAYS = 14;
export const HOLDOUT_DAYS = 14;
/** Training groups at most (a seeded sample beyond it): bounds the job's CPU time and memory. */
export const MAX_TRAIN_GROUPS = 20_000;
/** Held-out orders evaluated at most (the latest ones). */
export const MAX_HOLDOUT_ORDERS = 3_000;
export const MIN_TRAIN_GROUPS = 200;
export const MIN_HOLDOUT_ORDERS = 50;
export const NEGATIVES = 15;
export const HOLDOUT_NEGATIVES = 49;
/** Negatives come from dishes within this distance of the ordered dish's restaurant (its city). */
export const NEIGHBOURHOOD_KM = 30;
export const K = 10;
export const DAY_MS = 86_400_000;
export const RANKER_TRAINING = {
  seed: 11,
  hidden: [32, 16],
  epochs: 4,
  batchGroups: 64,
  learningRate: 0.003,
  l2: 1e-5,
} as const;

export interface HoldoutCase {
  rows: Float32Array;
  size: number;
  /** Rows [0, relevant) are the order's dishes. */
  relevant: number;
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

export async function evaluate(
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
export function replayOrders(orders: OrderFact[], items: readonly CandidateItem[], at: number) {
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
      const context = { at: order.at, rain: order.rain ?? seasonalRain(order.at, location), location };
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

export interface TrainInput {
  orders: OrderFact[];
  items: readonly CandidateItem[];
  /** The run's instant (epoch ms): the split is counted back from it. */
  at: number;
}

export interface TrainResult {
  /** Null when there were too few groups or cases to train (the run is skipped). */
  mlp: Mlp | null;
  trainGroups: number;
  cases: HoldoutCase[];
  losses: number[];
  candidate: { ndcg: number; hitRate: number } | null;
  /** Elapsed time of the replay, and of the training with its evaluation (ms, in the thread that ran them). */
  replayElapsedMs: number;
  trainElapsedMs: number;
}

/**
 * The replay, then the untrained candidate with its scaler fitted; or, with too little data, the
 * result that says so. Shared by the worker's training (`trainCandidate`) and the in-thread one.
 */
export function prepareCandidate(
  input: TrainInput,
):
  | { result: TrainResult }
  | { mlp: Mlp; groups: Group[]; cases: HoldoutCase[]; started: number; replayElapsedMs: number } {
  const started = performance.now();
  const { groups, cases } = replayOrders(input.orders, input.items, input.at);
  const replayElapsedMs = performance.now() - started;
  if (groups.length < MIN_TRAIN_GROUPS || cases.length < MIN_HOLDOUT_ORDERS)
    return {
      result: {
        mlp: null,
        trainGroups: groups.length,
        cases,
        losses: [],
        candidate: null,
        replayElapsedMs,
        trainElapsedMs: 0,
      },
    };
  const mlp = createMlp(FEATURE_COUNT, [...RANKER_TRAINING.hidden], RANKER_TRAINING.seed);
  fitScaler(mlp, groups);
  return { mlp, groups, cases, started, replayElapsedMs };
}

/** The trained candidate's result, timed from the start of its replay. */
export function trainedResult(
  prepared: Exclude<ReturnType<typeof prepareCandidate>, { result: TrainResult }>,
  losses: number[],
  candidate: { ndcg: number; hitRate: number },
): TrainResult {
  const { mlp, groups, cases, started, replayElapsedMs } = prepared;
  return {
    mlp,
    trainGroups: groups.length,
    cases,
    losses,
    candidate,
    replayElapsedMs,
    trainElapsedMs: performance.now() - started - replayElapsedMs,
  };
}

/** The replay, then (with enough data) the candidate's training and its held-out figures. */
export function trainCandidate(input: TrainInput): TrainResult {
  const prepared = prepareCandidate(input);
  if ('result' in prepared) return prepared.result;
  const { mlp, groups, cases } = prepared;
  const losses = train(mlp, groups, RANKER_TRAINING);
  let ndcg = 0;
  let hits = 0;
  for (const testCase of cases) {
    const result = scoreCase(logits(mlp, testCase.rows, testCase.size), testCase);
    ndcg += result.ndcg;
    hits += result.hit;
  }
  return trainedResult(prepared, losses, { ndcg: ndcg / cases.length, hitRate: hits / cases.length });
}
