import autocannon from 'autocannon';

export interface LoadFigures {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP95Ms?: number;
  latencyP99Ms: number;
  errors: number;
  non2xx: number;
  connections: number;
  durationSeconds: number;
}

/**
 * Runs autocannon (bounded in time) and keeps the figures we compare across runs. The load is
 * generated in a worker thread so the server's event loop has the main thread to itself, as it
 * would with autocannon in another process on the same two cores (as the peer figures in docs/benchmarks.md were measured).
 */
export async function load(options: autocannon.Options): Promise<LoadFigures> {
  const result = await autocannon({ connections: 50, duration: 10, workers: 1, ...options });
  const latency = result.latency as unknown as Record<string, number>;
  return {
    requestsPerSecond: Math.round(result.requests.average),
    latencyP50Ms: latency.p50 ?? result.latency.average,
    latencyP95Ms: latency.p95,
    latencyP99Ms: latency.p99 ?? result.latency.max,
    errors: result.errors,
    non2xx: result.non2xx,
    connections: result.connections,
    durationSeconds: result.duration,
  };
}
