import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { createGroupRunner, type GroupRunner } from '../db/group-runner.js';
import { HttpProblem } from './problem.js';
import { DomainError } from '../shared/errors.js';
import { problemOf } from './errors.js';

const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;
const KEPT_FOR_MS = 24 * 60 * 60 * 1000;

export interface IdempotentResult {
  statusCode: number;
  body: unknown;
}

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

/** The key from the `Idempotency-Key` header, validated; undefined when absent and optional. */
export function idempotencyKey(request: FastifyRequest, required: boolean): string | undefined {
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
 * concurrent duplicate still in flight is 409 `idempotency_in_progress`. 4xx answers are kept
 * (the same request gets the same answer); a failure with 5xx frees the key for a retry.
 */
export async function withIdempotency(
  db: Db,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { scope: string; required?: boolean },
  work: () => Promise<IdempotentResult>,
): Promise<unknown> {
  const key = idempotencyKey(request, options.required ?? false);
  if (key === undefined) {
    const result = await work();
    reply.code(result.statusCode);
    return result.body;
  }
  const hash = requestHash(request);
  const claimed = await runnersFor(db).claim.run({
    scope: options.scope,
    key,
    hash,
    expiresAt: new Date(Date.now() + KEPT_FOR_MS),
  });
  if (!claimed) return replay(db, reply, options.scope, key, hash);

  let result: IdempotentResult;
  try {
    result = await work();
  } catch (error) {
    const problem = error instanceof DomainError ? problemOf(error) : error;
    if (problem instanceof HttpProblem && problem.status < 500) {
      await store(db, options.scope, key, problem.status, {
        __problem: {
          status: problem.status,
          code: problem.code,
          detail: problem.message,
          extensions: problem.extensions,
        },
      });
    } else {
      await db
        .deleteFrom('idempotency_keys')
        .where('scope', '=', options.scope)
        .where('key', '=', key)
        .execute();
    }
    throw error;
  }
  await store(db, options.scope, key, result.statusCode, result.body);
  reply.code(result.statusCode);
  return result.body;
}

async function store(db: Db, scope: string, key: string, statusCode: number, body: unknown): Promise<void> {
  await runnersFor(db).store.run({ scope, key, statusCode, json: JSON.stringify(body, bigintReplacer) });
}

interface Claim {
  scope: string;
  key: string;
  hash: string;
  expiresAt: Date;
}
interface Stored {
  scope: string;
  key: string;
  statusCode: number;
  json: string;
}

/**
 * Claims and stored answers of concurrent requests go to PostgreSQL in groups (db/group-runner.ts):
 * every idempotent POST made two statements, about a third of an order's. A group's claim is one
 * INSERT … ON CONFLICT DO NOTHING; of two claims of one key in a group, only the first can win.
 */
const runners = new WeakMap<Db, { claim: GroupRunner<Claim, boolean>; store: GroupRunner<Stored, void> }>();
function runnersFor(db: Db) {
  let found = runners.get(db);
  if (found !== undefined) return found;
  const claimMany = async (claims: Claim[]): Promise<boolean[]> => {
    const id = (claim: Claim) => `${claim.scope}\u0000${claim.key}`;
    const first = new Map<string, Claim>();
    for (const claim of claims) if (!first.has(id(claim))) first.set(id(claim), claim);
    // Inserted in key order, so two groups cannot wait on each other's keys.
    const unique = [...first.values()].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
    const result = await sql<{ scope: string; key: string }>`
      INSERT INTO idempotency_keys (scope, key, request_hash, expires_at)
      SELECT * FROM unnest(${unique.map((claim) => claim.scope)}::text[], ${unique.map((claim) => claim.key)}::text[],
                           ${unique.map((claim) => claim.hash)}::text[], ${unique.map((claim) => claim.expiresAt.toISOString())}::timestamptz[])
      ON CONFLICT (scope, key) DO NOTHING
      RETURNING scope, key`.execute(db);
    const won = new Set(result.rows.map((row) => `${row.scope}\u0000${row.key}`));
    return claims.map((claim) => first.get(id(claim)) === claim && won.has(id(claim)));
  };
  found = {
    claim: createGroupRunner<Claim, boolean>({
      runOne: async (claim) => (await claimMany([claim]))[0]!,
      runMany: claimMany,
    }),
    store: createGroupRunner<Stored, void>({
      runOne: async (item) => {
        await db
          .updateTable('idempotency_keys')
          .set({ status_code: item.statusCode, response_body: item.json })
          .where('scope', '=', item.scope)
          .where('key', '=', item.key)
          .execute();
      },
      runMany: async (items) => {
        await sql`
          UPDATE idempotency_keys AS k SET status_code = v.status_code, response_body = v.body::jsonb
            FROM unnest(${items.map((item) => item.scope)}::text[], ${items.map((item) => item.key)}::text[],
                        ${items.map((item) => item.statusCode)}::int[], ${items.map((item) => item.json)}::text[])
                 AS v(scope, key, status_code, body)
           WHERE k.scope = v.scope AND k.key = v.key`.execute(db);
        return items.map(() => undefined);
      },
    }),
  };
  runners.set(db, found);
  return found;
}

async function replay(
  db: Db,
  reply: FastifyReply,
  scope: string,
  key: string,
  hash: string,
): Promise<unknown> {
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'status_code', 'response_body'])
    .where('scope', '=', scope)
    .where('key', '=', key)
    .executeTakeFirstOrThrow();
  if (row.request_hash !== hash) {
    throw new HttpProblem(
      409,
      'idempotency_key_reused',
      'This Idempotency-Key was used with a different request.',
    );
  }
  if (row.status_code === null) {
    throw new HttpProblem(
      409,
      'idempotency_in_progress',
      'A request with this Idempotency-Key is still in progress.',
      {
        headers: { 'retry-after': '1' },
      },
    );
  }
  reply.header('idempotent-replayed', 'true');
  const body = row.response_body as {
    __problem?: { status: number; code: string; detail: string; extensions?: Record<string, unknown> };
  };
  if (body !== null && typeof body === 'object' && body.__problem !== undefined) {
    const problem = body.__problem;
    throw new HttpProblem(problem.status, problem.code, problem.detail, { extensions: problem.extensions });
  }
  reply.code(row.status_code);
  return body;
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
