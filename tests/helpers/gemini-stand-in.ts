import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Gemini REST API (`POST /v1beta/models/{model}:generateContent`): it
 * records each request and answers as the current scenario says, in Gemini's response shape.
 * Tests only (support's AI assist and assistant, catalog's description drafts, admin's fraud
 * summaries, all through the real `@google/genai` SDK); production talks to
 * generativelanguage.googleapis.com. Search's embeddings have their own stand-in
 * (gemini-search-stand-in.ts).
 */
export type Scenario =
  | { kind: 'answer'; text: string }
  | { kind: 'error'; status: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'blocked' };

export interface GeminiStandIn {
  url: string;
  requests: { path: string; apiKey: string | undefined; body: Record<string, unknown> }[];
  scenario: Scenario;
  close(): Promise<void>;
}

/** Not recorded: the test process's first fetch (Node loads its HTTP client lazily, ~0.3-0.5 s). */
const WARM_UP_PATH = '/__warm-up';

export async function startGeminiStandIn(): Promise<GeminiStandIn> {
  const standIn: Omit<GeminiStandIn, 'url' | 'close'> = {
    requests: [],
    scenario: { kind: 'answer', text: '{}' },
  };
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    request.on('end', () => {
      if (request.url === WARM_UP_PATH) return void response.writeHead(204).end();
      const match = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(request.url ?? '');
      const header = request.headers['x-goog-api-key'];
      standIn.requests.push({
        path: request.url ?? '',
        apiKey: typeof header === 'string' ? header : undefined,
        body: JSON.parse(raw || '{}') as Record<string, unknown>,
      });
      const json = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.method !== 'POST' || match === null)
        return json(404, { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } });
      if (header === undefined)
        return json(403, { error: { code: 403, message: 'API key missing', status: 'PERMISSION_DENIED' } });
      const scenario = standIn.scenario;
      switch (scenario.kind) {
        case 'answer':
          return json(200, {
            candidates: [
              { content: { role: 'model', parts: [{ text: scenario.text }] }, finishReason: 'STOP' },
            ],
            usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 20, totalTokenCount: 120 },
            modelVersion: match[1],
          });
        case 'error':
          return json(scenario.status, {
            error: { code: scenario.status, message: 'stand-in error', status: 'UNAVAILABLE' },
          });
        case 'slow':
          setTimeout(() => json(200, { candidates: [] }), scenario.delayMs).unref();
          return;
        case 'blocked':
          return json(200, { promptFeedback: { blockReason: 'SAFETY' } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // Tests give the SDK short timeouts (300 ms): its first call must not pay for Node's fetch start.
  await (await fetch(`http://127.0.0.1:${port}${WARM_UP_PATH}`)).arrayBuffer();
  return Object.assign(standIn, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as GeminiStandIn;
}
