import { ROOT_CONTEXT, trace, SpanStatusCode, type Span } from '@opentelemetry/api';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { samplerOf } from './sdk.js';
import { telemetrySettings } from './settings.js';
import { activeTraceIds, setTracingEnabled, streamsAttribute, traced, tracingEnabled } from './tracing.js';

describe('tracing settings (the standard OTEL_* variables)', () => {
  it('is off, at no cost, without an OTLP endpoint', () => {
    expect(telemetrySettings({})).toEqual({ on: false, reason: 'not_configured' });
  });

  it('posts to <endpoint>/v1/traces, or to the traces endpoint when that is set', () => {
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      on: true,
      settings: {
        tracesUrl: 'http://collector:4318/v1/traces',
        serviceName: 'food-delivery-api',
        sampler: 'parentbased_traceidratio',
        ratio: 1,
      },
    });
    const both = telemetrySettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/v1/traces',
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_SERVICE_NAME: 'api-douala',
    });
    expect(both).toEqual({
      on: true,
      settings: {
        tracesUrl: 'http://tempo:4318/v1/traces',
        serviceName: 'api-douala',
        sampler: 'traceidratio',
        ratio: 0.25,
      },
    });
  });

  it('names a bad sampler, ratio or URL and starts nothing', () => {
    expect(
      telemetrySettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        OTEL_TRACES_SAMPLER: 'sometimes',
      }),
    ).toEqual({
      on: false,
      reason: 'invalid',
      variables: ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_TRACES_SAMPLER'],
    });
    expect(
      telemetrySettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_TRACES_SAMPLER_ARG: '2',
      }),
    ).toEqual({ on: false, reason: 'invalid', variables: ['OTEL_TRACES_SAMPLER_ARG'] });
  });
});

describe('traced spans', () => {
  const exporter = new tracing.InMemorySpanExporter();
  // The SDK as the preload starts it (context manager, provider), exporting to memory.
  const processor = new tracing.SimpleSpanProcessor(exporter);
  const sdk = new NodeSDK({
    spanProcessors: [processor],
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  /** The finished spans, once exported (the resource's host id is resolved asynchronously). */
  const finished = async () => {
    await processor.forceFlush();
    return exporter.getFinishedSpans();
  };

  beforeAll(() => sdk.start());
  afterAll(async () => {
    setTracingEnabled(false);
    await sdk.shutdown();
  });
  beforeEach(() => exporter.reset());

  it('off: calls the function directly, with no span and no ids for the logs', async () => {
    setTracingEnabled(false);
    let given: Span | undefined = trace.getActiveSpan();
    expect(traced('decide', { a: 1 }, (span) => ((given = span), 42))).toBe(42);
    expect(given).toBeUndefined();
    await expect(traced('eventstore.append', {}, async () => 'done')).resolves.toBe('done');
    expect(activeTraceIds()).toEqual({});
    expect(await finished()).toEqual([]);
  });

  it('on: nests spans, keeps the attributes, and ends async spans when they settle', async () => {
    setTracingEnabled(true);
    expect(tracingEnabled()).toBe(true);
    let inner: { trace_id?: string; span_id?: string } = {};
    await traced('outer', { 'projection.name': 'orders' }, async () => {
      await traced('decide', { 'decider.command': 'CreateOrder' }, async (span) => {
        span?.setAttribute('decider.events', 1);
        inner = activeTraceIds();
      });
    });
    const [decide, outer] = await finished();
    expect(decide?.name).toBe('decide');
    expect(decide?.attributes).toEqual({ 'decider.command': 'CreateOrder', 'decider.events': 1 });
    expect(decide?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
    expect(inner).toEqual({ trace_id: outer?.spanContext().traceId, span_id: decide?.spanContext().spanId });
  });

  it('on: a root span starts its own trace under an active one', async () => {
    setTracingEnabled(true);
    traced('request', {}, () => traced('projection.batch', {}, () => undefined, { root: true }));
    const [batch, request] = await finished();
    expect(batch?.spanContext().traceId).not.toBe(request?.spanContext().traceId);
    expect(batch?.parentSpanContext).toBeUndefined();
  });

  it('on: an error marks the span with its class or code only (never its message), then passes', async () => {
    setTracingEnabled(true);
    const refusal = Object.assign(new Error('phone +237650000000 refused'), { code: 'coupon_invalid' });
    expect(() =>
      traced('decide', {}, () => {
        throw refusal;
      }),
    ).toThrow(refusal);
    await expect(traced('eventstore.append', {}, () => Promise.reject(new RangeError('x')))).rejects.toThrow(
      RangeError,
    );
    const [sync, async] = await finished();
    expect(sync?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Error' });
    expect(sync?.attributes['error.type']).toBe('coupon_invalid');
    expect(
      JSON.stringify({ attributes: sync?.attributes, status: sync?.status, events: sync?.events }),
    ).not.toContain('+237650000000');
    expect(async?.attributes['error.type']).toBe('RangeError');
  });

  it('on: log lines written in a span carry its trace and span ids', async () => {
    setTracingEnabled(true);
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    });
    logger.info('outside');
    traced('request', {}, () => logger.info({ orderId: 'o-1' }, 'inside'));
    const [span] = await finished();
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({
      orderId: 'o-1',
      trace_id: span?.spanContext().traceId,
      span_id: span?.spanContext().spanId,
    });
  });

  it('lists at most 20 distinct streams of a batch', () => {
    const events = Array.from({ length: 50 }, (_, index) => ({ stream: `order-${index % 30}` }));
    expect(streamsAttribute([{ stream: 'a' }, { stream: 'a' }, { stream: 'b' }])).toEqual(['a', 'b']);
    expect(streamsAttribute(events)).toHaveLength(20);
  });
});

describe('samplers', () => {
  const root = { traceId: '0'.repeat(31) + '1', spanId: '0'.repeat(15) + '1', traceFlags: 1 };
  const sample = (settings: Parameters<typeof samplerOf>[0], traceId: string) =>
    samplerOf(settings).shouldSample(trace.setSpanContext(ROOT_CONTEXT, root), traceId, 'x', 0, {}, [])
      .decision;

  it('keeps the ratio of new traces and follows a sampled caller', () => {
    const none = { sampler: 'traceidratio' as const, ratio: 0 };
    const all = { sampler: 'traceidratio' as const, ratio: 1 };
    expect(samplerOf(none).shouldSample(ROOT_CONTEXT, 'f'.repeat(32), 'x', 0, {}, []).decision).toBe(0);
    expect(samplerOf(all).shouldSample(ROOT_CONTEXT, 'f'.repeat(32), 'x', 0, {}, []).decision).toBe(2);
    // Parent-based with a ratio of 0: a sampled caller's trace is still kept.
    expect(sample({ sampler: 'parentbased_traceidratio', ratio: 0 }, root.traceId)).toBe(2);
    expect(sample({ sampler: 'always_off', ratio: 1 }, root.traceId)).toBe(0);
  });
});
