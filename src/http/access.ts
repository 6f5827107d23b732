/**
 * Route access declarations (spec §2). Every `/v1` route declares `config.access`; a route
 * without one fails at start-up (default deny). Roles, permissions and the principal are in
 * src/shared/principal.ts (re-exported here for the route files). Enforcement lives in the identity module's
 * authentication hook; ownership rules are checked by handlers and named here for the docs
 * and the authorization-matrix test.
 */
export {
  PERMISSIONS_BY_ROLE,
  ROLES,
  permissionsForRoles,
  type Permission,
  type Principal,
  type Role,
} from '../shared/principal.js';
import type { Permission, Principal } from '../shared/principal.js';

export type RouteAccess =
  | { public: true; description?: string }
  | {
      /** Any one of these permissions admits the caller; FULL_SYSTEM_ACCESS admits every route. */
      permissions: Permission[];
      /** The ownership rule the handler enforces, in words (for docs and the matrix test). */
      ownership?: string;
      /** Admit guest sessions (phone verified by OTP) as well as users. */
      allowGuest?: boolean;
      /** Require a recent TOTP step-up (spec §3: changing phone, payout destination, approvals). */
      stepUp?: boolean;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function isAdmitted(principal: Principal, access: Exclude<RouteAccess, { public: true }>): boolean {
  if (principal.kind === 'guest' && access.allowGuest !== true) return false;
  if (principal.permissions.has('FULL_SYSTEM_ACCESS')) return true;
  return access.permissions.some((permission) => principal.permissions.has(permission));
}
