import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { HttpProblem } from './problem.js';

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
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({ scope: options.scope, key, request_hash: hash, expires_at: new Date(Date.now() + KEPT_FOR_MS) })
    .onConflict((conflict) => conflict.columns(['scope', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  if (inserted === undefined) return replay(db, reply, options.scope, key, hash);

  let result: IdempotentResult;
  try {
    result = await work();
  } catch (error) {
    if (error instanceof HttpProblem && error.status < 500) {
      await store(db, options.scope, key, error.status, {
        __problem: {
          status: error.status,
          code: error.code,
          detail: error.message,
          extensions: error.extensions,
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
  await db
    .updateTable('idempotency_keys')
    .set({ status_code: statusCode, response_body: JSON.stringify(body, bigintReplacer) })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .execute();
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
