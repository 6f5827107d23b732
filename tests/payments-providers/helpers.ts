import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  PaymentProvider,
  ProviderStatus,
  TransactionKind,
  TransactionStatus,
  WebhookRequest,
} from '../../src/modules/payments/providers/index.js';

/** What our webhook endpoint would receive: recorded as the framework would hand it over. */
export interface ReceivedWebhook {
  provider: string;
  request: WebhookRequest;
}

/** A stand-in for `POST /v1/webhooks/{provider}` that records every delivery and answers 200. */
export async function startWebhookSink() {
  const received: ReceivedWebhook[] = [];
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const url = new URL(incoming.url ?? '/', 'http://sink');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const provider = url.pathname.split('/').at(-1) ?? '';
      received.push({
        provider,
        request: {
          method: incoming.method ?? 'POST',
          query: Object.fromEntries(url.searchParams),
          headers: incoming.headers as IncomingHttpHeaders,
          body: rawBody.length > 0 ? (JSON.parse(rawBody) as unknown) : undefined,
          rawBody,
        },
      });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    webhookBaseUrl: `${baseUrl}/v1/webhooks`,
    received,
    /** Deliveries about one transaction (CamPay puts the reference in the fields, MTN in the URL). */
    about(reference: string): ReceivedWebhook[] {
      return received.filter(({ request }) => {
        const fields = (request.method === 'GET' ? request.query : request.body) as
          Record<string, unknown> | undefined;
        return fields?.reference === reference || request.query.ref === reference;
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Polls a provider's status until it is `expected` (the way the payments job will). */
export async function waitForStatus(
  provider: Pick<PaymentProvider, 'status'>,
  reference: string,
  expected: ProviderStatus,
  kind: TransactionKind = 'collection',
  timeoutMs = 5_000,
): Promise<TransactionStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await provider.status(reference, kind);
    if (status.status === expected) return status;
    if (Date.now() > deadline) throw new Error(`${reference} stayed ${status.status}, expected ${expected}`);
    await sleep(20);
  }
}

export async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

export async function postJson<T = Record<string, unknown>>(
  url: string,
  body: unknown = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text.length > 0 ? JSON.parse(text) : undefined) as T };
}

export async function getJson<T = Record<string, unknown>>(
  url: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}
