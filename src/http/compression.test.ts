/**
 * The compression hook on a bare Fastify (no database): what is compressed, with which coding,
 * and what is left alone (streams, tiny bodies, 304, already encoded, no-transform, WebSocket).
 */
import { Readable } from 'node:stream';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { negotiateCoding, registerCompression } from './compression.js';
import { registerConditionalGet } from './conditional-get.js';

const big = {
  items: Array.from({ length: 200 }, (_, index) => ({
    id: index,
    name: `Ndolé aux crevettes ${index}`,
    priceMinor: 2_500,
  })),
};
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  await app.register(websocket);
  registerCompression(app, { minBytes: 1_024 });
  app.get('/big', async (_request, reply) => reply.header('etag', '"v1"').send(big));
  app.get('/small', async () => ({ ok: true }));
  app.get('/stream', async (_request, reply) =>
    reply.type('application/json').send(Readable.from([JSON.stringify(big)])),
  );
  app.get('/encoded', async (_request, reply) =>
    reply.type('application/json').header('content-encoding', 'gzip').send(Buffer.from('already')),
  );
  app.get('/no-transform', async (_request, reply) =>
    reply.header('cache-control', 'no-transform').send(big),
  );
  app.get('/not-modified', async (_request, reply) => reply.code(304).send());
  app.get('/binary', async (_request, reply) => reply.type('image/png').send(Buffer.alloc(4_096, 7)));
  app.get('/ws', { websocket: true }, (socket) => {
    socket.on('message', (message: Buffer) =>
      socket.send(JSON.stringify({ echo: message.toString(), ...big })),
    );
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => app?.close());

const get = (url: string, acceptEncoding?: string) =>
  app.inject({
    method: 'GET',
    url,
    headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding },
  });

describe('negotiation', () => {
  it('takes the accepted coding with the highest q, brotli on a tie, none when neither is acceptable', () => {
    expect(negotiateCoding('gzip, deflate, br')).toBe('br');
    expect(negotiateCoding('br;q=0.5, gzip')).toBe('gzip');
    expect(negotiateCoding('gzip')).toBe('gzip');
    expect(negotiateCoding('*')).toBe('br');
    expect(negotiateCoding('br;q=0, gzip;q=0')).toBeUndefined();
    expect(negotiateCoding('identity')).toBeUndefined();
    expect(negotiateCoding('')).toBeUndefined();
    expect(negotiateCoding(undefined)).toBeUndefined();
    expect(negotiateCoding('br;q=abc')).toBe(undefined);
  });
});

describe('the hook', () => {
  it('compresses a large JSON answer with brotli or gzip, weakens its ETag and varies on Accept-Encoding', async () => {
    const plain = await get('/big');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.etag).toBe('"v1"');
    expect(plain.headers.vary).toMatch(/Accept-Encoding/);
    const br = await get('/big', 'gzip, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.etag).toBe('W/"v1"');
    expect(br.headers.vary).toMatch(/Accept-Encoding/);
    expect(br.rawPayload.length).toBeLessThan(plain.rawPayload.length / 4);
    expect(JSON.parse(brotliDecompressSync(br.rawPayload).toString())).toEqual(big);
    const gz = await get('/big', 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.rawPayload).toString())).toEqual(big);
  });

  it('leaves tiny bodies, streams, encoded bodies, no-transform, 304 and binary types alone', async () => {
    for (const url of ['/small', '/stream', '/no-transform', '/not-modified', '/binary']) {
      const response = await get(url, 'br, gzip');
      expect(response.headers['content-encoding'], url).toBeUndefined();
    }
    const stream = await get('/stream', 'br');
    expect(JSON.parse(stream.body)).toEqual(big);
    const encoded = await get('/encoded', 'br');
    expect(encoded.headers['content-encoding']).toBe('gzip');
    expect(encoded.body).toBe('already');
  });

  it('does not touch WebSocket frames, whatever the client accepts', async () => {
    const address = app.server.address() as { port: number };
    const socket = new WebSocket(`ws://127.0.0.1:${address.port}/ws`, {
      headers: { 'accept-encoding': 'br, gzip' },
      perMessageDeflate: false,
    });
    const answer = await new Promise<string>((resolve, reject) => {
      socket.on('open', () => socket.send('bonjour'));
      socket.on('message', (data: Buffer) => resolve(data.toString()));
      socket.on('error', reject);
    });
    socket.close();
    expect(JSON.parse(answer)).toEqual({ echo: 'bonjour', ...big });
  });
});

describe('ETag and 304 on every read', () => {
  let tagged: FastifyInstance;
  beforeAll(async () => {
    tagged = Fastify();
    registerConditionalGet(tagged);
    registerCompression(tagged, { minBytes: 1_024 });
    tagged.get('/list', async () => big);
    tagged.get('/versioned', async (_request, reply) => reply.header('etag', '"v7"').send(big));
    tagged.post('/write', async () => big);
  });
  afterAll(async () => tagged?.close());

  it('tags a read without its own ETag and answers 304 to it, compressed or not', async () => {
    const first = await tagged.inject({ method: 'GET', url: '/list' });
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^W\/"b/);
    const again = await tagged.inject({ method: 'GET', url: '/list', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
    const compressed = await tagged.inject({
      method: 'GET',
      url: '/list',
      headers: { 'accept-encoding': 'br' },
    });
    expect(compressed.headers.etag).toBe(etag);
    const notModified = await tagged.inject({
      method: 'GET',
      url: '/list',
      headers: { 'accept-encoding': 'br', 'if-none-match': etag },
    });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.headers['content-encoding']).toBeUndefined();
    const other = await tagged.inject({
      method: 'GET',
      url: '/list',
      headers: { 'if-none-match': 'W/"other"' },
    });
    expect(other.statusCode).toBe(200);
  });

  it('leaves a route’s own ETag and writes alone', async () => {
    expect((await tagged.inject({ method: 'GET', url: '/versioned' })).headers.etag).toBe('"v7"');
    expect((await tagged.inject({ method: 'POST', url: '/write' })).headers.etag).toBeUndefined();
  });
});
