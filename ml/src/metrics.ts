/** Offline ranking metrics over a holdout: HitRate@k, Recall@k and NDCG@k (binary relevance). */
export interface Metrics {
  count: number;
  hits: number;
  recall: number;
  ndcg: number;
}

export function emptyMetrics(): Metrics {
  return { count: 0, hits: 0, recall: 0, ndcg: 0 };
}

export function scoreRanking(
  metrics: Metrics,
  ranking: readonly string[],
  relevant: ReadonlySet<string>,
  k: number,
): void {
  let found = 0;
  let dcg = 0;
  for (let rank = 0; rank < Math.min(k, ranking.length); rank += 1) {
    if (relevant.has(ranking[rank]!)) {
      found += 1;
      dcg += 1 / Math.log2(rank + 2);
    }
  }
  let ideal = 0;
  for (let rank = 0; rank < Math.min(k, relevant.size); rank += 1) ideal += 1 / Math.log2(rank + 2);
  metrics.count += 1;
  metrics.hits += found > 0 ? 1 : 0;
  metrics.recall += relevant.size === 0 ? 0 : found / relevant.size;
  metrics.ndcg += ideal === 0 ? 0 : dcg / ideal;
}

export function summarise(metrics: Metrics): {
  orders: number;
  hitRate: number;
  recall: number;
  ndcg: number;
} {
  const n = Math.max(1, metrics.count);
  const round = (value: number) => Number(value.toFixed(4));
  return {
    orders: metrics.count,
    hitRate: round(metrics.hits / n),
    recall: round(metrics.recall / n),
    ndcg: round(metrics.ndcg / n),
  };
}
