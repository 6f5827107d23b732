/**
 * Vehicle maintenance plans (issue #20, docs/dispatch.md "Onboarding"): the driver's own, and an
 * administrator's view and change of a driver's (audited). The daily round reminds from them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { dispatchErrors } from './errors.js';
import type { Maintenance } from './maintenance.js';
import {
  INTERVAL_KM_MAX,
  INTERVAL_KM_MIN,
  ODOMETER_MAX_KM,
  type MaintenancePlan,
} from './maintenance-rules.js';
import type { OnboardingActor } from './onboarding.js';

const tags = ['drivers'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  422: ProblemSchema,
};
const DRIVER: RouteAccess = {
  permissions: ['LOCATION_SHARING'],
  ownership: 'the driver themselves (driver role)',
};
const ADMIN: RouteAccess = { permissions: ['USER_MANAGEMENT'], ownership: 'administrators' };

const Kilometres = (minimum: number, maximum: number) =>
  Type.Union([Type.Integer({ minimum, maximum }), Type.Null()]);
const PlanBody = Type.Object(
  {
    dueOn: Type.Union([Type.String({ format: 'date', maxLength: 10 }), Type.Null()]),
    intervalKm: Kilometres(INTERVAL_KM_MIN, INTERVAL_KM_MAX),
    lastServiceKm: Kilometres(0, ODOMETER_MAX_KM),
    odometerKm: Kilometres(0, ODOMETER_MAX_KM),
  },
  { additionalProperties: false },
);
const Plan = Type.Object({
  driverId: Type.String(),
  vehicle: Type.String(),
  plate: Type.Union([Type.String(), Type.Null()]),
  dueOn: Type.Union([Type.String(), Type.Null()]),
  intervalKm: Type.Union([Type.Integer(), Type.Null()]),
  lastServiceKm: Type.Union([Type.Integer(), Type.Null()]),
  odometerKm: Type.Union([Type.Integer(), Type.Null()]),
  nextServiceKm: Type.Union([Type.Integer(), Type.Null()]),
  updatedAt: Type.Union([Type.String(), Type.Null()]),
});
const UserParams = Type.Object({ userId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const DESCRIPTION =
  'A due date and/or a mileage interval from the last service (odometer readings in km). The driver is reminded 7 days before the date and on the day, and once the odometer reaches the last service plus the interval. PUT replaces the plan: the same body again changes nothing.';

function actorOf(request: FastifyRequest): OnboardingActor {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user')
    throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return {
    kind: 'user',
    userId: principal.userId,
    ip: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
    requestId: request.id,
  };
}
function driverIdOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user')
    throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  if (!principal.roles.includes('driver'))
    throw dispatchErrors.of('forbidden', 'not_a_driver', 'Only drivers have a vehicle to maintain.');
  return principal.userId;
}

export function registerMaintenanceRoutes(app: FastifyInstance, maintenance: Maintenance): void {
  app.get('/v1/drivers/me/vehicle/maintenance', {
    config: { access: DRIVER },
    schema: {
      tags,
      summary: "My vehicle's maintenance plan and the next service's mileage",
      response: { 200: Plan, ...errors },
    },
    handler: async (request) => maintenance.view(driverIdOf(request)),
  });

  app.put<{ Body: MaintenancePlan }>('/v1/drivers/me/vehicle/maintenance', {
    config: { access: DRIVER },
    schema: {
      tags,
      summary: "Set my vehicle's maintenance plan (due date, mileage interval, odometer)",
      description: DESCRIPTION,
      body: PlanBody,
      response: { 200: Plan, ...errors },
    },
    handler: async (request) => maintenance.set(driverIdOf(request), request.body, actorOf(request), false),
  });

  app.get<{ Params: { userId: string } }>('/v1/admin/drivers/:userId/vehicle/maintenance', {
    config: { access: ADMIN },
    schema: {
      tags,
      summary: "A driver's vehicle maintenance plan",
      params: UserParams,
      response: { 200: Plan, ...errors },
    },
    handler: async (request) => maintenance.view(request.params.userId),
  });

  app.put<{ Params: { userId: string }; Body: MaintenancePlan }>(
    '/v1/admin/drivers/:userId/vehicle/maintenance',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: "Set a driver's vehicle maintenance plan; audited",
        description: DESCRIPTION,
        params: UserParams,
        body: PlanBody,
        response: { 200: Plan, ...errors },
      },
      handler: async (request) =>
        maintenance.set(request.params.userId, request.body, actorOf(request), true),
    },
  );
}
