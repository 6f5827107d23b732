/**
 * Drivers' own shift and position (`/v1/drivers/me…`) and the administrators' view of the index
 * of online drivers. Every route declares `config.access`; the driver routes also require the
 * driver role itself (an administrator passes every permission check but has no shift).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Principal, RouteAccess } from '../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { dispatchErrors } from './errors.js';
import { MAX_LATITUDE } from './geo.js';
import type { DispatchService } from './service.js';

const tags = ['drivers'];
const DRIVER: RouteAccess = {
  permissions: ['LOCATION_SHARING'],
  ownership: "the caller's own shift (driver role)",
};
const ADMIN: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const problems = { 401: ProblemSchema, 403: ProblemSchema };

const Vehicle = Type.Union([Type.Literal('motorbike'), Type.Literal('car'), Type.Literal('bicycle')]);
const Position = Type.Object({
  latitude: Type.Number(),
  longitude: Type.Number(),
  accuracyMeters: Type.Union([Type.Number(), Type.Null()]),
  heading: Type.Union([Type.Number(), Type.Null()]),
  speedKmh: Type.Union([Type.Number(), Type.Null()]),
  recordedAt: Type.String({ format: 'date-time' }),
  acceptedAt: Type.String({ format: 'date-time' }),
});
const AvailabilityResponse = Type.Object({
  online: Type.Boolean(),
  vehicle: Vehicle,
  since: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastPosition: Type.Union([Position, Type.Null()]),
});
const AvailabilityBody = Type.Object(
  { online: Type.Boolean(), vehicle: Type.Optional(Vehicle) },
  { additionalProperties: false },
);
export const LocationBody = Type.Object(
  {
    latitude: Type.Number({ minimum: -90, maximum: 90 }),
    longitude: Type.Number({ minimum: -180, maximum: 180 }),
    accuracyMeters: Type.Number({ minimum: 0, maximum: 10_000 }),
    recordedAt: Type.String({ format: 'date-time', maxLength: 40 }),
    heading: Type.Optional(Type.Number({ minimum: 0, maximum: 360 })),
    speedKmh: Type.Optional(Type.Number({ minimum: 0, maximum: 400 })),
  },
  { additionalProperties: false },
);
const FixResponse = Type.Object({
  status: Type.Literal('accepted'),
  recordedAt: Type.String({ format: 'date-time' }),
  nextAcceptedAt: Type.String({ format: 'date-time' }),
  usable: Type.Boolean(),
  toldOrders: Type.Array(Type.String()),
});

function driverOf(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  if (!principal.roles.includes('driver'))
    throw dispatchErrors.of('forbidden', 'not_a_driver', 'Only drivers have a shift and a position.');
  return principal;
}

export function registerDispatchRoutes(root: FastifyInstance, dispatch: DispatchService): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/v1/drivers/me', {
    config: { access: DRIVER },
    schema: {
      tags,
      summary: "The driver's shift: online or not, vehicle, last accepted position",
      security: [{ bearer: [] }],
      response: { 200: AvailabilityResponse, ...problems },
    },
    handler: async (request) => dispatch.availability(driverOf(request).userId),
  });

  app.put('/v1/drivers/me/availability', {
    config: { access: DRIVER },
    schema: {
      tags,
      summary: 'Go online or offline (a shift event); offline takes the driver out of the index at once',
      security: [{ bearer: [] }],
      body: AvailabilityBody,
      response: { 200: AvailabilityResponse, 400: ProblemSchema, ...problems },
    },
    handler: async (request) => dispatch.setAvailability(driverOf(request).userId, request.body),
  });

  app.put('/v1/drivers/me/location', {
    config: { access: DRIVER },
    schema: {
      tags,
      summary:
        "A position fix of a driver on shift: validated, indexed, told to the carried orders' followers",
      description:
        'At most one accepted fix per DISPATCH_LOCATION_MIN_INTERVAL_MS (sooner: 429 with Retry-After). A fix ' +
        'implying an impossible speed since the last one is flagged for review and not used (422).',
      security: [{ bearer: [] }],
      body: LocationBody,
      response: {
        200: FixResponse,
        400: ProblemSchema,
        409: ProblemSchema,
        422: ProblemSchema,
        429: ProblemSchema,
        ...problems,
      },
    },
    handler: async (request) => {
      const { userId } = driverOf(request);
      const body = request.body;
      return dispatch.submitFix(userId, {
        latitude: body.latitude,
        longitude: body.longitude,
        accuracyMeters: body.accuracyMeters,
        recordedAt: Date.parse(body.recordedAt),
        heading: body.heading,
        speedKmh: body.speedKmh,
      });
    },
  });

  app.get('/v1/admin/drivers/nearby', {
    config: { access: ADMIN },
    schema: {
      tags,
      summary: 'Online drivers with a fresh position near a point, nearest first',
      security: [{ bearer: [] }],
      querystring: Type.Object({
        latitude: Type.Number({ minimum: -MAX_LATITUDE, maximum: MAX_LATITUDE }),
        longitude: Type.Number({ minimum: -180, maximum: 180 }),
        radiusKm: Type.Number({ exclusiveMinimum: 0, maximum: 50, default: 5 }),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
      }),
      response: {
        200: Type.Object({
          items: Type.Array(
            Type.Object({
              driverId: Type.String(),
              latitude: Type.Number(),
              longitude: Type.Number(),
              distanceMeters: Type.Number(),
              updatedAt: Type.String({ format: 'date-time' }),
            }),
          ),
        }),
        400: ProblemSchema,
        ...problems,
      },
    },
    handler: async (request) => {
      const { latitude, longitude, radiusKm, limit } = request.query;
      const found = await dispatch.index.nearby({ latitude, longitude }, radiusKm, limit);
      return {
        items: found.map((driver) => ({
          driverId: driver.driverId,
          latitude: driver.latitude,
          longitude: driver.longitude,
          distanceMeters: Math.round(driver.distanceMeters),
          updatedAt: new Date(driver.updatedAt).toISOString(),
        })),
      };
    },
  });
}
