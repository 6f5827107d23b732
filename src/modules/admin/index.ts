/**
 * The admin context (issue #23, docs/admin.md): the platform's run-time configuration and bulk
 * operations for admins. Feature flags (per role, a percentage of users by stable hashing, per
 * city) with an evaluation API other contexts may use (`featureFlags.isEnabled`); maintenance mode
 * (read-only for non-staff with a message; staff, sign-in and providers' webhooks go on) applied by
 * a hook over every route, the same on every instance within ADMIN_SETTINGS_CACHE_MS; and bulk
 * user actions (suspend, reinstate, log out) with a dry run and a result per user. Every change is
 * in identity's audit log.
 *
 * It needs identity's `admin` (suspension ends every session and revokes every token at once),
 * `repository` (user lookups) and `audit`.
 */
import { defineContext, need, tablesOf } from '../../platform/context.js';
import type { Identity } from '../identity/index.js';
import type { AdminIdentityPort } from './ports.js';
import { maintenanceHook, registerAdminRoutes } from './routes.js';
import { createAdminService, type AdminService } from './service.js';
import type { AdminTables } from './tables.js';

export type { AdminService, FeatureFlags } from './service.js';
export type { AdminIdentityPort } from './ports.js';
export { evaluateFlag, bucketOf, type FeatureFlag, type FlagSubject } from './rules.js';

export const adminContext = defineContext({
  name: 'admin',
  needs: { identity: need<Pick<Identity, 'admin' | 'audit' | 'repository'>>() },
  tables: tablesOf<AdminTables>(),
  create({ runtime, db }, { identity }) {
    const port: AdminIdentityPort = {
      async findUser(userId) {
        const user = await identity.repository.findUserById(userId);
        return user === undefined ? undefined : { id: user.id, status: user.status, roles: user.roles };
      },
      suspend: (userId, reason, actor) => identity.admin.suspend(userId, reason, actor),
      reinstate: (userId, actor) => identity.admin.reactivate(userId, actor),
      logout: (userId, actor) => identity.admin.forceLogout(userId, actor),
      audit: identity.audit,
    };
    const admin: AdminService = createAdminService({
      db,
      identity: port,
      settingsCacheMs: runtime.config.ADMIN_SETTINGS_CACHE_MS,
      logger: runtime.logger,
    });
    return {
      service: admin,
      async httpHooks(app) {
        await app.register(maintenanceHook, { admin });
      },
      routes: (app) => registerAdminRoutes(app, { admin, runtime }),
    };
  },
});
