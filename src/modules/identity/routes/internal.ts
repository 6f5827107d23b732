import type { FastifyInstance } from 'fastify';
import type { IdentityRouteServices } from './common.js';
import Type from 'typebox';
import { ProblemSchema } from '../../../http/problem.js';

/** Login attempts are kept this long for security monitoring, then purged (data retention). */
export const LOGIN_ATTEMPTS_RETENTION_MS = 90 * 24 * 3_600_000;

/**
 * Server-to-server routes, called by the job runner, never by apps: no user token, an HMAC
 * request signature instead (identity/signing.ts, `config.requestSignature`).
 */
export function registerInternalRoutes(app: FastifyInstance, services: IdentityRouteServices): void {
  const { identity } = services;
  app.post(
    '/v1/internal/identity/purge',
    {
      config: {
        access: { public: true, description: 'server-to-server: HMAC-SHA256 request signature required' },
        requestSignature: true,
        rateLimit: false,
      },
      preValidation: async (request) => void (request.body ??= {}),
      schema: {
        tags: ['internal'],
        summary:
          'Purge expired refresh tokens, codes, reset tokens and old login attempts (signed job callback)',
        body: Type.Object({}, { additionalProperties: false }),
        response: {
          200: Type.Object({
            refreshTokens: Type.Integer(),
            phoneCodes: Type.Integer(),
            passwordResets: Type.Integer(),
            loginAttempts: Type.Integer(),
          }),
          400: ProblemSchema,
          401: ProblemSchema,
        },
      },
    },
    async () => {
      const now = new Date();
      const purged = await identity.repository.purgeExpired({
        now,
        attemptsBefore: new Date(now.getTime() - LOGIN_ATTEMPTS_RETENTION_MS),
      });
      await identity.audit({
        action: 'maintenance.identity_purged',
        actor: { kind: 'system' },
        newValue: purged,
      });
      return purged;
    },
  );
}
