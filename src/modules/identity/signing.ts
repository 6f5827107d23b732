import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { identityErrors } from './errors.js';
import type { DomainError } from '../../shared/errors.js';
import { constantTimeEqual, open, seal } from './crypto.js';
import type { KeyValue } from './kv.js';
import type { IdentityRepository } from './repository.js';

/**
 * Request signing for server-to-server calls (spec §3.4): HMAC-SHA256 over the method, the
 * path with its query, a timestamp, a nonce and the SHA-256 of the body bytes. A signature is
 * good for SIGNATURE_MAX_SKEW_MS either side of the server's clock and once only (the nonce is
 * remembered in Redis for twice that long). Client secrets are sealed with the master key and
 * expire after 90 days (spec §3.4 "rotation every 90 days").
 *
 * Headers: x-signature-key-id, x-signature-timestamp (ms since epoch), x-signature-nonce,
 * x-signature (hex).
 */
export const SIGNATURE_MAX_SKEW_MS = 5 * 60_000;
export const SIGNING_CLIENT_TTL_MS = 90 * 24 * 3_600_000;
const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export interface SignatureInput {
  method: string;
  /** The path with its query string, exactly as sent. */
  path: string;
  timestampMs: number;
  nonce: string;
  bodySha256Hex: string;
}

export function sha256Hex(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

export function canonicalRequest(input: SignatureInput): string {
  return [
    input.method.toUpperCase(),
    input.path,
    String(input.timestampMs),
    input.nonce,
    input.bodySha256Hex,
  ].join('\n');
}

export function computeSignature(secret: string, input: SignatureInput): string {
  return createHmac('sha256', secret).update(canonicalRequest(input)).digest('hex');
}

/** What a calling service (a job runner, a cron) adds to its request. */
export function signRequest(options: {
  keyId: string;
  secret: string;
  method: string;
  path: string;
  body?: string | Buffer;
  timestampMs?: number;
  nonce?: string;
}): Record<string, string> {
  const input: SignatureInput = {
    method: options.method,
    path: options.path,
    timestampMs: options.timestampMs ?? Date.now(),
    nonce: options.nonce ?? randomBytes(16).toString('base64url'),
    bodySha256Hex: sha256Hex(options.body ?? ''),
  };
  return {
    'x-signature-key-id': options.keyId,
    'x-signature-timestamp': String(input.timestampMs),
    'x-signature-nonce': input.nonce,
    'x-signature': computeSignature(options.secret, input),
  };
}

export interface RequestVerifier {
  verify(
    request: { method: string; url: string; headers: Record<string, string | string[] | undefined> },
    bodySha256Hex: string,
  ): Promise<{ keyId: string; scopes: string[] }>;
  createClient(name: string, scopes: string[]): Promise<{ keyId: string; secret: string; expiresAt: Date }>;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function refuse(code: string, detail: string): DomainError {
  return identityErrors.of('unauthorized', code, detail);
}

export interface SignedHeaders {
  keyId: string;
  timestampMs: number;
  nonce: string;
  signature: string;
}

/**
 * The x-signature-* headers, checked for presence, clock skew and nonce shape (401
 * `signature_missing` / `signature_expired` / `signature_invalid`). Shared by the internal
 * signing clients and the partner API keys (partner-keys.ts).
 */
export function readSignedHeaders(
  headers: Record<string, string | string[] | undefined>,
  nowMs: number,
): SignedHeaders {
  const keyId = header(headers, 'x-signature-key-id');
  const timestamp = header(headers, 'x-signature-timestamp');
  const nonce = header(headers, 'x-signature-nonce');
  const signature = header(headers, 'x-signature');
  if (!keyId || !timestamp || !nonce || !signature)
    throw refuse('signature_missing', 'This route needs a signed request (x-signature-* headers).');
  const timestampMs = Number(timestamp);
  if (!Number.isSafeInteger(timestampMs) || Math.abs(nowMs - timestampMs) > SIGNATURE_MAX_SKEW_MS) {
    throw refuse('signature_expired', 'The signature timestamp is too far from the server clock.');
  }
  if (!NONCE_PATTERN.test(nonce))
    throw refuse('signature_invalid', 'The nonce must be 16-64 URL-safe characters.');
  return { keyId: keyId.slice(0, 100), timestampMs, nonce, signature };
}

/** Constant-time comparison of the sent signature with the one `secret` gives this request. */
export function signatureMatches(
  secret: string,
  request: { method: string; url: string },
  signed: SignedHeaders,
  bodySha256Hex: string,
): boolean {
  const expected = computeSignature(secret, {
    method: request.method,
    path: request.url,
    timestampMs: signed.timestampMs,
    nonce: signed.nonce,
    bodySha256Hex,
  });
  return constantTimeEqual(expected, signed.signature.toLowerCase());
}

export function createRequestVerifier(deps: {
  repository: IdentityRepository;
  masterKey: Buffer;
  kv: KeyValue;
  now?: () => number;
}): RequestVerifier {
  const { repository, masterKey, kv } = deps;
  const now = deps.now ?? Date.now;
  const aad = (keyId: string) => `signing-client:${keyId}`;

  return {
    async verify(request, bodySha256Hex) {
      const { keyId, timestampMs, nonce, signature } = readSignedHeaders(request.headers, now());
      const client = await repository.findSigningClient(keyId);
      if (client === undefined || client.revoked_at !== null || client.expires_at.getTime() <= now()) {
        throw refuse('signature_invalid', 'The signature is not valid.');
      }
      const secret = open(masterKey, client.secret_ciphertext, aad(client.key_id)).toString('utf8');
      if (!signatureMatches(secret, request, { keyId, timestampMs, nonce, signature }, bodySha256Hex))
        throw refuse('signature_invalid', 'The signature is not valid.');
      // Checked last, so an attacker cannot burn a legitimate caller's nonce with a bad signature.
      if (!(await kv.setIfAbsent(`nonce:${client.key_id}:${nonce}`, '1', 2 * SIGNATURE_MAX_SKEW_MS))) {
        throw refuse('signature_replayed', 'This signed request was already received.');
      }
      return { keyId: client.key_id, scopes: client.scopes };
    },

    async createClient(name, scopes) {
      const keyId = `sk_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
      const secret = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now() + SIGNING_CLIENT_TTL_MS);
      await repository.insertSigningClient({
        keyId,
        name,
        scopes,
        secretCiphertext: seal(masterKey, Buffer.from(secret), aad(keyId)),
        expiresAt,
      });
      return { keyId, secret, expiresAt };
    },
  };
}
