/**
 * `null` on every nullable field of every JSON body stays null through validation. Type coercion
 * once turned `discountPrice: null` into 0 (a free dish), `stock: null` into 0 (sold out for good)
 * and null coordinates into 0,0. The list of fields comes from the route schemas (the OpenAPI
 * document), so a field added tomorrow is covered; each route's own compiled validator is used.
 */
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appPlugin, serverOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createRuntime } from '../../src/runtime.js';
import { createServices, type Services } from '../../src/services.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testEnvironment } from '../helpers/app.js';
import { nullablePaths, valid, type JsonSchema } from './schema-arbitraries.js';

let database: TestDatabase;
let services: Services;
let app: FastifyInstance;
let probe: { body: unknown; result?: { ok: boolean; data: unknown; errors: unknown } } = { body: null };
let queryProbe: { query: Record<string, string>; ok?: boolean } = { query: {} };

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig(testEnvironment({ DATABASE_URL: database.url, LOG_LEVEL: 'silent' }));
  const logger = pino({ level: 'silent' });
  services = await createServices(await createRuntime({ config, logger }));
  app = Fastify(serverOptions(config, logger));
  // First hook of every route: runs the route's own body validator on the probe and answers.
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers['x-query-probe'] !== undefined) {
      const validate = request.getValidationFunction('querystring');
      queryProbe.ok = validate === undefined ? true : Boolean(validate({ ...queryProbe.query }));
      return reply.code(204).send();
    }
    if (request.headers['x-null-probe'] === undefined) return;
    const validate = request.getValidationFunction('body');
    const data = structuredClone(probe.body);
    const ok = validate === undefined ? false : Boolean(validate(data));
    probe.result = { ok, data, errors: validate?.errors };
    return reply.code(204).send();
  });
  await app.register(fastifyPlugin(appPlugin, { name: 'app', fastify: '5.x' }), { services });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await services?.runtime.close();
  await database?.drop();
});

interface BodyRoute {
  method: string;
  url: string;
  schema: JsonSchema;
}

async function bodyRoutes(): Promise<BodyRoute[]> {
  const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
    paths: Record<
      string,
      Record<string, { requestBody?: { content?: Record<string, { schema: JsonSchema }> } }>
    >;
  };
  const routes: BodyRoute[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      if (schema === undefined) continue;
      const url = path.replace(/\{[^}]+\}/g, '3f0c6d3e-8a52-4c47-9d2e-0a1b2c3d4e5f');
      routes.push({ method: method.toUpperCase(), url, schema });
    }
  }
  return routes;
}

/** The schema with every property required, so a generated value holds every nullable field. */
function everyField(schema: JsonSchema): JsonSchema {
  const copy: JsonSchema = { ...schema };
  if (schema.properties !== undefined) {
    copy.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([name, property]) => [name, everyField(property)]),
    );
    copy.required = Object.keys(schema.properties);
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (branches !== undefined) {
      // A null branch stays out, so the value on the way to a nested field is an object.
      const kept = branches.filter((branch) => branch.type !== 'null').map(everyField);
      copy[key] = kept.length > 0 ? kept : branches;
    }
  }
  if (schema.items !== undefined) copy.items = everyField(schema.items);
  return copy;
}

function withNullAt(value: unknown, path: string[]): unknown | undefined {
  if (path.length === 0) return null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const [head, ...rest] = path as [string, ...string[]];
  if (!(head in value)) return undefined;
  const inner = withNullAt((value as Record<string, unknown>)[head], rest);
  return inner === undefined && rest.length > 0 ? undefined : { ...value, [head]: inner ?? null };
}

function valueAt(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>((current, key) => (current as Record<string, unknown>)?.[key], value);
}

describe('a JSON body is not coerced', () => {
  it('keeps null on every nullable body field of every route (the list comes from the route schemas)', async () => {
    const routes = await bodyRoutes();
    const checked: string[] = [];
    for (const route of routes) {
      for (const path of nullablePaths(route.schema)) {
        const samples = fc.sample(valid(everyField(route.schema)), { numRuns: 30, seed: 15 });
        const body = samples.map((sample) => withNullAt(sample, path)).find((found) => found !== undefined);
        const name = `${route.method} ${route.url} ${path.join('.')}`;
        expect(body, `no sample of ${name} holds the field`).toBeDefined();
        probe = { body };
        const response = await app.inject({
          method: route.method as 'POST',
          url: route.url,
          headers: { 'x-null-probe': '1' },
        });
        expect(response.statusCode, name).toBe(204);
        expect(probe.result?.ok, `${name}: ${JSON.stringify(probe.result?.errors)}`).toBe(true);
        expect(valueAt(probe.result?.data, path), name).toBeNull();
        checked.push(name);
      }
    }
    // The fields of the reported defects are among those checked.
    expect(checked.some((name) => name.endsWith(' discountPrice'))).toBe(true);
    expect(checked.some((name) => name.endsWith(' stock'))).toBe(true);
  });

  it('refuses a number sent as a string in a body, and still reads numbers from a query string', async () => {
    probe = { body: { amountMinor: '5000', phone: '+237670000000' } };
    await app.inject({ method: 'POST', url: '/v1/wallet/topups', headers: { 'x-null-probe': '1' } });
    expect(probe.result?.ok).toBe(false);
    const listed = await app.inject({ method: 'GET', url: '/v1/restaurants?limit=2' });
    expect(listed.statusCode, listed.body).toBe(200);
  });

  it("refuses a query number of 400 digits on every route that reads one (Ajv made it Infinity and skipped 'maximum')", async () => {
    const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<
        string,
        Record<string, { parameters?: { in?: string; name?: string; schema?: JsonSchema }[] }>
      >;
    };
    const huge = '9'.repeat(400);
    const checked: string[] = [];
    for (const [path, operations] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(operations))
        for (const parameter of operation.parameters ?? []) {
          const type = parameter.schema?.type;
          if (parameter.in !== 'query' || (type !== 'integer' && type !== 'number')) continue;
          const url = path.replace(/\{[^}]+\}/g, '3f0c6d3e-8a52-4c47-9d2e-0a1b2c3d4e5f');
          queryProbe = { query: { [parameter.name!]: huge } };
          await app.inject({ method: method.toUpperCase() as 'GET', url, headers: { 'x-query-probe': '1' } });
          expect(queryProbe.ok, `${method} ${path} ?${parameter.name}=<400 digits>`).toBe(false);
          checked.push(`${method} ${path} ${parameter.name}`);
        }
    expect(checked.length).toBeGreaterThan(20);
    const answered = await app.inject({ method: 'GET', url: `/v1/recommendations?limit=${huge}` });
    expect(answered.statusCode).toBe(400);
    expect(answered.headers['content-type']).toContain('application/problem+json');
    expect((await app.inject({ method: 'GET', url: '/v1/restaurants?limit=2' })).statusCode).toBe(200);
  });
});
