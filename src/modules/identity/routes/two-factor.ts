import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import {
  emptyBodyAsObject,
  OtpCode,
  Password,
  requestContext,
  TotpOrBackupCode,
  type IdentityRouteServices,
} from './common.js';
import { ANY_SIGNED_IN, principalOf, problems4xx } from './me.js';

const SIGNED_IN = { permissions: ANY_SIGNED_IN, ownership: 'self: the caller’s own account' };
const AccessToken = {
  accessToken: Type.String(),
  accessTokenExpiresAt: Type.String({ format: 'date-time' }),
};

export function registerTwoFactorRoutes(app: FastifyInstance, services: IdentityRouteServices): void {
  const { security } = services.identity;

  app.post(
    '/v1/auth/2fa/setup',
    {
      config: { access: SIGNED_IN, allowWithoutTwoFactor: true },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['auth'],
        summary: 'Start TOTP set-up: returns the secret and the otpauth:// URL for a QR code',
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: Type.Object({ secret: Type.String(), otpauthUrl: Type.String() }), ...problems4xx },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return security.setupTwoFactor(principalOf(request), requestContext(request));
    },
  );

  app.post(
    '/v1/auth/2fa/enable',
    {
      config: { access: SIGNED_IN, allowWithoutTwoFactor: true },
      schema: {
        tags: ['auth'],
        summary:
          'Enable TOTP with a current code; returns single-use backup codes (shown once) and a new access token',
        body: Type.Object({ code: OtpCode }, { additionalProperties: false }),
        response: {
          200: Type.Object({ backupCodes: Type.Array(Type.String()), ...AccessToken }),
          ...problems4xx,
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { backupCodes, accessToken, accessTokenExpiresAt } = await security.enableTwoFactor(
        principalOf(request),
        (request.body as { code: string }).code,
        requestContext(request),
      );
      return { backupCodes, accessToken, accessTokenExpiresAt: accessTokenExpiresAt.toISOString() };
    },
  );

  app.post(
    '/v1/auth/2fa/disable',
    {
      config: { access: SIGNED_IN },
      schema: {
        tags: ['auth'],
        summary: 'Disable TOTP with the password and a code (refused for admins)',
        body: Type.Object({ password: Password, code: TotpOrBackupCode }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...problems4xx },
      },
    },
    async (request, reply) => {
      await security.disableTwoFactor(
        principalOf(request),
        request.body as { password: string; code: string },
        requestContext(request),
      );
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/auth/step-up',
    {
      config: { access: SIGNED_IN },
      schema: {
        tags: ['auth'],
        summary:
          'Confirm a sensitive action (TOTP code, or password without 2FA); the new token passes step-up routes for 5 minutes',
        body: Type.Object(
          { code: Type.Optional(TotpOrBackupCode), password: Type.Optional(Password) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object(AccessToken), ...problems4xx },
      },
    },
    async (request) => {
      const issued = await security.stepUp(
        principalOf(request),
        request.body as { code?: string; password?: string },
        requestContext(request),
      );
      return {
        accessToken: issued.accessToken,
        accessTokenExpiresAt: issued.accessTokenExpiresAt.toISOString(),
      };
    },
  );
}
