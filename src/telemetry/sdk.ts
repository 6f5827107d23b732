/**
 * The OpenTelemetry SDK, started by the preload (register.ts) when tracing is configured and never
 * loaded otherwise: spans of the HTTP server and clients, Fastify's routes, PostgreSQL, Redis and
 * BullMQ, plus ours (tracing.ts), exported by OTLP/HTTP in batches (docs/operations.md, "Tracing").
 */
import type { IncomingMessage, ClientRequest } from 'node:http';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { BullMQInstrumentation } from '@appsignal/opentelemetry-instrumentation-bullmq';
import type { Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import { maskUrl } from '../logger.js';
import type { TelemetrySettings } from './settings.js';
import { setTracingEnabled } from './tracing.js';

/** Probes and scrapes: frequent, and nothing to follow. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|\?|$)/;

export function samplerOf(settings: Pick<TelemetrySettings, 'sampler' | 'ratio'>): Sampler {
  const ratio = new TraceIdRatioBasedSampler(settings.ratio);
  switch (settings.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    default: {
      const exhaustive: never = settings.sampler;
      throw new Error(`unknown sampler ${String(exhaustive)}`);
    }
  }
}

/**
 * URLs as the logs show them (src/logger.ts maskUrl): query values that may be tokens or personal
 * data, and the public tracking token in a path, never reach a span. The instrumentations set
 * `url.path`, `url.query` and `url.full` before their hooks run; these overwrite them.
 */
function maskedUrlAttributes(pathAndQuery: string): { path: string; query: string | undefined } {
  const [path = '', query] = maskUrl(pathAndQuery).split('?', 2);
  return { path, query };
}

function maskHttpSpan(span: Span, request: IncomingMessage | ClientRequest): void {
  const outgoing = 'path' in request && typeof request.path === 'string';
  const pathAndQuery = outgoing ? (request as ClientRequest).path : (request as IncomingMessage).url;
  if (pathAndQuery === undefined) return;
  const { path, query } = maskedUrlAttributes(pathAndQuery);
  span.setAttribute('url.path', path);
  if (query !== undefined) span.setAttribute('url.query', query);
  if (outgoing) {
    const client = request as ClientRequest;
    span.setAttribute(
      'url.full',
      `${client.protocol}//${client.host}${path}${query === undefined ? '' : `?${query}`}`,
    );
  }
}

export function startTracing(settings: TelemetrySettings): NodeSDK {
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    sampler: samplerOf(settings),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.tracesUrl }))],
    // Traces only: metrics are Prometheus' (/metrics) and logs are pino's lines on stdout. Left
    // unset, the SDK would also post OTLP metrics every minute and set up an OTLP log exporter.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
        requestHook: maskHttpSpan,
      }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ignorePaths: ({ url }) => UNTRACED_PATHS.test(url),
        // Its request span names the path with the query: masked as above.
        requestHook: (span, request) => span.setAttribute('url.path', maskUrl(request.url)),
      }),
      // Without a parent, a query or a command is a poll (subscriptions, queues): not a trace.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({
        requireParentSpan: true,
        // The command only: keys and arguments may name a phone number or an address.
        dbStatementSerializer: (command) => command,
      }),
      new BullMQInstrumentation({ requireParentSpanForPublish: true }),
    ],
  });
  sdk.start();
  setTracingEnabled(true, () => sdk.shutdown());
  return sdk;
}
