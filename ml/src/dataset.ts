/**
 * The time split of a generated history and the replay that turns it into rows: orders are folded
 * into `HistoryStats` in time order, and each order is read (features, labels) before it is folded,
 * so no row sees its own future. Weeks [0, warmup) only build history, [warmup, trainEnd) give
 * training groups, [trainEnd, end) are the holdout.
 */
import { HistoryStats, type CandidateItem } from '../../src/modules/recommendations/features.js';
import type { GeneratedHistory } from './generate.js';

export const SPLIT = { warmupWeeks: 2, trainWeeks: 12 } as const;
const WEEK_MS = 7 * 86_400_000;

export type Phase = 'warmup' | 'train' | 'test';
export type HistoryOrder = GeneratedHistory['orders'][number];

export function phaseOf(history: GeneratedHistory, at: number): Phase {
  const week = Math.floor((at - history.params.start) / WEEK_MS);
  if (week < SPLIT.warmupWeeks) return 'warmup';
  return week < SPLIT.trainWeeks ? 'train' : 'test';
}

export function statsFor(history: GeneratedHistory): HistoryStats {
  const byId = new Map<string, CandidateItem>(history.items.map((item) => [item.itemId, item]));
  return new HistoryStats((itemId) => byId.get(itemId));
}

/** Replays the history; `visit` sees each order and the stats of everything before it. */
export function replay(
  history: GeneratedHistory,
  visit: (order: HistoryOrder, phase: Phase, stats: HistoryStats) => void,
): HistoryStats {
  const stats = statsFor(history);
  for (const order of history.orders) {
    visit(order, phaseOf(history, order.at), stats);
    stats.add(order);
  }
  return stats;
}

/** The dishes a ranking should have found: the order's distinct dishes. */
export function relevantOf(order: HistoryOrder): Set<string> {
  return new Set(order.lines.map((line) => line.itemId));
}
