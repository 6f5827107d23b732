/**
 * Cities as data (issue #26): the public list the apps offer, and the admin's routes to add a
 * city, change it and switch it on or off, without a deploy. Every admin write is audited.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { withIdempotency } from '../../http/idempotency.js';
import { ProblemSchema } from '../../http/problem.js';
import type { Caller } from './context.js';
import type { Catalog } from './index.js';
import type { City } from './rules/cities.js';
import { inWindow, localClock, type Zone } from './rules/zones.js';
import { etagMatches } from './routes.js';
import {
  CityBody,
  CityParams,
  CityPatchBody,
  CityResponse,
  PublicCityResponse,
  PublicZoneResponse,
  ZoneBody,
  ZoneParams,
  ZonePatchBody,
  ZoneResponse,
} from './schemas.js';

const ADMIN: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const denied = { 401: ProblemSchema, 403: ProblemSchema };

/**
 * What the apps know of a city. Its support hours come with whether support answers now (in the
 * city's local time), so the app can say "support answers from 08:00" before a ticket is opened.
 */
function publicView(city: City, at: Date) {
  const hours = city.rules.supportHours;
  return {
    id: city.id,
    name: city.name,
    country: city.country,
    timeZone: city.timeZone,
    currency: city.currency,
    languages: city.languages,
    center: city.center,
    bounds: city.bounds,
    ...(hours === undefined
      ? {}
      : { support: { hours, openNow: inWindow(localClock(at, city.timeZone), hours) } }),
  };
}

export function registerCityRoutes(
  root: FastifyInstance,
  services: {
    catalog: Catalog;
    idempotencyDb: Parameters<typeof withIdempotency>[0];
    callerOf: (request: FastifyRequest) => Caller;
  },
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { catalog, callerOf } = services;
  const db = services.idempotencyDb;
  const tags = ['catalog'];

  app.get(
    '/v1/cities',
    {
      config: { access: { public: true } },
      schema: {
        tags,
        summary: 'The cities served now (active), for the apps’ city picker',
        response: { 200: Type.Object({ items: Type.Array(PublicCityResponse) }) },
      },
    },
    async () => {
      const at = new Date();
      const active = (await catalog.cities.all()).filter((city) => city.active);
      return { items: active.map((city) => publicView(city, at)) };
    },
  );

  app.get(
    '/v1/admin/cities',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'Every city, active or not, with its rules',
        response: { 200: Type.Object({ items: Type.Array(CityResponse) }), ...denied },
      },
    },
    async () => ({ items: await catalog.cities.all() }),
  );

  app.post(
    '/v1/admin/cities',
    {
      config: { access: ADMIN, idempotency: 'optional', location: true },
      schema: {
        tags,
        summary: 'Add a city (inactive unless `active: true`)',
        body: CityBody,
        response: { 201: CityResponse, 400: ProblemSchema, ...denied, 409: ProblemSchema },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = await withIdempotency(
        db,
        request,
        reply,
        { scope: `catalog:city:${caller.userId}` },
        async () => {
          const city = await catalog.cities.create(caller, request.body);
          reply.header('location', `/v1/admin/cities/${city.id}`);
          return { statusCode: 201, body: city };
        },
      );
      return body as City;
    },
  );

  app.patch(
    '/v1/admin/cities/:cityId',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'Change a city: names, time zone, centre, bounds, rules; `active` switches it on or off',
        params: CityParams,
        body: CityPatchBody,
        response: { 200: CityResponse, 400: ProblemSchema, ...denied, 404: ProblemSchema },
      },
    },
    async (request) => catalog.cities.update(callerOf(request), request.params.cityId, request.body),
  );

  registerZoneRoutes(app, services);
}

/** Zones within a city (issue #26): polygons with delivery rules, admin only, audited. */
function registerZoneRoutes(root: FastifyInstance, services: Parameters<typeof registerCityRoutes>[1]): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { catalog, callerOf } = services;
  const tags = ['catalog'];

  app.get(
    '/v1/cities/:cityId/zones',
    {
      config: { access: { public: true } },
      schema: {
        tags,
        summary:
          'The active zones of an active city and whether the platform delivers there (the apps’ map); ETag/304',
        params: CityParams,
        response: {
          200: Type.Object({ items: Type.Array(PublicZoneResponse) }),
          304: Type.Null(),
          404: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const body = { items: await catalog.zones.served(request.params.cityId) };
      // A strong tag of the content: an admin's change to an outline or a served flag changes it.
      const digest = createHash('sha1').update(JSON.stringify(body)).digest('base64url').slice(0, 22);
      const etag = `"z-${digest}"`;
      reply.header('etag', etag).header('cache-control', 'public, max-age=60, must-revalidate');
      if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
      return body;
    },
  );

  app.get(
    '/v1/admin/cities/:cityId/zones',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'The zones of a city, active or not',
        params: CityParams,
        response: { 200: Type.Object({ items: Type.Array(ZoneResponse) }), ...denied, 404: ProblemSchema },
      },
    },
    async (request) => ({ items: await catalog.zones.list(request.params.cityId) }),
  );

  app.post(
    '/v1/admin/cities/:cityId/zones',
    {
      config: { access: ADMIN, idempotency: 'optional', location: true },
      schema: {
        tags,
        summary: 'Add a zone to a city: its outline, whether the platform delivers there, fee adjustments',
        params: CityParams,
        body: ZoneBody,
        response: {
          201: ZoneResponse,
          400: ProblemSchema,
          ...denied,
          404: ProblemSchema,
          409: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { cityId } = request.params;
      const body = await withIdempotency(
        services.idempotencyDb,
        request,
        reply,
        { scope: `catalog:zone:${caller.userId}` },
        async () => {
          const zone = await catalog.zones.create(caller, cityId, request.body);
          reply.header('location', `/v1/admin/cities/${cityId}/zones/${zone.id}`);
          return { statusCode: 201, body: zone };
        },
      );
      return body as Zone;
    },
  );

  app.patch(
    '/v1/admin/cities/:cityId/zones/:zoneId',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary:
          'Change a zone: outline, name, delivery, fee adjustment, surges; `active` switches it on or off',
        params: ZoneParams,
        body: ZonePatchBody,
        response: { 200: ZoneResponse, 400: ProblemSchema, ...denied, 404: ProblemSchema },
      },
    },
    async (request) =>
      catalog.zones.update(callerOf(request), request.params.cityId, request.params.zoneId, request.body),
  );
}
