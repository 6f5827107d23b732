import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { PERMISSIONS_BY_ROLE, type Permission, type Principal } from '../../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../../http/problem.js';
import type { Services } from '../../../services.js';
import { PublicUserSchema, toPublicUser } from '../views.js';

/** Every permission: any signed-in principal holds at least one, so "any signed-in user". */
export const ANY_SIGNED_IN: Permission[] = [...new Set(Object.values(PERMISSIONS_BY_ROLE).flat())] as Permission[];

export const problems4xx = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema, 429: ProblemSchema };

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return request.principal;
}

export function registerMeRoutes(app: FastifyInstance, services: Services): void {
  const { identity } = services;

  app.get(
    '/v1/me',
    {
      config: { access: { permissions: ANY_SIGNED_IN, allowGuest: true, ownership: 'self: the caller’s own account' } },
      schema: {
        tags: ['me'],
        summary: 'My profile',
        response: { 200: PublicUserSchema, ...problems4xx },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const user = await identity.repository.findUserById(principal.userId);
      if (user === undefined || user.status === 'deleted') throw new HttpProblem(404, 'not_found', 'The account no longer exists.');
      return toPublicUser(user, await identity.twoFactor.isEnabled(user.id));
    },
  );
}
