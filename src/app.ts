import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import underPressure from '@fastify/under-pressure';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { Config } from './config/index.js';
import { registerCompression } from './http/compression.js';
import { registerConditionalGet } from './http/conditional-get.js';
import { notFoundHandler, registerErrorHandlers } from './http/errors.js';
import { registerHealth } from './http/health.js';
import { configureIdempotency } from './http/idempotency.js';
import { fieldCipherOf } from './platform/field-crypto.js';
import { securityHeaders } from './http/security-headers.js';
import { refuseUnsafeText } from './http/text-guard.js';
import { registerMetrics } from './http/metrics.js';
import { registerAudienceDocuments } from './http/openapi-audiences.js';
import { openapiOptions } from './http/openapi.js';
import { registerProblemPages } from './http/problem-pages.js';
import { registerRateLimits } from './http/rate-limit.js';
import { registerSyncQueue } from './http/sync-queue.js';
import { schemaCompilers } from './http/validators.js';
import { HttpProblem, ProblemSchema } from './http/problem.js';
import { loggerOptions } from './logger.js';
import { registerRealtime, registerWebsocketPlugin } from './realtime/index.js';
import type { Services } from './services.js';
import type { Logger } from 'pino';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,128}$/;

export function serverOptions(config: Config, logger?: Logger): FastifyServerOptions {
  return {
    ...(logger === undefined ? { logger: loggerOptions(config.LOG_LEVEL) } : { loggerInstance: logger }),
    // A client-supplied request id is kept when it is well-formed, so traces join up.
    requestIdHeader: 'x-request-id',
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Slow 2G clients get time, but a stalled socket cannot hold a worker forever.
    connectionTimeout: 60_000,
    keepAliveTimeout: 72_000,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
    trustProxy: config.TRUST_PROXY,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
    // Coercion is for query strings, path parameters and headers only: bodies are typed JSON.
    // Compiled at start, or per route on its first request (HTTP_SCHEMA_COMPILATION=lazy).
    schemaController: { compilersFactory: schemaCompilers(config.HTTP_SCHEMA_COMPILATION) },
  };
}

/**
 * Builds the Fastify instance with the app registered; `server.ts` only listens. The app plugin
 * is unwrapped (fastify-plugin) so its error handler, hooks and decorators cover every route,
 * including routes a test or an embedding host adds afterwards.
 */
export async function buildApp(services: Services, logger?: Logger): Promise<FastifyInstance> {
  const app = Fastify(serverOptions(services.runtime.config, logger)).withTypeProvider<TypeBoxTypeProvider>();
  await app.register(fastifyPlugin(appPlugin, { name: 'app', fastify: '5.x' }), { services });
  return app;
}

/** The whole application as one plugin (fastify/demo style). */
export async function appPlugin(app: FastifyInstance, options: { services: Services }): Promise<void> {
  const { services } = options;
  const { runtime } = services;
  const { config } = runtime;

  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    const url = route.url;
    if (url.startsWith('/v1/') && route.config?.access === undefined) {
      throw new Error(`route ${route.method} ${url} declares no config.access (default deny)`);
    }
  });
  // Graceful shutdown: in-flight requests finish, and their keep-alive sockets close right after
  // (otherwise close() would wait for the clients' keep-alive timeout).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  configureIdempotency(runtime.database.db, {
    leaseMs: config.IDEMPOTENCY_LEASE_SECONDS * 1000,
    fields: fieldCipherOf(config),
  });
  app.addSchema(ProblemSchema);
  app.decorate('publicBaseUrl', config.PUBLIC_BASE_URL.replace(/\/$/, ''));
  registerErrorHandlers(app);
  refuseUnsafeText(app);
  // ETags of the uncompressed bytes first, then compression.
  registerConditionalGet(app);
  if (config.HTTP_COMPRESSION) registerCompression(app, { minBytes: config.HTTP_COMPRESSION_MIN_BYTES });

  const headers = securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'none'"],
      },
    },
    crossOriginResourcePolicy: { policy: 'same-site' },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  });
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && config.corsOrigins.includes(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: ['x-request-id', 'etag', 'retry-after', 'idempotent-replayed'],
    maxAge: 600,
  });
  await app.register(underPressure, {
    maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: config.MAX_HEAP_USED_BYTES,
    retryAfter: 10,
    // Health probes are answered under pressure: liveness stays up, readiness says 'load'.
    pressureHandler: async (request, _reply, type, value) => {
      if (request.url.startsWith('/health/')) return;
      throw new HttpProblem(503, 'overloaded', 'The service is overloaded; retry shortly.', {
        headers: { 'retry-after': '10' },
        extensions: { pressure: String(type), value },
      });
    },
  });
  await registerRateLimits(app, {
    config,
    redis: runtime.redis,
    hashAddress: (value) => services.identity.limitKey(value),
    overrides: () => services.admin.rateLimits.current(),
  });
  await app.register(swagger, openapiOptions(config.PUBLIC_BASE_URL));
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiConfig: { docExpansion: 'list', deepLinking: false },
    uiHooks: {},
  });
  registerAudienceDocuments(app);
  app.setNotFoundHandler({ preHandler: app.rateLimit() }, notFoundHandler);

  registerProblemPages(app, config.PUBLIC_BASE_URL);
  registerMetrics(app, runtime);
  registerHealth(app, runtime, {
    eventStore: config.EVENTSTORE_URL === undefined ? 'postgres' : 'eventstoredb',
  });

  await registerContexts(app, services);
  // After the contexts: identity's hook guards it, and the operations it runs are their routes.
  registerSyncQueue(app);
}

/**
 * What the contexts contributed, in dependency order: hooks over every route (identity's
 * authentication), each context's routes in its own encapsulated plugin, the WebSocket endpoints,
 * and the reactors, started when the app is ready and stopped in reverse when it closes.
 */
async function registerContexts(app: FastifyInstance, services: Services): Promise<void> {
  for (const { contribution } of services.contexts) {
    if (contribution.httpHooks !== undefined) await contribution.httpHooks(app);
  }
  for (const { contribution } of services.contexts) {
    const routes = contribution.routes?.bind(contribution);
    if (routes !== undefined) await app.register(async (scope) => routes(scope));
  }
  await app.register(async (scope) => {
    await registerWebsocketPlugin(scope);
    registerRealtime(scope, {
      bus: services.realtime.bus,
      channels: services.contexts.flatMap(({ contribution }) => contribution.channels ?? []),
      inbound: services.contexts.flatMap(({ contribution }) => contribution.inbound ?? []),
    });
  });
  const reactors = services.contexts.flatMap(({ contribution }) => contribution.reactors ?? []);
  app.addHook('onReady', async () => {
    for (const reactor of reactors) await reactor.start();
    // Job workers and schedules start once every context has defined its queues (src/jobs).
    await services.jobs.start();
  });
  app.addHook('onClose', async () => {
    for (const reactor of [...reactors].reverse()) await reactor.stop?.();
  });
}
