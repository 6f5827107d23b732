import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderUnavailable } from './errors.js';
import { MAX_RESPONSE_BYTES, callProvider, field, parseAmountMinor, sendHttp } from './http.js';
import { createTokenCache } from './token-cache.js';

describe('provider amounts', () => {
  it.each([
    ['100', 100n],
    ['100.00', 100n],
    [' 25 ', 25n],
    ['0', 0n],
  ])('reads %j as %s francs', (input, expected) => {
    expect(parseAmountMinor(input)).toBe(expected);
  });

  it.each(['100.5', '1e3', 'abc', '', '10.01'])('refuses %j', (input) => {
    expect(parseAmountMinor(input)).toBeUndefined();
  });

  it('reads numbers and strings out of untyped JSON, nothing else', () => {
    expect(field({ amount: 100 }, 'amount')).toBe('100');
    expect(field({ amount: '100' }, 'amount')).toBe('100');
    expect(field({ amount: null }, 'amount')).toBeUndefined();
    expect(field('text', 'amount')).toBeUndefined();
  });
});

/** A real local node:http server whose answer each test decides; it records requests and sockets. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  socket: Socket;
}

let server: Server;
let baseUrl: string;
let handle: (request: IncomingMessage, response: ServerResponse, body: string) => void;
let seen: Seen[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
        socket: request.socket,
      });
      handle(request, response, body);
    });
  });
  server.on('connection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  seen = [];
  handle = (_request, response) => response.writeHead(200).end();
});

afterEach(async () => {
  // Every test starts on fresh connections (and a hanging answer never outlives its test); the
  // pause lets the client see the connections close before it picks a pooled socket again.
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise((resolve) => setTimeout(resolve, 20));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** One GET of the local server's root, without retries. */
function getRoot(timeoutMs: number) {
  return callProvider('campay', { method: 'GET', url: `${baseUrl}/`, timeoutMs, retries: 0 });
}

async function failure(promise: Promise<unknown>): Promise<ProviderUnavailable> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderUnavailable);
  return error as ProviderUnavailable;
}

describe('callProvider over node:http', () => {
  it('sends JSON with its headers and reads a JSON answer', async () => {
    handle = (_request, response, body) =>
      response
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ echo: JSON.parse(body) as unknown, é: 'ü' }));
    const answer = await callProvider('campay', {
      method: 'POST',
      url: `${baseUrl}/collect/?x=1`,
      headers: { authorization: 'Token t' },
      json: { amount: '100', note: 'café' },
      timeoutMs: 1_000,
      retries: 0,
    });
    expect(answer).toEqual({
      status: 201,
      text: JSON.stringify({ echo: { amount: '100', note: 'café' }, é: 'ü' }),
      body: { echo: { amount: '100', note: 'café' }, é: 'ü' },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/collect/?x=1',
      body: JSON.stringify({ amount: '100', note: 'café' }),
    });
    expect(seen[0]!.headers).toMatchObject({
      accept: 'application/json',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(JSON.stringify({ amount: '100', note: 'café' }))),
      authorization: 'Token t',
      connection: 'keep-alive',
    });
  });

  it('sends a POST without a body with content-length 0 and reads a non-JSON answer as text', async () => {
    handle = (_request, response) =>
      response.writeHead(200, { 'content-type': 'text/plain' }).end('not json');
    const answer = await callProvider('mtn_momo', {
      method: 'POST',
      url: `${baseUrl}/token/`,
      timeoutMs: 1_000,
      retries: 0,
    });
    expect(answer).toEqual({ status: 200, text: 'not json', body: undefined });
    expect(seen[0]!.headers['content-length']).toBe('0');
    expect(seen[0]!.headers['content-type']).toBeUndefined();
  });

  it('hands 4xx answers back for the adapter to read', async () => {
    handle = (_request, response) =>
      response
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error_code: 'ER101' }));
    const answer = await callProvider('campay', {
      method: 'POST',
      url: `${baseUrl}/`,
      timeoutMs: 1_000,
      retries: 0,
    });
    expect(answer).toMatchObject({ status: 400, body: { error_code: 'ER101' } });
  });

  it('times out on a server that never answers, within the timeout and some slack', async () => {
    handle = () => undefined;
    const started = performance.now();
    const error = await failure(getRoot(200));
    const elapsed = performance.now() - started;
    expect(error.code).toBe('TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(200 + 1_500);
  });

  it('times out on an answer that keeps trickling past the timeout', async () => {
    const timers = new Set<NodeJS.Timeout>();
    handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('[');
      // A byte every 50 ms: never silent long enough for an idle timeout, never finished.
      const timer = setInterval(() => response.write(' '), 50);
      timers.add(timer);
      response.on('close', () => clearInterval(timer));
    };
    try {
      const started = performance.now();
      const error = await failure(getRoot(300));
      const elapsed = performance.now() - started;
      expect(error.code).toBe('TIMEOUT');
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(300 + 1_500);
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
  });

  it('refuses an oversized answer, declared or streamed', async () => {
    handle = (_request, response) =>
      response.writeHead(200, { 'content-length': String(MAX_RESPONSE_BYTES + 1) }).end();
    expect((await failure(getRoot(2_000))).code).toBe('BAD_RESPONSE');

    const chunk = Buffer.alloc(256 * 1024, 'a');
    handle = (_request, response) => {
      response.writeHead(200); // chunked: no content-length to go by
      const pump = (): void => {
        if (response.destroyed) return;
        while (response.write(chunk)) if (response.writableLength > MAX_RESPONSE_BYTES * 2) return;
        response.once('drain', pump);
      };
      pump();
    };
    expect((await failure(getRoot(5_000))).code).toBe('BAD_RESPONSE');
  });

  it('reads an answer of exactly the limit', async () => {
    handle = (_request, response) => response.writeHead(200).end(Buffer.alloc(MAX_RESPONSE_BYTES, 'b'));
    const answer = await callProvider('campay', {
      method: 'GET',
      url: `${baseUrl}/`,
      timeoutMs: 5_000,
      retries: 0,
    });
    expect(answer.text.length).toBe(MAX_RESPONSE_BYTES);
  });

  it('reports a 503 as HTTP_503, and a retried read succeeds on the second attempt', async () => {
    handle = (_request, response) => response.writeHead(503).end('oops');
    expect(
      (
        await failure(
          callProvider('campay', { method: 'POST', url: `${baseUrl}/`, timeoutMs: 1_000, retries: 0 }),
        )
      ).code,
    ).toBe('HTTP_503');
    expect(seen).toHaveLength(1);

    seen = [];
    let calls = 0;
    handle = (_request, response) => {
      calls += 1;
      if (calls === 1) response.writeHead(503).end('busy');
      else response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    };
    const answer = await callProvider('campay', {
      method: 'GET',
      url: `${baseUrl}/balance/`,
      timeoutMs: 1_000,
      retries: 2,
    });
    expect(answer).toMatchObject({ status: 200, body: { ok: true } });
    expect(seen).toHaveLength(2);
  });

  it('retries an idempotent read on 5xx and 429 at most twice, then reports the outage', async () => {
    handle = (_request, response) => response.writeHead(429).end();
    const error = await failure(
      callProvider('campay', { method: 'GET', url: `${baseUrl}/`, timeoutMs: 1_000, retries: 5 }),
    );
    expect(error.code).toBe('HTTP_429');
    expect(seen).toHaveLength(3);
  });

  it.each([301, 302, 303, 307, 308])(
    'never follows a %i: a network error, as fetch with redirect: error',
    async (status) => {
      handle = (request, response) =>
        request.url === '/elsewhere'
          ? response.writeHead(200).end('{}')
          : response.writeHead(status, { location: '/elsewhere' }).end();
      const error = await failure(getRoot(1_000));
      expect(error.code).toBe('NETWORK');
      expect(seen.map((request) => request.url)).toEqual(['/']);
    },
  );

  it('hands back a 300 or 304 as a status like fetch did', async () => {
    handle = (_request, response) => response.writeHead(300, { location: '/elsewhere' }).end('{"choices":2}');
    expect(await getRoot(1_000)).toMatchObject({
      status: 300,
      body: { choices: 2 },
    });
  });

  it('classifies a refused connection as CONNECT_FAILED (nothing sent: unprocessed), and never retries a call without retries', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(
      callProvider('mtn_momo', {
        method: 'POST',
        url: `http://127.0.0.1:${port}/`,
        timeoutMs: 1_000,
        retries: 0,
      }),
    );
    expect(error.code).toBe('CONNECT_FAILED');
    expect(error.unprocessed).toBe(true);
  });

  it('classifies an unknown host as CONNECT_FAILED', async () => {
    const error = await failure(
      callProvider('campay', {
        method: 'POST',
        url: 'http://no-such-host.invalid/',
        timeoutMs: 5_000,
        retries: 0,
      }),
    );
    expect(error.code).toBe('CONNECT_FAILED');
    expect(error.unprocessed).toBe(true);
  });

  it('a connection reset after the request was sent is NETWORK and may have been processed', async () => {
    // The server has read the whole request (handle runs after its end), then drops the line.
    handle = (request) => request.socket.destroy();
    const error = await failure(
      callProvider('campay', { method: 'POST', url: `${baseUrl}/`, json: {}, timeoutMs: 1_000, retries: 0 }),
    );
    expect(error.code).toBe('NETWORK');
    expect(error.unprocessed).toBe(false);
  });

  it.each([
    [429, true],
    [503, true],
    [500, false],
    [502, false],
    [504, false],
  ])('an answer %i is unprocessed: %s', async (status, unprocessed) => {
    handle = (_request, response) => response.writeHead(status).end();
    const error = await failure(
      callProvider('campay', { method: 'POST', url: `${baseUrl}/`, json: {}, timeoutMs: 1_000, retries: 0 }),
    );
    expect(error).toMatchObject({ code: `HTTP_${status}`, unprocessed });
  });

  it('classifies a connection dropped mid-answer as NETWORK', async () => {
    handle = (request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('{"partial":');
      setTimeout(() => request.socket.destroy(), 20);
    };
    expect(await failure(getRoot(1_000))).toMatchObject({ code: 'NETWORK', unprocessed: false });
  });

  it('decodes an answer the server compressed without being asked', async () => {
    handle = (_request, response) =>
      response
        .writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' })
        .end(gzipSync('{"zipped":true}'));
    expect(await getRoot(1_000)).toMatchObject({
      body: { zipped: true },
    });
    expect(seen[0]!.headers['accept-encoding']).toBeUndefined();
  });

  it('reuses one kept-alive socket for sequential calls', async () => {
    handle = (_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"n":1}');
    for (let index = 0; index < 5; index += 1) {
      await callProvider('campay', {
        method: index % 2 === 0 ? 'GET' : 'POST',
        url: `${baseUrl}/${index}`,
        json: index % 2 === 0 ? undefined : { index },
        timeoutMs: 1_000,
        retries: 0,
      });
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen.map((request) => request.socket)).size).toBe(1);
  });

  it('does not reuse the socket of a call that timed out', async () => {
    let calls = 0;
    handle = (_request, response) => {
      calls += 1;
      if (calls > 1) response.writeHead(200).end('{}');
    };
    await failure(getRoot(100));
    await getRoot(1_000);
    expect(seen).toHaveLength(2);
    expect(seen[0]!.socket).not.toBe(seen[1]!.socket);
    expect(seen[0]!.socket.destroyed).toBe(true);
  });
});

describe('sendHttp', () => {
  it('hands a redirect back when asked to, without following it', async () => {
    handle = (_request, response) => response.writeHead(302, { location: '/elsewhere' }).end();
    expect(
      await sendHttp({
        method: 'POST',
        url: `${baseUrl}/hook`,
        body: '{}',
        timeoutMs: 1_000,
        redirect: 'return',
      }),
    ).toEqual({
      status: 302,
      text: '',
    });
    expect(seen.map((request) => request.url)).toEqual(['/hook']);
  });

  it('rejects the way fetch did: TimeoutError, RangeError, TypeError', async () => {
    handle = () => undefined;
    await expect(sendHttp({ method: 'GET', url: `${baseUrl}/`, timeoutMs: 50 })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    await expect(sendHttp({ method: 'GET', url: 'not a url', timeoutMs: 50 })).rejects.toBeInstanceOf(
      TypeError,
    );
    await expect(sendHttp({ method: 'GET', url: 'ftp://127.0.0.1/', timeoutMs: 50 })).rejects.toBeInstanceOf(
      TypeError,
    );
  });
});

describe('token cache', () => {
  it('shares one request among concurrent callers and refreshes a tenth of the lifetime before expiry', async () => {
    let nowMs = 0;
    let issued = 0;
    const cache = createTokenCache(
      async () => ({ token: `t${(issued += 1)}`, expiresInSeconds: 100 }),
      () => nowMs,
    );
    expect(await Promise.all([cache.get(), cache.get()])).toEqual(['t1', 't1']);
    nowMs = 89_999;
    expect(await cache.get()).toBe('t1');
    nowMs = 90_000;
    expect(await cache.get()).toBe('t2');
    cache.invalidate('t1'); // stale invalidation: ignored
    expect(await cache.get()).toBe('t2');
    cache.invalidate('t2');
    expect(await cache.get()).toBe('t3');
  });

  it('a failed token request is not cached', async () => {
    let attempts = 0;
    const cache = createTokenCache(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('down');
      return { token: 'ok', expiresInSeconds: 60 };
    });
    await expect(cache.get()).rejects.toThrow('down');
    expect(await cache.get()).toBe('ok');
  });
});
