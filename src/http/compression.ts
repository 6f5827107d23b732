/**
 * Brotli and gzip for clients that accept them (issue #25: prepaid data on 2G; docs/api.md
 * "Compression"). One `onSend` hook over every route: a body already in memory (a string or a
 * Buffer) of a compressible type and at least `minBytes` is compressed with the best coding the
 * client accepts; a stream (files, an SSE or other body that must not be buffered), a tiny body,
 * a 204/304, a body already encoded (the menu's cached gzip) or `Cache-Control: no-transform` is
 * sent as it is. WebSocket frames never pass here (the upgrade is not a reply).
 *
 * @fastify/compress is not installed (no new packages on this machine); node:zlib does the work
 * off the event loop (its thread pool), so a large answer does not stall other requests.
 */
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * Brotli quality 4: about gzip's speed with smaller output on JSON; 11 (the default) costs tens of
 * milliseconds per 100 KB, too much per request.
 */
export const BROTLI_QUALITY = 4;
export const GZIP_LEVEL = 6;

export type Coding = 'br' | 'gzip';

const COMPRESSIBLE =
  /^(application\/(json|problem\+json|javascript|xml|ld\+json|vnd\.oai\.openapi(\+json)?)|text\/[a-z.+-]+|image\/svg\+xml)(;|$)/i;

/**
 * The coding to use for an Accept-Encoding header: the one with the highest q among br and gzip
 * (br on a tie; `*` counts for both), or none. Pure.
 */
export function negotiateCoding(acceptEncoding: string | undefined): Coding | undefined {
  if (acceptEncoding === undefined || acceptEncoding.length === 0 || acceptEncoding.length > 500)
    return undefined;
  const quality: Record<string, number> = {};
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...parameters] = part.trim().toLowerCase().split(';');
    const q = parameters.map((item) => item.trim()).find((item) => item.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    quality[name.trim()] = Number.isFinite(value) ? value : 0;
  }
  const of = (name: Coding) => quality[name] ?? quality['*'] ?? 0;
  const [br, gz] = [of('br'), of('gzip')];
  if (br <= 0 && gz <= 0) return undefined;
  return br >= gz ? 'br' : 'gzip';
}

export async function compress(body: Buffer, coding: Coding): Promise<Buffer> {
  return coding === 'br'
    ? brotli(body, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      })
    : gzipAsync(body, { level: GZIP_LEVEL });
}

function appendVary(current: unknown, name: string): string {
  const text = Array.isArray(current) ? current.join(', ') : typeof current === 'string' ? current : '';
  if (text.trim() === '*') return text;
  const names = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  return names.some((item) => item.toLowerCase() === name.toLowerCase())
    ? names.join(', ')
    : [...names, name].join(', ');
}

export function registerCompression(app: FastifyInstance, options: { minBytes: number }): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    const type = reply.getHeader('content-type');
    if (typeof type !== 'string' || !COMPRESSIBLE.test(type)) return payload;
    // The answer depends on Accept-Encoding whether compressed this time or not (caches).
    reply.header('vary', appendVary(reply.getHeader('vary'), 'Accept-Encoding'));
    const status = reply.statusCode;
    if (request.method === 'HEAD' || status < 200 || status === 204 || status === 304) return payload;
    if (reply.getHeader('content-encoding') !== undefined) return payload;
    const cacheControl = reply.getHeader('cache-control');
    if (typeof cacheControl === 'string' && /no-transform/i.test(cacheControl)) return payload;
    const coding = negotiateCoding(request.headers['accept-encoding']);
    if (coding === undefined) return payload;
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (size < options.minBytes) return payload;
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const compressed = await compress(body, coding);
    if (compressed.length >= body.length) return payload;
    // The bytes differ per coding: a strong validator becomes weak (RFC 9110 §8.8.1); this API
    // compares If-None-Match weakly everywhere.
    const etag = reply.getHeader('etag');
    if (typeof etag === 'string' && etag.startsWith('"')) reply.header('etag', `W/${etag}`);
    reply.header('content-encoding', coding);
    reply.removeHeader('content-length');
    return compressed;
  });
}
