import { createHash, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { createGroupRunner, type GroupRunner } from '../db/group-runner.js';
import type { FieldCipher } from '../platform/field-crypto.js';
import { HttpProblem } from './problem.js';
import { DomainError } from '../shared/errors.js';
import { problemOf } from './errors.js';

const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;
const KEPT_FOR_MS = 24 * 60 * 60 * 1000;
/** How long a claim holds its key unless configured (IDEMPOTENCY_LEASE_SECONDS). */
export const DEFAULT_IDEMPOTENCY_LEASE_MS = 60_000;

export interface IdempotentResult {
  statusCode: number;
  body: unknown;
}

/** The answer's headers a replay sends again (set by the work on the reply). */
const REPLAYED_HEADERS = ['location', 'etag', 'cache-control', 'content-location'] as const;

/** How an answer with headers is stored (a bare body is an answer without any, as before). */
interface StoredAnswer {
  __answer: { body: unknown; headers: Record<string, string> };
}

export interface IdempotentAttempt {
  /**
   * True when an earlier attempt with this key started and never answered (its process stopped,
   * or it failed with a 5xx): the work may find part of itself already done.
   */
  retry: boolean;
}

export interface IdempotencyOptions {
  scope: string;
  required?: boolean;
  /**
   * For work that keeps its own answer, written in the same transaction as the work itself (an
   * order stream named after the key): no answer row is written, and a replay asks this instead
   * (undefined while the work has not happened).
   */
  answer?: () => Promise<IdempotentResult | undefined>;
}

const leases = new WeakMap<Db, number>();
const ciphers = new WeakMap<Db, FieldCipher>();

/**
 * Sets the lease of claims made on this database (IDEMPOTENCY_LEASE_SECONDS; called at boot) and
 * the cipher stored answers are sealed with: an answer may hold personal data (a profile, an
 * address, a masked phone), so it is kept encrypted at rest like every personal field (issue #15).
 */
export function configureIdempotency(db: Db, options: { leaseMs: number; fields?: FieldCipher }): void {
  leases.set(db, options.leaseMs);
  if (options.fields !== undefined) ciphers.set(db, options.fields);
}

/** A stored answer: `{"$sealed": "pii1.…"}` when a cipher is configured, the JSON itself otherwise. */
const SEALED = '$sealed';
const answerPurpose = (scope: string, key: string) => `idempotency_keys.response_body:${scope}:${key}`;

function sealAnswer(db: Db, scope: string, key: string, json: string): string {
  const fields = ciphers.get(db);
  return fields === undefined
    ? json
    : JSON.stringify({ [SEALED]: fields.encrypt(answerPurpose(scope, key), json) });
}

function openAnswer(db: Db, scope: string, key: string, stored: unknown): unknown {
  if (stored === null || typeof stored !== 'object' || !(SEALED in stored)) return stored; // written before sealing
  const fields = ciphers.get(db);
  if (fields === undefined) throw new Error('a sealed idempotent answer, but no cipher is configured');
  return JSON.parse(fields.decrypt(answerPurpose(scope, key), (stored as Record<string, string>)[SEALED]!));
}

/** A UUID named by an Idempotency-Key (src/shared/keyed-uuid.ts): a retry names the same thing. */
export { keyedUuid } from '../shared/keyed-uuid.js';

function requestHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(request.method)
    .update('\n')
    .update(request.routeOptions.url ?? request.url)
    .update('\n')
    .update(JSON.stringify(request.params ?? {}))
    .update('\n')
    .update(JSON.stringify(request.body ?? null))
    .digest('hex');
}

/**
 * A route that takes an Idempotency-Key declares it (`config.idempotency`), so that the OpenAPI
 * document says so (src/http/openapi.ts); one that does not is a programming error, found by the
 * first test that calls it.
 */
function assertDeclared(request: FastifyRequest, required: boolean): void {
  const declared = request.routeOptions.config.idempotency;
  if (declared === undefined || (required && declared !== 'required'))
    throw new Error(
      `route ${request.method} ${request.routeOptions.url ?? request.url} takes an Idempotency-Key but declares ` +
        `config.idempotency ${declared ?? 'nothing'} (expected ${required ? "'required'" : "'optional'"})`,
    );
}

/** The key from the `Idempotency-Key` header, validated; undefined when absent and optional. */
export function idempotencyKey(request: FastifyRequest, required: boolean): string | undefined {
  assertDeclared(request, required);
  const header = request.headers['idempotency-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || key === '') {
    if (required) throw new HttpProblem(400, 'idempotency_key_required', 'Send an Idempotency-Key header.');
    return undefined;
  }
  if (!KEY_PATTERN.test(key)) {
    throw new HttpProblem(
      400,
      'idempotency_key_invalid',
      'Idempotency-Key must be 8-128 characters [A-Za-z0-9_.:-].',
    );
  }
  return key;
}

/**
 * Runs `work` at most once per (scope, key): a replay with the same body returns the first
 * answer (with `Idempotent-Replayed: true`), the same key with another body is 409, and a
 * duplicate while the first is in flight is 409 `idempotency_in_progress` (Retry-After: the
 * lease left). 4xx answers are kept (the same request gets the same answer). A claim is a lease
 * (IDEMPOTENCY_LEASE_SECONDS, longer than a request may take): once a request failed with a 5xx
 * or its process stopped before answering, a retry with the same body takes the key over and
 * runs the work again, told so by `attempt.retry` (the work must be idempotent by the key).
 */
export async function withIdempotency(
  db: Db,
  request: FastifyRequest,
  reply: FastifyReply,
  options: IdempotencyOptions,
  work: (attempt: IdempotentAttempt) => Promise<IdempotentResult>,
): Promise<unknown> {
  const key = idempotencyKey(request, options.required ?? false);
  if (key === undefined) return send(reply, await work({ retry: false }), false);
  const hash = requestHash(request);
  const held: Held = { scope: options.scope, key, token: randomUUID() };
  const claim = await runnersFor(db).claim.run({
    ...held,
    hash,
    expiresAt: new Date(Date.now() + KEPT_FOR_MS),
    leaseMs: leases.get(db) ?? DEFAULT_IDEMPOTENCY_LEASE_MS,
  });
  if (claim === 'lost') return replay(db, reply, options, key, hash);
  const retry = claim === 'taken_over';
  if (retry && options.answer !== undefined) {
    const answered = await keptAnswer(reply, options.answer);
    if (answered !== undefined) return send(reply, answered, true);
  }
  let result: IdempotentResult;
  try {
    result = await work({ retry });
  } catch (error) {
    await settleFailure(db, held, error);
    throw error;
  }
  if (options.answer === undefined) await store(db, held, result.statusCode, answerOf(reply, result));
  return send(reply, result, false);
}

/**
 * The answer work keeps itself (options.answer). It may be a refusal (a wallet order that could
 * not be paid is a 402): that is replayed too, so it is marked as a replay like any other.
 */
async function keptAnswer(
  reply: FastifyReply,
  answer: () => Promise<IdempotentResult | undefined>,
): Promise<IdempotentResult | undefined> {
  try {
    return await answer();
  } catch (error) {
    const problem = error instanceof DomainError ? problemOf(error) : error;
    if (problem instanceof HttpProblem && problem.status < 500) reply.header('idempotent-replayed', 'true');
    throw error;
  }
}

/** What is stored: the body, with the headers a replay must send again when the work set any. */
function answerOf(reply: FastifyReply, result: IdempotentResult): unknown {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name);
    if (value !== undefined) headers[name] = String(value);
  }
  if (Object.keys(headers).length === 0) return result.body;
  return { __answer: { body: result.body, headers } } satisfies StoredAnswer;
}

function send(reply: FastifyReply, result: IdempotentResult, replayed: boolean): unknown {
  if (replayed) reply.header('idempotent-replayed', 'true');
  reply.code(result.statusCode);
  return result.body;
}

interface Held {
  scope: string;
  key: string;
  /** Which attempt holds the key: only it may answer or free it. */
  token: string;
}

/** A 4xx is the answer (kept); anything else frees the key at once for a retry (the lease ends now). */
async function settleFailure(db: Db, held: Held, error: unknown): Promise<void> {
  const problem = error instanceof DomainError ? problemOf(error) : error;
  if (problem instanceof HttpProblem && problem.status < 500) {
    await store(db, held, problem.status, {
      __problem: {
        status: problem.status,
        code: problem.code,
        detail: problem.message,
        extensions: problem.extensions,
      },
    });
    return;
  }
  // The row stays (with its request hash), so the retry knows it is one. Should the database be
  // down, the lease runs out by itself.
  await db
    .updateTable('idempotency_keys')
    .set({ lease_expires_at: sql<Date>`now()` })
    .where('scope', '=', held.scope)
    .where('key', '=', held.key)
    .where('claim_token', '=', held.token)
    .execute()
    .catch(() => undefined);
}

async function store(db: Db, held: Held, statusCode: number, body: unknown): Promise<void> {
  const json = sealAnswer(db, held.scope, held.key, JSON.stringify(body, bigintReplacer));
  await runnersFor(db).store.run({ ...held, statusCode, json });
}

type ClaimOutcome = 'claimed' | 'taken_over' | 'lost';
interface Claim extends Held {
  hash: string;
  expiresAt: Date;
  /** From the database's clock, as the takeover's comparison. */
  leaseMs: number;
}
interface Stored extends Held {
  statusCode: number;
  json: string;
}

const identity = (item: { scope: string; key: string }) => `${item.scope}\u0000${item.key}`;

/**
 * One statement for a group of claims: a new key is inserted; a key whose attempt never answered
 * and whose lease ran out is taken over by a request with the same hash (`xmax = 0` tells an
 * insert from an update); anything else is lost to the row that is there. Of two claims of one
 * key in a group only the first can win; keys go in sorted, so two groups cannot deadlock.
 */
async function claimMany(db: Db, claims: Claim[]): Promise<ClaimOutcome[]> {
  const first = new Map<string, Claim>();
  for (const claim of claims) if (!first.has(identity(claim))) first.set(identity(claim), claim);
  const unique = [...first.values()].sort((a, b) =>
    identity(a) < identity(b) ? -1 : identity(a) > identity(b) ? 1 : 0,
  );
  const column = <T>(pick: (claim: Claim) => T) => unique.map(pick);
  const result = await sql<{ scope: string; key: string; inserted: boolean }>`
    INSERT INTO idempotency_keys AS k (scope, key, request_hash, expires_at, lease_expires_at, claim_token)
    SELECT v.scope, v.key, v.hash, v.expires_at, now() + v.lease_ms * interval '1 millisecond', v.token
      FROM unnest(${column((claim) => claim.scope)}::text[], ${column((claim) => claim.key)}::text[],
                  ${column((claim) => claim.hash)}::text[],
                  ${column((claim) => claim.expiresAt.toISOString())}::timestamptz[],
                  ${column((claim) => claim.leaseMs)}::int[], ${column((claim) => claim.token)}::uuid[])
           AS v(scope, key, hash, expires_at, lease_ms, token)
    ON CONFLICT (scope, key) DO UPDATE
       SET lease_expires_at = excluded.lease_expires_at, claim_token = excluded.claim_token
     WHERE k.status_code IS NULL AND k.lease_expires_at < now() AND k.request_hash = excluded.request_hash
    RETURNING k.scope, k.key, (k.xmax = 0) AS inserted`.execute(db);
  const won = new Map(result.rows.map((row) => [identity(row), row.inserted]));
  return claims.map((claim) => {
    const inserted = won.get(identity(claim));
    if (first.get(identity(claim)) !== claim || inserted === undefined) return 'lost';
    return inserted ? 'claimed' : 'taken_over';
  });
}

/** Answers of a group in one UPDATE; only the attempt holding the key answers for it. */
async function storeMany(db: Db, items: Stored[]): Promise<void[]> {
  await sql`
    UPDATE idempotency_keys AS k SET status_code = v.status_code, response_body = v.body::jsonb
      FROM unnest(${items.map((item) => item.scope)}::text[], ${items.map((item) => item.key)}::text[],
                  ${items.map((item) => item.token)}::uuid[], ${items.map((item) => item.statusCode)}::int[],
                  ${items.map((item) => item.json)}::text[])
           AS v(scope, key, token, status_code, body)
     WHERE k.scope = v.scope AND k.key = v.key AND k.claim_token = v.token`.execute(db);
  return items.map(() => undefined);
}

/**
 * Claims and stored answers of concurrent requests go to PostgreSQL in groups (db/group-runner.ts):
 * every idempotent POST made two statements, about a third of an order's.
 */
const runners = new WeakMap<
  Db,
  { claim: GroupRunner<Claim, ClaimOutcome>; store: GroupRunner<Stored, void> }
>();
function runnersFor(db: Db) {
  let found = runners.get(db);
  if (found !== undefined) return found;
  found = {
    claim: createGroupRunner<Claim, ClaimOutcome>({
      runOne: async (claim) => (await claimMany(db, [claim]))[0]!,
      runMany: (claims) => claimMany(db, claims),
    }),
    store: createGroupRunner<Stored, void>({
      runOne: async (item) => void (await storeMany(db, [item])),
      runMany: (items) => storeMany(db, items),
    }),
  };
  runners.set(db, found);
  return found;
}

function inProgress(retryAfterSeconds: number): HttpProblem {
  return new HttpProblem(
    409,
    'idempotency_in_progress',
    'A request with this Idempotency-Key is still in progress.',
    { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) } },
  );
}

async function replay(
  db: Db,
  reply: FastifyReply,
  options: IdempotencyOptions,
  key: string,
  hash: string,
): Promise<unknown> {
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'status_code', 'response_body', 'lease_expires_at'])
    .where('scope', '=', options.scope)
    .where('key', '=', key)
    .executeTakeFirst();
  // Purged between the claim and this read: the client may simply retry.
  if (row === undefined) throw inProgress(1);
  if (row.request_hash !== hash) {
    throw new HttpProblem(
      409,
      'idempotency_key_reused',
      'This Idempotency-Key was used with a different request.',
    );
  }
  if (row.status_code === null) {
    const answered = options.answer === undefined ? undefined : await keptAnswer(reply, options.answer);
    if (answered !== undefined) return send(reply, answered, true);
    throw inProgress((row.lease_expires_at.getTime() - Date.now()) / 1000);
  }
  const body = openAnswer(db, options.scope, key, row.response_body) as {
    __problem?: { status: number; code: string; detail: string; extensions?: Record<string, unknown> };
  };
  reply.header('idempotent-replayed', 'true');
  if (body !== null && typeof body === 'object' && body.__problem !== undefined) {
    const problem = body.__problem;
    throw new HttpProblem(problem.status, problem.code, problem.detail, { extensions: problem.extensions });
  }
  const stored = body as Partial<StoredAnswer> | null;
  if (stored !== null && typeof stored === 'object' && stored.__answer !== undefined) {
    for (const [name, value] of Object.entries(stored.__answer.headers)) reply.header(name, value);
    return send(reply, { statusCode: row.status_code, body: stored.__answer.body }, true);
  }
  return send(reply, { statusCode: row.status_code, body }, true);
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

/** Removes expired keys; run by a scheduled job. */
export async function purgeExpiredIdempotencyKeys(db: Db): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_keys')
    .where('expires_at', '<', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
