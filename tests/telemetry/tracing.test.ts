/**
 * Tracing end to end (docs/operations.md, "Tracing"): the app in its own process with the preload
 * (src/telemetry/register.ts) and OTEL_EXPORTER_OTLP_ENDPOINT pointing at a tiny OTLP/HTTP
 * receiver in this test, which collects what the real exporter sends (JSON). One order placement
 * must come back as one trace holding the HTTP server span, Fastify's route span, PostgreSQL
 * queries, the decider and the event-store append; the projection batch that read the order's
 * stream is its own trace naming that stream; log lines carry the trace id.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEAR } from '../integration/orders/helpers.js';
import { freePort } from '../integration/payments/helpers.js';
import { faultWorld, type FaultWorld } from '../faults/harness/world.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REGISTER = path.join(ROOT, 'src/telemetry/register.ts');

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
  links?: { traceId: string; spanId: string }[];
}
interface CollectedSpan extends OtlpSpan {
  scope: string;
  service: string;
}

function attribute(span: OtlpSpan, key: string): unknown {
  const value = span.attributes?.find((entry) => entry.key === key)?.value;
  if (value === undefined) return undefined;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map((item) => item.stringValue);
  return value.stringValue ?? value.intValue ?? value.boolValue;
}

/** An OTLP/HTTP receiver: every span the exporter posts to /v1/traces (JSON), and every path asked. */
async function otlpReceiver(): Promise<{
  url: string;
  spans: CollectedSpan[];
  paths: string[];
  server: Server;
}> {
  const spans: CollectedSpan[] = [];
  const paths: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      paths.push(`${request.method} ${request.url} ${request.headers['content-type']}`);
      if (request.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans?: {
            resource?: { attributes?: { key: string; value: OtlpValue }[] };
            scopeSpans?: { scope?: { name: string }; spans?: OtlpSpan[] }[];
          }[];
        };
        for (const resourceSpans of body.resourceSpans ?? []) {
          const service = String(
            resourceSpans.resource?.attributes?.find((entry) => entry.key === 'service.name')?.value
              .stringValue,
          );
          for (const scopeSpans of resourceSpans.scopeSpans ?? [])
            for (const span of scopeSpans.spans ?? [])
              spans.push({ ...span, scope: scopeSpans.scope?.name ?? '', service });
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, spans, paths, server };
}

async function until<T>(what: string, find: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('tracing: an order placed through the app in its own process, exported by OTLP', () => {
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  let world: FaultWorld;

  beforeAll(async () => {
    receiver = await otlpReceiver();
    world = await faultWorld({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'food-delivery-test',
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
        // The batch processor's delay: spans reach the receiver within the test's patience.
        OTEL_BSP_SCHEDULE_DELAY: '100',
        LOG_LEVEL: 'info',
      },
      nodeArguments: ['--import', REGISTER],
    });
    await world.app.start();
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    await new Promise((resolve) => receiver?.server.close(resolve));
  });

  it(
    'gives one trace per placement (HTTP, Fastify, pg, Redis, decide, append, ledger) and a projection batch trace naming the order',
    { timeout: 60_000 },
    async () => {
      const customer = world.customers[0]!;
      const answer = await fetch(`${world.app.baseUrl}/v1/orders?access_token=secret-in-a-query`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${customer.accessToken}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify({
          restaurantId: world.restaurantId,
          items: [{ itemId: world.ndoleId, quantity: 1 }],
          delivery: NEAR,
          payment: { kind: 'wallet' },
        }),
      });
      const order = (await answer.json()) as { id: string };
      expect(answer.status, JSON.stringify(order)).toBe(201);
      const stream = `order-${order.id}`;

      const decided = await until('the decide span of the placement', () =>
        receiver.spans.find(
          (span) =>
            span.name === 'decide' &&
            attribute(span, 'eventstore.stream') === stream &&
            attribute(span, 'decider.command') === 'CreateOrder',
        ),
      );
      const trace = () => receiver.spans.filter((span) => span.traceId === decided.traceId);
      const append = await until('the append of the order', () =>
        trace().find(
          (span) => span.name === 'eventstore.append' && attribute(span, 'eventstore.stream') === stream,
        ),
      );
      expect(attribute(append, 'eventstore.event_type')).toBe('OrderCreated');
      const server = await until('the HTTP server span', () =>
        trace().find((span) => span.scope === '@opentelemetry/instrumentation-http' && span.kind === 2),
      );
      expect(server.parentSpanId ?? '').toBe('');
      expect(attribute(server, 'url.path')).toBe('/v1/orders');
      expect(attribute(server, 'url.query')).toBe('access_token=%5Bredacted%5D');
      expect(JSON.stringify(trace())).not.toContain('secret-in-a-query');
      await until('a Fastify span', () => trace().find((span) => span.scope === '@fastify/otel'));
      await until('a PostgreSQL span', () =>
        trace().find((span) => span.scope === '@opentelemetry/instrumentation-pg'),
      );
      // The wallet paid through the ledger: the submission is in the request's trace.
      await until('the ledger submission', () => trace().find((span) => span.name === 'ledger.submit'));
      // The writer's batches are traces of their own, each with its append of the ledger stream.
      const ledgerBatch = await until('a ledger batch', () =>
        receiver.spans.find((span) => span.name === 'ledger.batch'),
      );
      expect(ledgerBatch.parentSpanId ?? '').toBe('');
      await until('the ledger batch append', () =>
        receiver.spans.find(
          (span) =>
            span.name === 'eventstore.append' &&
            span.parentSpanId === ledgerBatch.spanId &&
            attribute(span, 'eventstore.stream') === 'ledger-main',
        ),
      );
      // Redis commands of the request (the access hook's revocation check), by command name only.
      await until('a Redis span', () =>
        trace().find((span) => span.scope === '@opentelemetry/instrumentation-ioredis'),
      );
      expect(trace().every((span) => span.service === 'food-delivery-test')).toBe(true);

      // Read models follow in traces of their own, one per batch, naming the streams they read.
      const batch = await until('a projection batch that read the order', () =>
        receiver.spans.find(
          (span) =>
            span.name === 'projection.batch' &&
            ((attribute(span, 'eventstore.streams') as string[] | undefined) ?? []).includes(stream),
        ),
      );
      expect(batch.traceId).not.toBe(decided.traceId);
      expect(batch.parentSpanId ?? '').toBe('');
      expect(
        receiver.spans.some(
          (span) => span.traceId === batch.traceId && span.scope === '@opentelemetry/instrumentation-pg',
        ),
      ).toBe(true);

      // Log lines written during the request name its trace.
      expect(world.app.output().some((line) => line.includes(`"trace_id":"${decided.traceId}"`))).toBe(true);
      // Health probes are no trace.
      await fetch(`${world.app.baseUrl}/health/ready`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.spans.some((span) => String(attribute(span, 'url.path')).startsWith('/health'))).toBe(
        false,
      );
      expect(receiver.paths.every((line) => line.startsWith('POST /v1/traces application/json'))).toBe(true);
    },
  );

  it(
    "follows a top-up into BullMQ: the request publishes the status poll, the worker's run links back to it",
    { timeout: 60_000 },
    async () => {
      const customer = world.customers[1] ?? world.customers[0]!;
      const answer = await fetch(`${world.app.baseUrl}/v1/wallet/topups`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${customer.accessToken}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify({ amountMinor: 2_000, phone: customer.momoPhone }),
      });
      expect(answer.status, await answer.clone().text()).toBeLessThan(300);
      const server = await until('the top-up request span', () =>
        receiver.spans.find(
          (span) =>
            span.scope === '@opentelemetry/instrumentation-http' &&
            span.kind === 2 &&
            attribute(span, 'url.path') === '/v1/wallet/topups',
        ),
      );
      const bullmq = (kind: number) =>
        receiver.spans.find(
          (span) =>
            span.traceId === server.traceId &&
            span.scope === '@appsignal/opentelemetry-instrumentation-bullmq' &&
            span.kind === kind,
        );
      // PRODUCER (4): the enqueue of the poll inside the request; CONSUMER (5): the worker's run.
      const published = await until('the BullMQ publish span of the poll', () => bullmq(4));
      expect(published.name).toMatch(/payments/);
      // The worker's run is a trace of its own (a job may run long after the request), linked to
      // the publishing span of the request's trace.
      const consumed = await until(
        'the BullMQ worker span of the poll',
        () =>
          receiver.spans.find(
            (span) =>
              span.scope === '@appsignal/opentelemetry-instrumentation-bullmq' &&
              span.kind === 5 &&
              (span.links ?? []).some((link) => link.traceId === server.traceId),
          ),
        30_000,
      );
      expect(consumed.name).toBe('Worker.run payments-poll');
    },
  );
});
