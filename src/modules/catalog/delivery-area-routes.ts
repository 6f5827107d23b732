/**
 * A restaurant's own delivery area as H3 cells (issue #26): read, replaced whole (PUT: the same
 * body twice leaves the same area) and removed (DELETE: nothing left to remove is a 204 too), by
 * the restaurant's owner or an admin. docs/catalog.md, "A restaurant's own area".
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import type { Catalog } from './index.js';
import type { Caller } from './context.js';
import { DeliveryAreaBody, DeliveryAreaResponse, RestaurantParams } from './schemas.js';

const OWNER: RouteAccess = {
  permissions: ['RESTAURANT_MANAGEMENT', 'MENU_CRUD'],
  ownership: 'the owner of the restaurant (or an admin)',
};
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
};
const tags = ['catalog'];

export function registerDeliveryAreaRoutes(
  app: FastifyInstance,
  services: { catalog: Pick<Catalog, 'deliveryAreas'>; callerOf: (request: FastifyRequest) => Caller },
): void {
  const { catalog, callerOf } = services;

  app.get<{ Params: { id: string } }>(
    '/v1/restaurants/:id/delivery-area',
    {
      config: { access: OWNER },
      schema: {
        tags,
        summary: "The restaurant's own delivery area as H3 cells (owner or admin)",
        params: RestaurantParams,
        response: { 200: DeliveryAreaResponse, ...errors },
      },
    },
    async (request) => catalog.deliveryAreas.get(callerOf(request), request.params.id),
  );

  app.put<{
    Params: { id: string };
    Body: { polygon?: { latitude: number; longitude: number }[]; cells?: string[] };
  }>(
    '/v1/restaurants/:id/delivery-area',
    {
      config: { access: OWNER },
      schema: {
        tags,
        summary:
          "Set the restaurant's own delivery area: H3 cells, or an outline cut into cells, inside its city (owner or admin)",
        params: RestaurantParams,
        body: DeliveryAreaBody,
        response: { 200: DeliveryAreaResponse, ...errors },
      },
    },
    async (request) => catalog.deliveryAreas.set(callerOf(request), request.params.id, request.body),
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/restaurants/:id/delivery-area',
    {
      config: { access: OWNER },
      schema: {
        tags,
        summary: "Remove the restaurant's own delivery area: its radius and named zones alone again",
        params: RestaurantParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await catalog.deliveryAreas.clear(callerOf(request), request.params.id);
      return reply.code(204).send();
    },
  );
}
