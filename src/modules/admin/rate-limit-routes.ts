/**
 * API rate limits per tier at run time (docs/admin.md "Rate limits"): read them (the configured
 * figure, the admin's override, the one in force) and change them (audited).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import { signedInActorOf } from '../identity/index.js';
import { RATE_LIMIT_MAX, type RateLimitSettings } from './rate-limits.js';
import { RATE_LIMIT_TIERS, type RateLimitOverrides, type RateLimitTier } from './store.js';

const ADMINS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const tags = ['admin'];
const Max = Type.Union([Type.Integer({ minimum: 1, maximum: RATE_LIMIT_MAX }), Type.Null()]);
const Limits = Type.Object({
  tiers: Type.Array(
    Type.Object({
      tier: Type.String(),
      windowMs: Type.Integer(),
      configuredMax: Type.Integer(),
      overrideMax: Type.Union([Type.Integer(), Type.Null()]),
      max: Type.Integer(),
    }),
  ),
  enabled: Type.Boolean(),
  version: Type.Integer(),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export function registerRateLimitRoutes(
  root: FastifyInstance,
  rateLimits: RateLimitSettings,
  runtime: Runtime,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { config } = runtime;
  const tierOf = (tier: RateLimitTier) =>
    ({
      anonymous: { windowMs: config.RATE_LIMIT_WINDOW_MS, configuredMax: config.RATE_LIMIT_MAX_REQUESTS },
      user: { windowMs: config.RATE_LIMIT_WINDOW_MS, configuredMax: config.RATE_LIMIT_USER_MAX },
      auth: { windowMs: config.RATE_LIMIT_AUTH_WINDOW_MS, configuredMax: config.RATE_LIMIT_AUTH_MAX },
      payment: {
        windowMs: config.RATE_LIMIT_PAYMENT_WINDOW_MS,
        configuredMax: config.RATE_LIMIT_PAYMENT_MAX,
      },
    })[tier];
  const view = (stored: { overrides: RateLimitOverrides; version: number; updatedAt: Date | null }) => ({
    tiers: RATE_LIMIT_TIERS.map((tier) => {
      const figures = tierOf(tier);
      const override = stored.overrides[tier] ?? null;
      return { tier, ...figures, overrideMax: override, max: override ?? figures.configuredMax };
    }),
    enabled: config.RATE_LIMIT_ENABLED,
    version: stored.version,
    updatedAt: stored.updatedAt?.toISOString() ?? null,
  });

  app.get(
    '/v1/admin/rate-limits',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'The API rate-limit tiers: window, configured maximum, override, maximum in force',
        response: {
          200: Limits,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async () => view(await rateLimits.stored()),
  );

  app.put(
    '/v1/admin/rate-limits',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary:
          "Set (a number) or reset (null) tiers' maxima per window (audited; every instance within ADMIN_SETTINGS_CACHE_MS)",
        body: Type.Object(
          {
            limits: Type.Object(
              {
                anonymous: Type.Optional(Max),
                user: Type.Optional(Max),
                auth: Type.Optional(Max),
                payment: Type.Optional(Max),
              },
              { additionalProperties: false, minProperties: 1 },
            ),
            expectedVersion: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Limits,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          409: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request) => view(await rateLimits.set(request.body, signedInActorOf(request))),
  );
}
