/**
 * ETag and 304 on every read (issue #25: "ETag/304 on every cacheable read"; docs/api.md
 * "Compression"). Routes that know their version (an order's revision, a menu's render, the
 * deltas) set their own ETag; for every other successful GET of JSON or HTML held in memory, this
 * hook tags the body with a weak ETag (a hash of the bytes) and answers 304 with no body when
 * `If-None-Match` names it. The server still builds the answer; the phone does not download it
 * again. Registered before compression, so the tag is of the uncompressed bytes.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

const TAGGED = /^(application\/json|text\/html)(;|$)/i;
/** Bodies above this are not hashed (none of our reads is near it; a bound on the work). */
const MAX_TAGGED_BYTES = 4 * 1024 * 1024;

export function bodyEntityTag(body: string | Buffer): string {
  return `W/"b${createHash('sha256').update(body).digest('base64url').slice(0, 26)}"`;
}

function matches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === bare);
}

export function registerConditionalGet(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'GET' || reply.statusCode !== 200) return payload;
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    if (reply.getHeader('etag') !== undefined || reply.getHeader('content-encoding') !== undefined)
      return payload;
    const type = reply.getHeader('content-type');
    if (typeof type !== 'string' || !TAGGED.test(type)) return payload;
    if (payload.length > MAX_TAGGED_BYTES || request.url.startsWith('/health/')) return payload;
    const etag = bodyEntityTag(payload);
    reply.header('etag', etag);
    const header = request.headers['if-none-match'];
    if (typeof header !== 'string' || !matches(header, etag)) return payload;
    reply.code(304);
    reply.removeHeader('content-length');
    reply.removeHeader('content-type');
    return '';
  });
}
