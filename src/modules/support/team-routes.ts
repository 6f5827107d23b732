/**
 * Admin routes of the team mappings (team-routing.ts): which team a new ticket of a category
 * (in a city, or everywhere) goes to first. Admins only, audited.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import { TEAM_PATTERN } from './agents.js';
import { callerOf } from './routes.js';
import type { SupportService } from './service.js';
import { CATEGORIES } from './tables.js';
import { TEAM_ROUTES_MAX } from './team-routing.js';

const tags = ['support'];
const ADMIN: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'], ownership: 'admins' };
const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };

const Category = Type.Union(
  CATEGORIES.map((category) => Type.Literal(category)),
  { description: CATEGORIES.join(', ') },
);
const Params = Type.Object({ category: Category }, { additionalProperties: false });
const Query = Type.Object(
  {
    cityId: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9][a-z0-9-]{1,39}$',
        description: 'a known city id (`douala`); absent: the mapping for every city without its own',
      }),
    ),
  },
  { additionalProperties: false },
);
const Body = Type.Object(
  {
    team: Type.String({
      pattern: TEAM_PATTERN,
      maxLength: 40,
      description: 'a team slug, as set on agents (`douala-finance`)',
    }),
  },
  { additionalProperties: false },
);
const Route = Type.Object({
  category: Type.String({ description: CATEGORIES.join(', ') }),
  cityId: Type.Union([Type.String(), Type.Null()]),
  team: Type.String(),
  updatedAt: Type.String({ format: 'date-time' }),
});

export function registerTeamRoutes(app: FastifyInstance, support: SupportService): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get(
    '/v1/admin/support/team-routes',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: `The teams new tickets go to first, per category and city (at most ${TEAM_ROUTES_MAX})`,
        response: {
          200: Type.Object({ routes: Type.Array(Route) }),
          401: ProblemSchema,
          403: ProblemSchema,
        },
      },
    },
    async () => ({ routes: await support.teamRouting.list() }),
  );
  typed.put(
    '/v1/admin/support/team-routes/:category',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary:
          "Send new tickets of a category (in a city, with cityId) to a team's available agents first (audited)",
        params: Params,
        querystring: Query,
        body: Body,
        response: { 200: Route, ...errors },
      },
    },
    async (request) =>
      support.teamRouting.put(
        callerOf(request).actor,
        request.params.category,
        request.query.cityId ?? null,
        request.body.team,
      ),
  );
  typed.delete(
    '/v1/admin/support/team-routes/:category',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'Remove the team mapping of a category (in a city, with cityId) (audited)',
        params: Params,
        querystring: Query,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await support.teamRouting.remove(
        callerOf(request).actor,
        request.params.category,
        request.query.cityId ?? null,
      );
      return reply.status(204).send(null);
    },
  );
}
