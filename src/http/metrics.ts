import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Runtime } from '../runtime.js';
import { HttpProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's Prometheus registry: modules register their own collectors on it (e.g. projection lag). */
    metricsRegistry: Registry;
  }
}

/**
 * Prometheus metrics, one registry per app instance (tests run several in one process).
 * Request durations are labelled by route pattern, never by raw URL (bounded cardinality).
 */
export function registerMetrics(app: FastifyInstance, runtime: Runtime): Registry {
  const registry = new Registry();
  app.decorate('metricsRegistry', registry);
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const pool = runtime.database.pool;
  new Gauge({
    name: 'pg_pool_connections',
    help: 'PostgreSQL pool connections by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requestDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  const token = runtime.config.METRICS_TOKEN;
  app.get(
    '/metrics',
    {
      schema: { hide: true },
      config: {
        access: {
          public: true,
          description: 'Prometheus scrape (Authorization: Bearer METRICS_TOKEN when set)',
        },
        rateLimit: false,
      },
    },
    async (request, reply) => {
      if (token !== undefined && !bearerMatches(request, token)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw new HttpProblem(401, 'unauthorized', 'Send the metrics token as Authorization: Bearer.');
      }
      reply.type(registry.contentType);
      return registry.metrics();
    },
  );
  return registry;
}

/** Compares digests, so neither the token's length nor its prefix leaks through timing. */
function bearerMatches(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(header.slice('Bearer '.length)), digest(token));
}
