import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerErrorHandlers } from '../../src/http/errors.js';
import { HttpProblem } from '../../src/http/problem.js';
import { CUISINE_CODES } from '../../src/modules/catalog/rules/cuisines.js';
import { parseSearch } from '../../src/modules/catalog/search-service.js';
import { OrderError } from '../../src/modules/orders/index.js';
import {
  ProviderRejected,
  ProviderUnavailable,
  providerErrorToDomainError,
} from '../../src/modules/payments/providers/errors.js';

/** The error a call throws (or fails the test when it returns). */
function thrownBy(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

/**
 * Each context's domain error next to the HttpProblem the same code threw before the contexts
 * stopped knowing HTTP: the client must not see the difference (status, body, Retry-After).
 */
const CASES: { name: string; domain: Error; before: HttpProblem }[] = [
  {
    name: 'orders: a locked delivery PIN (OrderError with currentStatus and Retry-After)',
    domain: new OrderError('delivery_pin_locked', 'Too many wrong PINs.', 'PICKED_UP', {
      lockedUntil: '2026-12-04T20:00:00.000Z',
      retryAfterSeconds: 600,
    }),
    before: new HttpProblem(429, 'delivery_pin_locked', 'Too many wrong PINs.', {
      extensions: { currentStatus: 'PICKED_UP', lockedUntil: '2026-12-04T20:00:00.000Z' },
      headers: { 'retry-after': '600' },
    }),
  },
  {
    name: 'payments: every provider down (503, Retry-After 30)',
    domain: providerErrorToDomainError(new ProviderUnavailable('router', 'NO_PROVIDER', 'all down')),
    before: new HttpProblem(
      503,
      'payment_provider_unavailable',
      'No payment provider is reachable; try again later',
      {
        extensions: { providerCode: 'NO_PROVIDER' },
        headers: { 'retry-after': '30' },
      },
    ),
  },
  {
    name: 'payments: a provider refusal (422 with the provider code)',
    domain: providerErrorToDomainError(new ProviderRejected('campay', 'ER101', 'invalid number')),
    before: new HttpProblem(422, 'payment_rejected', 'The payment provider refused the request', {
      extensions: { provider: 'campay', providerCode: 'ER101' },
    }),
  },
  {
    name: 'catalog: an unknown cuisine in a search (400 with details)',
    domain: thrownBy(() => parseSearch({ cuisine: ['sushi'] }, new Date('2026-12-04T12:00:00Z'))),
    before: new HttpProblem(400, 'unknown_cuisine', 'Unknown cuisine: sushi.', {
      extensions: { unknown: ['sushi'], known: CUISINE_CODES },
    }),
  },
];

async function answerTo(error: Error) {
  const app = Fastify();
  registerErrorHandlers(app);
  app.get('/v1/thing', async () => {
    throw error;
  });
  const response = await app.inject({ method: 'GET', url: '/v1/thing' });
  await app.close();
  const { requestId: _requestId, ...body } = response.json<Record<string, unknown>>();
  return {
    status: response.statusCode,
    contentType: response.headers['content-type'],
    retryAfter: response.headers['retry-after'],
    body,
  };
}

describe('a domain error reaches the client as the problem the HttpProblem used to be', () => {
  it.each(CASES)('$name', async ({ domain, before }) => {
    const now = await answerTo(domain);
    const then = await answerTo(before);
    expect(now.status).toBe(before.status);
    expect(now.body).toEqual(then.body);
    expect(now.retryAfter).toBe(then.retryAfter);
    expect(now.contentType).toBe(then.contentType);
  });
});
