import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { schemaCompilers } from './validators.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

function build(mode: 'eager' | 'lazy', withBrokenRoute = false): FastifyInstance {
  const app = Fastify({
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
    schemaController: { compilersFactory: schemaCompilers(mode) },
  });
  apps.push(app);
  app.addSchema({
    $id: 'Money',
    type: 'object',
    properties: { amount: { type: 'integer' } },
    required: ['amount'],
  });
  app.post(
    '/items/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
        querystring: { type: 'object', properties: { limit: { type: 'integer', maximum: 50, default: 20 } } },
        body: {
          type: 'object',
          properties: { price: { $ref: 'Money#' }, note: { type: ['string', 'null'] } },
          required: ['price'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'integer' }, limit: { type: 'integer' }, amount: { type: 'integer' } },
          },
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: number };
      const { limit } = request.query as { limit: number };
      const { price } = request.body as { price: { amount: number } };
      // `secret` is not in the response schema: the serializer must leave it out.
      return { id, limit, amount: price.amount, secret: 'not sent' };
    },
  );
  if (withBrokenRoute) {
    app.post('/broken', { schema: { body: { type: 'no-such-type' } } }, async () => ({}));
  }
  return app;
}

const requests = [
  { url: '/items/7', payload: { price: { amount: 1500 } } },
  { url: '/items/7?limit=5', payload: { price: { amount: 1500 }, note: null } },
  { url: '/items/0', payload: { price: { amount: 1500 } } },
  { url: '/items/7?limit=51', payload: { price: { amount: 1500 } } },
  { url: `/items/7?limit=${'9'.repeat(400)}`, payload: { price: { amount: 1500 } } },
  { url: '/items/7', payload: { price: { amount: '1500' } } },
  { url: '/items/7', payload: { price: {} } },
  { url: '/items/7', payload: { price: { amount: 1 }, extra: true } },
  { url: '/items/7', payload: null },
];

describe('schema compilers', () => {
  it('lazy answers every request exactly as eager does: coercion, defaults, $ref, refusals, the serializer', async () => {
    const eager = build('eager');
    const lazy = build('lazy');
    await Promise.all([eager.ready(), lazy.ready()]);
    const seen: number[] = [];
    for (const request of requests) {
      const send = (app: FastifyInstance) =>
        app.inject({
          method: 'POST',
          ...request,
          payload: request.payload ?? 'null',
          headers: { 'content-type': 'application/json' },
        });
      const [a, b] = await Promise.all([send(eager), send(lazy)]);
      expect(b.statusCode, request.url).toBe(a.statusCode);
      expect(b.json(), request.url).toEqual(a.json());
      seen.push(a.statusCode);
    }
    // The cases do cover both answers (a comparison of two identical refusals proves little).
    expect(seen.filter((status) => status === 200)).toHaveLength(2);
    expect(seen.filter((status) => status === 400)).toHaveLength(requests.length - 2);
    const ok = await lazy.inject({ method: 'POST', url: '/items/7', payload: { price: { amount: 9 } } });
    expect(ok.json()).toEqual({ id: 7, limit: 20, amount: 9 });
  });

  it('lazy compiles a route on its first request: a broken schema fails that route, not the start; eager refuses to start', async () => {
    await expect(build('eager', true).ready()).rejects.toThrow(/no-such-type|schema/i);
    const lazy = build('lazy', true);
    await lazy.ready();
    const fine = await lazy.inject({ method: 'POST', url: '/items/3', payload: { price: { amount: 1 } } });
    expect(fine.statusCode).toBe(200);
    const broken = await lazy.inject({ method: 'POST', url: '/broken', payload: {} });
    expect(broken.statusCode).toBe(500);
  });
});
