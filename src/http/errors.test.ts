import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { DomainError, ERROR_KINDS, domainErrors } from '../shared/errors.js';
import { EventTooLarge, StreamNotFound, WrongExpectedVersion } from '../eventstore/errors.js';
import {
  eventStoreProblem,
  isDependencyOutage,
  OUTAGE_RETRY_AFTER_SECONDS,
  STATUS_OF_KIND,
  registerErrorHandlers,
} from './errors.js';

async function appThrowing(error: Error) {
  const app = Fastify();
  registerErrorHandlers(app);
  app.get('/boom', async () => {
    throw error;
  });
  await app.ready();
  return app;
}

describe('domain errors at the HTTP edge', () => {
  it('maps every kind to one distinct status', () => {
    const statuses = ERROR_KINDS.map((kind) => STATUS_OF_KIND[kind]);
    expect(new Set(statuses).size).toBe(ERROR_KINDS.length);
  });

  it('answers problem+json with the kind status, the code, the details and Retry-After', async () => {
    const orders = domainErrors('orders');
    const app = await appThrowing(
      orders.of('rate_limited', 'delivery_pin_locked', 'Too many wrong PINs.', {
        retryAfterSeconds: 61.2,
        details: { lockedUntil: '2026-12-04T20:00:00.000Z' },
      }),
    );
    const response = await app.inject({ method: 'GET', url: '/boom' });
    expect(response.statusCode).toBe(429);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['retry-after']).toBe('62');
    expect(response.json()).toMatchObject({
      status: 429,
      code: 'delivery_pin_locked',
      detail: 'Too many wrong PINs.',
      lockedUntil: '2026-12-04T20:00:00.000Z',
    });
  });

  it('never sends the message of an internal error', async () => {
    const app = await appThrowing(
      new DomainError('ledger', 'internal', 'invariant_broken', 'balance of acct 7 < 0'),
    );
    const response = await app.inject({ method: 'GET', url: '/boom' });
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('acct 7');
    expect(response.json()).toMatchObject({ code: 'invariant_broken' });
  });
});

describe('event store errors at the HTTP edge', () => {
  it('map to problem+json with stable codes', () => {
    expect(eventStoreProblem(new WrongExpectedVersion('order-1', 2n, 3n))).toMatchObject({
      status: 409,
      code: 'concurrency_conflict',
      extensions: { expectedRevision: '2', actualRevision: '3' },
    });
    expect(eventStoreProblem(new StreamNotFound('order-1'))).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(eventStoreProblem(new EventTooLarge('order-1', 300_000, 262_144))).toMatchObject({
      status: 413,
      code: 'event_too_large',
    });
    expect(eventStoreProblem(new Error('other'))).toBeUndefined();
  });

  it('are answered by the error handler, not as a 500', async () => {
    const app = await appThrowing(new WrongExpectedVersion('order-1', 2n, 3n));
    const response = await app.inject({ method: 'GET', url: '/boom' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ code: 'concurrency_conflict', actualRevision: '3' });
  });
});

describe('dependency outages at the HTTP edge', () => {
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
  const outages: [string, Error][] = [
    ['pg: pool checkout timed out', new Error('timeout exceeded when trying to connect')],
    ['pg: connection lost', new Error('Connection terminated unexpectedly')],
    ['pg: pool closed', new Error('Cannot use a pool after calling end on the pool')],
    [
      'PostgreSQL shutting down (57P01)',
      withCode('terminating connection due to administrator command', '57P01'),
    ],
    ['PostgreSQL: too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    [
      'refused on every address',
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect ECONNREFUSED'),
    ],
    ['wrapped as a cause', new Error('query failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') })],
    [
      'ioredis: no retries left',
      Object.assign(new Error('Reached the max retries per request limit'), {
        name: 'MaxRetriesPerRequestError',
      }),
    ],
    ['ioredis: closed', new Error('Connection is closed.')],
    [
      'EventStoreDB: unavailable',
      Object.assign(new Error('14 UNAVAILABLE: No connection established'), { type: 'unavailable' }),
    ],
    [
      'a provider answering garbage',
      Object.assign(new Error('campay sent an unreadable status'), {
        kind: 'unavailable',
        code: 'BAD_RESPONSE',
      }),
    ],
  ];

  it.each(outages)('%s: 503 service_unavailable with Retry-After and no message', async (_name, error) => {
    expect(isDependencyOutage(error)).toBe(true);
    const app = await appThrowing(error);
    const response = await app.inject({ method: 'GET', url: '/boom' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: 503, code: 'service_unavailable' });
    expect(response.headers['retry-after']).toBe(String(OUTAGE_RETRY_AFTER_SECONDS));
    expect(response.body).not.toContain(error.message);
  });

  it('a bug or a constraint violation stays a 500', async () => {
    for (const error of [
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      withCode('duplicate key', '23505'),
    ]) {
      expect(isDependencyOutage(error)).toBe(false);
      const response = await (await appThrowing(error)).inject({ method: 'GET', url: '/boom' });
      expect(response.statusCode).toBe(500);
    }
  });
});
