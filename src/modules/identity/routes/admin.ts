import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { ROLES, type Permission, type Role } from '../../../http/access.js';
import type { UserRow } from '../repository.js';
import { actorOf, type IdentityRouteServices } from './common.js';
import { problems4xx } from './me.js';

const USER_MANAGEMENT = { permissions: ['USER_MANAGEMENT'] as Permission[] };
const SECURITY = { permissions: ['SECURITY_MONITORING'] as Permission[] };
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const RoleSchema = Type.Union(ROLES.map((role) => Type.Literal(role)));
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const AdminUser = Type.Object({
  id: Type.String(),
  phone: Nullable(Type.String()),
  email: Nullable(Type.String()),
  name: Nullable(Type.String()),
  roles: Type.Array(Type.String()),
  status: Type.String(),
  phoneVerified: Type.Boolean(),
  failedAttempts: Type.Integer(),
  lockedUntil: Nullable(Type.String()),
  lastLoginAt: Nullable(Type.String()),
  suspendedReason: Nullable(Type.String()),
  createdAt: Type.String(),
});

function adminUser(user: UserRow) {
  return {
    id: user.id,
    phone: user.phone,
    email: user.email,
    name: user.name,
    roles: user.roles,
    status: user.status,
    phoneVerified: user.phone_verified,
    failedAttempts: user.failed_attempts,
    lockedUntil: user.locked_until?.toISOString() ?? null,
    lastLoginAt: user.last_login_at?.toISOString() ?? null,
    suspendedReason: user.suspended_reason,
    createdAt: user.created_at.toISOString(),
  };
}

export function registerAdminRoutes(app: FastifyInstance, services: IdentityRouteServices): void {
  const { admin } = services.identity;

  app.get(
    '/v1/admin/users',
    {
      config: { access: USER_MANAGEMENT },
      schema: {
        tags: ['admin'],
        summary: 'Search users by phone, e-mail, name or id; newest first, cursor-paginated',
        querystring: Type.Object({
          q: Type.Optional(Type.String({ maxLength: 100 })),
          role: Type.Optional(RoleSchema),
          status: Type.Optional(
            Type.Union(
              ['pending_verification', 'guest', 'active', 'suspended', 'deleted'].map((status) =>
                Type.Literal(status),
              ),
            ),
          ),
          cursor: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
        }),
        response: {
          200: Type.Object({ items: Type.Array(AdminUser), nextCursor: Nullable(Type.String()) }),
          ...problems4xx,
        },
      },
    },
    async (request) => {
      const page = await admin.searchUsers(
        request.query as { q?: string; role?: Role; status?: string; cursor?: string; limit?: number },
      );
      return { items: page.items.map(adminUser), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/admin/users/:id',
    {
      config: { access: USER_MANAGEMENT },
      schema: {
        tags: ['admin'],
        summary:
          'One user (the view is audited: GET /v1/admin/audit-logs?subjectUserId=…&action=admin.user_viewed lists who looked)',
        params: IdParams,
        response: { 200: AdminUser, ...problems4xx },
      },
    },
    async (request) =>
      adminUser(await admin.viewUser((request.params as { id: string }).id, actorOf(request))),
  );

  app.put(
    '/v1/admin/users/:id/roles',
    {
      config: { access: USER_MANAGEMENT },
      schema: {
        tags: ['admin'],
        summary: 'Replace a user’s roles (audited; removed roles take effect at once)',
        params: IdParams,
        body: Type.Object(
          { roles: Type.Array(RoleSchema, { maxItems: ROLES.length, uniqueItems: true }) },
          { additionalProperties: false },
        ),
        response: { 200: AdminUser, ...problems4xx },
      },
    },
    async (request) =>
      adminUser(
        await admin.setRoles(
          (request.params as { id: string }).id,
          (request.body as { roles: Role[] }).roles,
          actorOf(request),
        ),
      ),
  );

  const action = (
    path: string,
    summary: string,
    run: (id: string, request: Parameters<typeof actorOf>[0]) => Promise<UserRow>,
    body?: ReturnType<typeof Type.Object>,
  ) =>
    app.post(
      `/v1/admin/users/:id/${path}`,
      {
        config: { access: USER_MANAGEMENT },
        ...(body === undefined
          ? { preValidation: async (request: { body: unknown }) => void (request.body ??= {}) }
          : {}),
        schema: {
          tags: ['admin'],
          summary,
          params: IdParams,
          body: body ?? Type.Object({}, { additionalProperties: false }),
          response: { 200: AdminUser, ...problems4xx },
        },
      },
      async (request) => adminUser(await run((request.params as { id: string }).id, request)),
    );

  action(
    'suspend',
    'Suspend a user: every session ends at once (audited)',
    (id, request) => admin.suspend(id, (request.body as { reason: string }).reason, actorOf(request)),
    Type.Object({ reason: Type.String({ minLength: 3, maxLength: 300 }) }, { additionalProperties: false }),
  );
  action('reactivate', 'Lift a suspension (audited)', (id, request) =>
    admin.reactivate(id, actorOf(request)),
  );
  action('unlock', 'Clear failed sign-ins and the lock (audited)', (id, request) =>
    admin.unlock(id, actorOf(request)),
  );
  action('logout', 'Force logout: end every session of the user (audited)', async (id, request) => {
    await admin.forceLogout(id, actorOf(request));
    return admin.getUser(id);
  });

  app.get(
    '/v1/admin/audit-logs',
    {
      config: { access: SECURITY },
      schema: {
        tags: ['admin'],
        summary: 'The audit log, newest first (PII masked), cursor-paginated',
        querystring: Type.Object({
          subjectUserId: Type.Optional(Type.String({ format: 'uuid' })),
          action: Type.Optional(Type.String({ maxLength: 80 })),
          cursor: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                at: Type.String(),
                actorKind: Type.String(),
                actorId: Nullable(Type.String()),
                subjectUserId: Nullable(Type.String()),
                action: Type.String(),
                resource: Nullable(Type.String()),
                oldValue: Type.Unknown(),
                newValue: Type.Unknown(),
                ipAddress: Nullable(Type.String()),
                userAgent: Nullable(Type.String()),
              }),
            ),
            nextCursor: Nullable(Type.String()),
          }),
          ...problems4xx,
        },
      },
    },
    async (request) => {
      const page = await admin.auditLog(
        request.query as { subjectUserId?: string; action?: string; cursor?: string; limit?: number },
      );
      return {
        items: page.items.map((line) => ({
          id: line.id.toString(),
          at: line.created_at.toISOString(),
          actorKind: line.actor_kind,
          actorId: line.actor_id,
          subjectUserId: line.subject_user_id,
          action: line.action,
          resource: line.resource,
          oldValue: line.old_value,
          newValue: line.new_value,
          ipAddress: line.ip_address,
          userAgent: line.user_agent,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.post(
    '/v1/admin/security/signing-keys/rotate',
    {
      config: { access: { ...SECURITY, stepUp: true } },
      preValidation: async (request) => void (request.body ??= {}),
      schema: {
        tags: ['admin'],
        summary:
          'Start a new access-token signing key now (step-up); old keys verify until their tokens expire',
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: Type.Object({ kid: Type.String() }), ...problems4xx },
      },
    },
    async (request) => ({ kid: await admin.rotateSigningKey(actorOf(request)) }),
  );
}
