/**
 * Profiles, badges and leaderboards (docs/community.md "Profiles, badges and challenges"):
 * `GET`/`PUT /v1/me/community` (the caller's own, from their token), and the public
 * `GET /v1/community/profiles/{pseudonym}` and `GET /v1/community/leaderboards`, which show public
 * profiles only and never a name, phone or id.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { cameroonMonth, LEADERBOARD_SIZE, type Achievements } from './achievements.js';

const OWN: RouteAccess = {
  permissions: ['PROFILE_MANAGEMENT'],
  ownership: "the caller's own community profile",
};
const PUBLIC = {
  public: true as const,
  description: 'anyone: public profiles only, by pseudonym',
};
const tags = ['community'];
const problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 429: ProblemSchema };
const PSEUDONYM = '^[A-Za-z]{2,12}-[0-9]{4}$';

const Badge = Type.Object({
  code: Type.String({ description: 'first_order, regular, gourmet, explorer' }),
  name: Type.String({ description: 'in the language asked (Accept-Language fr or en)' }),
  earnedAt: Type.String({ format: 'date-time' }),
});
const MineSchema = Type.Object({
  pseudonym: Type.String({ description: 'what others see; drawn once' }),
  public: Type.Boolean({ description: 'shown to others and on leaderboards (opt-in)' }),
  badges: Type.Array(Badge),
  completedOrders: Type.Integer(),
  challenge: Type.Union([
    Type.Object({
      month: Type.String({ description: 'YYYY-MM, Cameroon time' }),
      target: Type.Integer({ description: 'completed orders in the month' }),
      progress: Type.Integer(),
      rewardPoints: Type.Integer({ description: 'loyalty points booked when reached, once a month' }),
      achieved: Type.Boolean(),
    }),
    Type.Null(),
  ]),
});

const languageOf = (request: FastifyRequest): 'fr' | 'en' => {
  const header = request.headers['accept-language'];
  return typeof header === 'string' && /^\s*en\b/i.test(header) ? 'en' : 'fr';
};
const callerOf = (request: FastifyRequest): string => {
  const userId = request.principal?.userId;
  if (userId === undefined) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return userId;
};

export function registerAchievementRoutes(root: FastifyInstance, achievements: Achievements): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/v1/me/community',
    {
      config: { access: OWN },
      schema: {
        tags,
        summary: 'My community profile, badges and the month’s challenge (private until made public)',
        response: { 200: MineSchema, ...problems },
      },
    },
    async (request) => achievements.mine(callerOf(request), languageOf(request)),
  );

  app.put(
    '/v1/me/community',
    {
      config: { access: OWN },
      schema: {
        tags,
        summary: 'Make my community profile public or private (the pseudonym stays)',
        body: Type.Object({ public: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: MineSchema, ...problems },
      },
    },
    async (request) => achievements.setPublic(callerOf(request), request.body.public, languageOf(request)),
  );

  app.get(
    '/v1/community/profiles/:pseudonym',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: 'A public profile: pseudonym, month joined and badges',
        params: Type.Object({ pseudonym: Type.String({ pattern: PSEUDONYM, maxLength: 17 }) }),
        response: {
          200: Type.Object({
            pseudonym: Type.String(),
            memberSince: Type.String({ description: 'YYYY-MM' }),
            badges: Type.Array(Badge),
          }),
          404: ProblemSchema,
          ...problems,
        },
      },
    },
    async (request) => {
      const profile = await achievements.publicProfile(request.params.pseudonym, languageOf(request));
      if (profile === undefined)
        throw new HttpProblem(404, 'profile_not_found', 'There is no public profile by this name.');
      return profile;
    },
  );

  app.get(
    '/v1/community/leaderboards',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: `The month’s ${LEADERBOARD_SIZE} most frequent customers of a city (public profiles, by pseudonym)`,
        querystring: Type.Object(
          {
            city: Type.String({ minLength: 1, maxLength: 80, pattern: '\\S' }),
            month: Type.Optional(
              Type.String({
                pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$',
                description: 'YYYY-MM; this month by default',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            city: Type.String({ description: 'as compared: trimmed, lower case' }),
            month: Type.String(),
            items: Type.Array(
              Type.Object({
                rank: Type.Integer({ description: 'equal counts share a rank' }),
                pseudonym: Type.String(),
                orders: Type.Integer({ description: 'completed orders in the city that month' }),
              }),
              { maxItems: LEADERBOARD_SIZE },
            ),
          }),
          ...problems,
        },
      },
    },
    async (request) =>
      achievements.leaderboard(request.query.city, request.query.month ?? cameroonMonth(new Date())),
  );
}
