import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { DomainError, ERROR_KINDS, domainErrors } from '../shared/errors.js';
import { EventTooLarge, StreamNotFound, WrongExpectedVersion } from '../eventstore/errors.js';
import { eventStoreProblem, STATUS_OF_KIND, registerErrorHandlers } from './errors.js';

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
