import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request body larger than this is refused: the simulators only take small JSON. */
const MAX_BODY_BYTES = 64 * 1024;

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Parsed JSON, or undefined when empty; a malformed body is answered 400 before the handler. */
  body: unknown;
  /** The body as sent (a form-encoded OAuth2 token request is not JSON). */
  rawText?: string;
}

export interface SimResponse {
  status: number;
  json?: unknown;
  text?: string;
  contentType?: string;
  /** Hold the answer this long first (a slow provider); cancelled when the server closes. */
  delayMs?: number;
}

export type SimHandler = (request: SimRequest) => Promise<SimResponse> | SimResponse;

export interface SimServer {
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY_BYTES) throw new RangeError('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function write(response: ServerResponse, answer: SimResponse): void {
  if (answer.json !== undefined) {
    const payload = JSON.stringify(answer.json, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(payload);
  } else {
    response
      .writeHead(answer.status, { 'content-type': answer.contentType ?? 'text/plain' })
      .end(answer.text ?? '');
  }
}

/** A plain node:http server around one handler: the simulators need nothing more. */
export function createSimServer(handler: SimHandler): SimServer {
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://simulator');
      let body: unknown;
      let text = '';
      try {
        text = await readBody(request);
        const form = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
        body = text.length === 0 || form ? undefined : (JSON.parse(text) as unknown);
      } catch {
        write(response, { status: 400, json: { message: 'malformed body' } });
        return;
      }
      const answer = await Promise.resolve()
        .then(() =>
          handler({
            method: request.method ?? 'GET',
            path: url.pathname,
            query: url.searchParams,
            headers: request.headers,
            body,
            rawText: text,
          }),
        )
        .catch((): SimResponse => ({ status: 500, text: 'simulator error' }));
      if (answer.delayMs === undefined) return write(response, answer);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!response.destroyed) write(response, answer);
      }, answer.delayMs);
      timers.add(timer);
    })();
  });
  server.keepAliveTimeout = 5_000;
  return {
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          resolve(`http://${host}:${address.port}`);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export { createBoundedMap } from '../bounded-map.js';
