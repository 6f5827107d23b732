import { fieldCipherOf } from '../../platform/field-crypto.js';
import { encryptAddressesAtRest, encryptUsersAtRest } from './pii-backfill.js';
import type { FastifyInstance } from 'fastify';
import { defineContext, need, tablesOf } from '../../platform/context.js';
import type { Notifications } from '../notifications/index.js';
import { identityAuthPlugin } from './auth-hook.js';
import { roleChannels } from './channels.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerGuestRoutes } from './routes/guest.js';
import { LOGIN_ATTEMPTS_RETENTION_MS, registerInternalRoutes } from './routes/internal.js';
import { registerMeRoutes } from './routes/me.js';
import { registerAddressSyncRoutes } from './routes/sync.js';
import { registerPartnerKeyRoutes } from './routes/partner-keys.js';
import { registerSocialRoutes } from './routes/social.js';
import { registerTwoFactorRoutes } from './routes/two-factor.js';
import { identitySeedStep } from './seed.js';
import { createIdentity, type Identity } from './service.js';
import type { IdentityTables } from './tables.js';

/**
 * The identity context's public API. Other contexts use (by declaring `identity` in their needs):
 *   audit(entry, transaction?)                     append one line to the audit log
 *   grantRole(userId, role, actor) / revokeRole(…)  role changes, audited
 *   tokens.verify(token)                           for WebSocket handshakes
 * and, from this file, `maskPii`, `signRequest`/`verifyRequestSignature` and the route config
 * flags. It contributes the authentication hook over every route (`httpHooks`), the role
 * namespaces of the WebSocket API (channels.ts), and export and erasure over every context's
 * personal-data hook (privacy.ts).
 */
export {
  identityAuthPlugin,
  verifiedTokenOf,
  GATE_CODES,
  STEP_UP_WINDOW_MS,
  partnerOf,
  type RouteAccessEntry,
} from './auth-hook.js';
export { SOCIAL_PROVIDERS, type SocialProviderName } from './social-providers.js';
export { PARTNER_SCOPES, type PartnerCaller, type PartnerScope } from './partner-keys.js';
export { createIdentity, type Identity } from './service.js';
export { createAudit, maskPii, type Actor, type AuditEntry, type AuditFunction } from './audit.js';
export { signedInActorOf } from './routes/common.js';
export { normalizePhone, maskPhone } from './phone.js';
export { signRequest, canonicalRequest, SIGNATURE_MAX_SKEW_MS } from './signing.js';
export { ANY_SIGNED_IN } from './routes/me.js';
export { ACCESS_TOKEN_TTL_MS, TokenError, type VerifiedToken } from './tokens.js';

export { NAMESPACES, audiencesFor, type Namespace } from './channels.js';
export {
  preferencesOf,
  smsPreferencesAfter,
  DEFAULT_TIME_ZONE,
  type NotificationPreferences,
  type NotificationKind,
  type QuietHours,
} from './views.js';
export { DEMO_USERS } from './seed.js';

export const identityContext = defineContext({
  name: 'identity',
  needs: { notifications: need<Pick<Notifications, 'sms' | 'outbox'>>() },
  tables: tablesOf<IdentityTables>(),
  async create(platform, { notifications }) {
    const { runtime } = platform;
    const identity: Identity = createIdentity(runtime, platform.db, notifications, platform.personalData);
    // Before anything reads a user: encrypt rows written before encryption (or under an old key).
    await encryptUsersAtRest(platform.db, fieldCipherOf(runtime.config), runtime.logger);
    await encryptAddressesAtRest(platform.db, fieldCipherOf(runtime.config));
    const services = { identity, runtime };
    return {
      service: identity,
      async httpHooks(app: FastifyInstance) {
        await app.register(identityAuthPlugin, { services });
      },
      routes(app) {
        for (const metric of identity.smsBudget.metrics) app.metricsRegistry.registerMetric(metric);
        registerAuthRoutes(app, services);
        registerMeRoutes(app, services);
        registerAddressSyncRoutes(app, services);
        registerTwoFactorRoutes(app, services);
        registerGuestRoutes(app, services);
        registerAdminRoutes(app, services);
        registerInternalRoutes(app, services);
        registerPartnerKeyRoutes(app, services);
        registerSocialRoutes(app, services);
      },
      channels: roleChannels(identity.tokens),
      // Finishes erasures a crash interrupted (every instance ticks; each erasure is idempotent).
      schedules: [
        {
          name: 'partner-key-expiry-reminders',
          cron: '17 * * * *',
          run: async () => void (await identity.partnerKeys.remindExpiring()),
        },
        {
          name: 'erasure-sweep',
          cron: '*/5 * * * *',
          run: async () => void (await identity.privacy.resumeErasures()),
        },
      ],
      seed: { run: () => identitySeedStep.run(services) },
      // Sign-in attempts serve security monitoring for a while (docs/admin.md "Data retention");
      // expired refresh tokens, codes and reset tokens go with them (they are dead already).
      retention: [
        {
          kind: 'identity.login_attempts',
          description: 'sign-in attempts (and expired refresh tokens, codes and reset tokens)',
          defaultDays: LOGIN_ATTEMPTS_RETENTION_MS / 86_400_000,
          minimumDays: 30,
          async purge(before) {
            const purged = await identity.repository.purgeExpired({
              attemptsBefore: before,
              now: new Date(),
            });
            return Object.values(purged).reduce((sum, count) => sum + count, 0);
          },
        },
      ],
    };
  },
});
