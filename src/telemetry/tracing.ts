/**
 * Our own spans (docs/operations.md, "Tracing"), over @opentelemetry/api only: the SDK is started
 * by the preload (src/telemetry/register.ts) when an OTLP endpoint is configured, and not loaded
 * at all otherwise. Infrastructure and contexts may import this module; it knows nothing of them.
 *
 * Zero cost when off: until the preload says tracing is on, `traced` is a flag check and a direct
 * call of `fn` (no span object, no context switch), and loggers get no mixin.
 */
import { context, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

/** The tracer's name in every exported span (instrumentation scope). */
export const TRACER_NAME = 'food-delivery';

/**
 * Set by the preload once the SDK is started. Kept on globalThis (not a module variable) so that
 * two copies of this module (the preload's and the app's, e.g. under a loader that resolves them
 * differently) agree.
 */
const ENABLED = Symbol.for('food-delivery.tracing.enabled');
const SHUTDOWN = Symbol.for('food-delivery.tracing.shutdown');
type Flagged = typeof globalThis & { [ENABLED]?: boolean; [SHUTDOWN]?: () => Promise<void> };

/** Called by the preload once the SDK runs, with what flushes and stops it. */
export function setTracingEnabled(enabled: boolean, shutdown?: () => Promise<void>): void {
  (globalThis as Flagged)[ENABLED] = enabled;
  (globalThis as Flagged)[SHUTDOWN] = shutdown;
}

/** Exports the spans still buffered and stops tracing (the server calls it last on shutdown). */
export async function shutdownTracing(): Promise<void> {
  const shutdown = (globalThis as Flagged)[SHUTDOWN];
  if (shutdown === undefined) return;
  setTracingEnabled(false);
  await shutdown();
}

export function tracingEnabled(): boolean {
  return (globalThis as Flagged)[ENABLED] === true;
}

export interface TracedOptions {
  /**
   * Start a new trace instead of joining the active one: for work that serves many requests at
   * once (a projection batch), so that it does not hang under whichever request happened to wake it.
   */
  root?: boolean;
}

/**
 * Runs `fn` in a span named `name` (ended when `fn` settles; an exception is recorded and marks
 * the span as an error, then rethrown unchanged). Attribute values must never be personal data:
 * ids, counts, names of streams, commands and events only.
 */
export function traced<T>(
  name: string,
  attributes: Attributes,
  fn: (span?: Span) => T,
  options: TracedOptions = {},
): T {
  if (!tracingEnabled()) return fn();
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(name, { attributes, root: options.root === true }, (span) => {
    let result: T;
    try {
      result = fn(span);
    } catch (error) {
      endWithError(span, error);
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (value: unknown) => {
          span.end();
          return value;
        },
        (error: unknown) => {
          endWithError(span, error);
          throw error;
        },
      ) as T;
    }
    span.end();
    return result;
  });
}

function endWithError(span: Span, error: unknown): void {
  // The class and a stable code only: a message may carry input (and so personal data).
  const name = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown } | null)?.code;
  span.setAttribute('error.type', typeof code === 'string' ? code : name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: name });
  span.end();
}

/**
 * `trace_id` and `span_id` of the active span, for log lines (pino's mixin); {} when none. A new
 * object each time: pino merges the line's own fields into it.
 */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (span === undefined) return {};
  const spanContext = span.spanContext();
  if (!trace.isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/** A bounded, de-duplicated list of stream names for a batch span's attribute. */
export function streamsAttribute(events: Iterable<{ stream: string }>, limit = 20): string[] {
  const distinct = new Set<string>();
  for (const { stream } of events) {
    distinct.add(stream);
    if (distinct.size >= limit) break;
  }
  return [...distinct];
}
