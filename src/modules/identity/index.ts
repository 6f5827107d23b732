import type { ModuleRegistration } from '../index.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerGuestRoutes } from './routes/guest.js';
import { registerInternalRoutes } from './routes/internal.js';
import { registerMeRoutes } from './routes/me.js';
import { registerTwoFactorRoutes } from './routes/two-factor.js';

/**
 * The identity context's public API. Other contexts use (through `services.identity`):
 *   audit(entry, transaction?)                     append one line to the audit log
 *   grantRole(userId, role, actor) / revokeRole(…)  role changes, audited
 *   tokens.verify(token)                           for WebSocket handshakes
 * and, from this file, `identityAuthPlugin` (registered once at the app root by app.ts),
 * `maskPii`, `signRequest`/`verifyRequestSignature` and the route config flags.
 */
export {
  identityAuthPlugin,
  verifiedTokenOf,
  GATE_CODES,
  STEP_UP_WINDOW_MS,
  type RouteAccessEntry,
} from './auth-hook.js';
export { createIdentity, type Identity } from './service.js';
export { createAudit, maskPii, type Actor, type AuditEntry, type AuditFunction } from './audit.js';
export { normalizePhone, maskPhone } from './phone.js';
export { signRequest, canonicalRequest, SIGNATURE_MAX_SKEW_MS } from './signing.js';
export { ANY_SIGNED_IN } from './routes/me.js';
export { ACCESS_TOKEN_TTL_MS, TokenError, type VerifiedToken } from './tokens.js';

export const identityModule: ModuleRegistration = {
  name: 'identity',
  async plugin(app, { services }) {
    // GDPR erasure crypto-shreds the person's PII in events (DESIGN.md 8); subject = user id.
    services.identity.privacy.registerContributor({
      name: 'eventstore',
      erase: (userId) => services.eventStore.erasePersonalData(userId, { actorId: userId }),
    });
    for (const metric of services.identity.smsBudget.metrics) app.metricsRegistry.registerMetric(metric);
    registerAuthRoutes(app, services);
    registerMeRoutes(app, services);
    registerTwoFactorRoutes(app, services);
    registerGuestRoutes(app, services);
    registerAdminRoutes(app, services);
    registerInternalRoutes(app, services);
  },
};
