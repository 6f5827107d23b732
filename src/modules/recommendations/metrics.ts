import { Gauge, Histogram, type Metric } from 'prom-client';

/** Ranking latency and the model in use; registered on /metrics by the context's routes. */
export function createRecommendationMetrics(version: () => string | null) {
  const latency = new Histogram({
    name: 'recommendations_rank_seconds',
    help: 'Time to rank the dishes of one GET /v1/recommendations (features and model), by source',
    labelNames: ['source'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [],
  });
  const model = new Gauge({
    name: 'recommendations_model_info',
    help: 'The ranker loaded (1, labelled by its version) or none (version "none": popularity is served)',
    labelNames: ['version'] as const,
    registers: [],
    collect() {
      this.reset();
      this.set({ version: version() ?? 'none' }, 1);
    },
  });
  return { latency, all: [latency, model] as Metric[] };
}

export type RecommendationMetrics = ReturnType<typeof createRecommendationMetrics>;
