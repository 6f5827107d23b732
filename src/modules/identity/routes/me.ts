import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { PERMISSIONS_BY_ROLE, type Permission, type Principal } from '../../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../../http/problem.js';
import type { AddressInput } from '../profile.js';
import type { AddressRecord } from '../repository.js';
import {
  NotificationPreferencesSchema,
  PublicUserSchema,
  toPublicUser,
  type NotificationPreferencesInput,
} from '../views.js';
import {
  emptyBodyAsObject,
  OtpCode,
  Password,
  Phone,
  requestContext,
  type IdentityRouteServices,
} from './common.js';
import { withIdempotency } from '../../../http/idempotency.js';

/** Every permission: any signed-in principal holds at least one, so "any signed-in user". */
export const ANY_SIGNED_IN: Permission[] = [
  ...new Set(Object.values(PERMISSIONS_BY_ROLE).flat()),
] as Permission[];

export const problems4xx = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
  429: ProblemSchema,
};

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return request.principal;
}

const SELF = 'self: the caller’s own account';
const ACCOUNT = { permissions: ANY_SIGNED_IN, ownership: SELF };
const ACCOUNT_OR_GUEST = { permissions: ANY_SIGNED_IN, allowGuest: true, ownership: SELF };
export const PROFILE = { permissions: ['PROFILE_MANAGEMENT'] as Permission[], ownership: SELF };
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const AddressFields = {
  label: Text(40),
  line1: Text(200),
  line2: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  city: Text(80),
  district: Type.Optional(Nullable(Type.String({ maxLength: 80 }))),
  landmark: Type.Optional(
    Nullable(Type.String({ maxLength: 200, description: 'e.g. "behind the Total station, Bonamoussadi"' })),
  ),
  latitude: Type.Optional(Nullable(Type.Number({ minimum: -90, maximum: 90 }))),
  longitude: Type.Optional(Nullable(Type.Number({ minimum: -180, maximum: 180 }))),
  instructions: Type.Optional(Nullable(Type.String({ maxLength: 300 }))),
  isDefault: Type.Optional(Type.Boolean()),
};
const AddressBody = Type.Object(AddressFields, { additionalProperties: false });
const AddressPatch = Type.Partial(AddressBody, { additionalProperties: false, minProperties: 1 });
export const Address = Type.Object({
  id: Type.String({ format: 'uuid' }),
  label: Type.String(),
  line1: Type.String(),
  line2: Nullable(Type.String()),
  city: Type.String(),
  district: Nullable(Type.String()),
  landmark: Nullable(Type.String()),
  latitude: Nullable(Type.Number()),
  longitude: Nullable(Type.Number()),
  instructions: Nullable(Type.String()),
  isDefault: Type.Boolean(),
});

export function addressOut(row: AddressRecord) {
  return {
    id: row.id,
    label: row.label,
    line1: row.line1,
    line2: row.line2,
    city: row.city,
    district: row.district,
    landmark: row.landmark,
    latitude: row.latitude,
    longitude: row.longitude,
    instructions: row.instructions,
    isDefault: row.is_default,
  };
}

const Session = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.String(),
  client: Type.String(),
  ipAddress: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  lastActivityAt: Type.String({ format: 'date-time' }),
  current: Type.Boolean(),
});

export function registerMeRoutes(app: FastifyInstance, services: IdentityRouteServices): void {
  const { identity } = services;
  const { profile, privacy, security } = identity;

  async function me(principal: Principal) {
    const user = await identity.repository.findUserById(principal.userId);
    if (user === undefined || user.status === 'deleted')
      throw new HttpProblem(404, 'not_found', 'The account no longer exists.');
    return toPublicUser(user, await identity.twoFactor.isEnabled(user.id));
  }

  app.get(
    '/v1/me',
    {
      config: { access: ACCOUNT_OR_GUEST },
      schema: { tags: ['me'], summary: 'My profile', response: { 200: PublicUserSchema, ...problems4xx } },
    },
    async (request) => me(principalOf(request)),
  );

  app.patch(
    '/v1/me',
    {
      config: { access: ACCOUNT },
      schema: {
        tags: ['me'],
        summary: 'Change my name, e-mail or language (the phone changes through /v1/me/phone)',
        body: Type.Object(
          {
            name: Type.Optional(Text(100)),
            email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
            locale: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: PublicUserSchema, ...problems4xx },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      await profile.update(
        principal,
        request.body as { name?: string; email?: string | null; locale?: 'fr' | 'en' },
        requestContext(request),
      );
      return me(principal);
    },
  );

  app.post(
    '/v1/me/password',
    {
      config: { access: ACCOUNT },
      schema: {
        tags: ['me'],
        summary: 'Change my password; my other sessions end',
        body: Type.Object(
          { currentPassword: Password, newPassword: Password },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...problems4xx },
      },
    },
    async (request, reply) => {
      await security.changePassword(
        principalOf(request),
        request.body as { currentPassword: string; newPassword: string },
        requestContext(request),
      );
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/me/phone',
    {
      config: { access: { ...ACCOUNT, stepUp: true } },
      schema: {
        tags: ['me'],
        summary: 'Start changing my phone number (step-up): a code goes to the new number',
        body: Type.Object(
          { phone: Phone, locale: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])) },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ status: Type.Literal('verification_sent'), expiresInSeconds: Type.Integer() }),
          ...problems4xx,
        },
      },
    },
    async (request, reply) => {
      const sent = await profile.requestPhoneChange(
        principalOf(request),
        request.body as { phone: string; locale?: string },
        requestContext(request),
      );
      reply.code(202);
      return { status: 'verification_sent' as const, expiresInSeconds: sent.expiresInSeconds };
    },
  );

  app.post(
    '/v1/me/phone/verify',
    {
      config: { access: { ...ACCOUNT, stepUp: true } },
      schema: {
        tags: ['me'],
        summary: 'Confirm the new phone number with its code (step-up); my other sessions end',
        body: Type.Object({ phone: Phone, code: OtpCode }, { additionalProperties: false }),
        response: { 200: PublicUserSchema, ...problems4xx },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      await profile.confirmPhoneChange(
        principal,
        request.body as { phone: string; code: string },
        requestContext(request),
      );
      return me(principal);
    },
  );

  registerAddressRoutes(app, services);

  app.get(
    '/v1/me/notification-preferences',
    {
      config: { access: PROFILE },
      schema: {
        tags: ['me'],
        summary: 'My notification preferences (push, SMS, e-mail by kind)',
        response: { 200: NotificationPreferencesSchema, ...problems4xx },
      },
    },
    async (request) => profile.preferences(principalOf(request)),
  );

  app.put(
    '/v1/me/notification-preferences',
    {
      config: { access: PROFILE },
      schema: {
        tags: ['me'],
        summary: 'Replace my notification preferences',
        body: NotificationPreferencesSchema,
        response: { 200: NotificationPreferencesSchema, ...problems4xx },
      },
    },
    async (request) =>
      profile.setPreferences(
        principalOf(request),
        request.body as NotificationPreferencesInput,
        requestContext(request),
      ),
  );

  app.get(
    '/v1/me/sessions',
    {
      config: { access: ACCOUNT_OR_GUEST },
      schema: {
        tags: ['me'],
        summary: 'My active sessions (at most 50, most recent first)',
        response: { 200: Type.Object({ items: Type.Array(Session) }), ...problems4xx },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const rows = await profile.listSessions(principal);
      return {
        items: rows.map((row) => ({
          id: row.id,
          kind: row.kind,
          client: row.client,
          ipAddress: row.ip_address,
          userAgent: row.user_agent,
          createdAt: row.created_at.toISOString(),
          lastActivityAt: row.last_activity_at.toISOString(),
          current: row.id === principal.sessionId,
        })),
      };
    },
  );

  app.delete(
    '/v1/me/sessions/:id',
    {
      config: { access: ACCOUNT_OR_GUEST },
      schema: {
        tags: ['me'],
        summary: 'End one of my sessions',
        params: IdParams,
        response: { 204: Type.Null(), ...problems4xx },
      },
    },
    async (request, reply) => {
      await profile.revokeSession(
        principalOf(request),
        (request.params as { id: string }).id,
        requestContext(request),
      );
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/me/export',
    {
      config: { access: ACCOUNT },
      schema: {
        tags: ['me'],
        summary: 'Everything held about me, as JSON (GDPR)',
        response: { 200: Type.Record(Type.String(), Type.Unknown()), ...problems4xx },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      reply.header('content-disposition', 'attachment; filename="my-data.json"');
      return privacy.export(principalOf(request));
    },
  );

  app.delete(
    '/v1/me',
    {
      config: { access: ACCOUNT_OR_GUEST },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['me'],
        summary: 'Delete my account: personal data is anonymised and crypto-shredded in events (GDPR)',
        body: Type.Object({ password: Type.Optional(Password) }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...problems4xx },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const password = (request.body as { password?: string } | undefined)?.password;
      if (principal.kind !== 'guest' && password === undefined) {
        throw new HttpProblem(400, 'password_required', 'Confirm the deletion with your password.');
      }
      await privacy.erase(principal, password ?? '', requestContext(request));
      return reply.code(204).send();
    },
  );
}

function registerAddressRoutes(app: FastifyInstance, services: IdentityRouteServices): void {
  const { profile } = services.identity;
  app.get(
    '/v1/me/addresses',
    {
      config: { access: PROFILE },
      schema: {
        tags: ['me'],
        summary: 'My delivery addresses (at most 20)',
        response: { 200: Type.Object({ items: Type.Array(Address) }), ...problems4xx },
      },
    },
    async (request) => ({ items: (await profile.listAddresses(principalOf(request))).map(addressOut) }),
  );

  app.post(
    '/v1/me/addresses',
    {
      config: { idempotency: 'optional', location: true, access: PROFILE },
      schema: {
        tags: ['me'],
        summary: 'Add a delivery address (accepts Idempotency-Key)',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 128 })) }),
        body: AddressBody,
        response: { 201: Address, ...problems4xx },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      return withIdempotency(
        services.runtime.database.db,
        request,
        reply,
        { scope: `identity.address:${principal.userId}` },
        async () => {
          const address = addressOut(await profile.addAddress(principal, request.body as AddressInput));
          reply.header('location', `/v1/me/addresses/${address.id}`);
          return { statusCode: 201, body: address };
        },
      );
    },
  );

  app.patch(
    '/v1/me/addresses/:id',
    {
      config: { access: PROFILE },
      schema: {
        tags: ['me'],
        summary: 'Change a delivery address',
        params: IdParams,
        body: AddressPatch,
        response: { 200: Address, ...problems4xx },
      },
    },
    async (request) =>
      addressOut(
        await profile.updateAddress(
          principalOf(request),
          (request.params as { id: string }).id,
          request.body as Partial<AddressInput>,
        ),
      ),
  );

  app.delete(
    '/v1/me/addresses/:id',
    {
      config: { access: PROFILE },
      schema: {
        tags: ['me'],
        summary: 'Remove a delivery address',
        params: IdParams,
        response: { 204: Type.Null(), ...problems4xx },
      },
    },
    async (request, reply) => {
      await profile.deleteAddress(principalOf(request), (request.params as { id: string }).id);
      return reply.code(204).send();
    },
  );
}
