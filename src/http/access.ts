/**
 * Route access declarations (spec §2). Every `/v1` route declares `config.access`; a route
 * without one fails at start-up (default deny). Enforcement lives in the identity module's
 * authentication hook; ownership rules are checked by handlers and named here for the docs
 * and the authorization-matrix test.
 */
export const ROLES = ['guest', 'customer', 'restaurant_owner', 'driver', 'support', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS_BY_ROLE = {
  guest: ['READ_ONLY', 'CART_MANAGEMENT', 'GUEST_ORDER'],
  customer: [
    'READ_ONLY',
    'CART_MANAGEMENT',
    'GUEST_ORDER',
    'LOYALTY_PROGRAM',
    'WALLET_MANAGEMENT',
    'PROFILE_MANAGEMENT',
  ],
  restaurant_owner: ['RESTAURANT_MANAGEMENT', 'MENU_CRUD', 'ORDER_PROCESSING', 'FINANCIAL_REPORTS'],
  driver: ['ORDER_ACCEPTANCE', 'LOCATION_SHARING', 'EARNINGS_TRACKING'],
  support: ['TICKET_MANAGEMENT', 'CHAT_SUPPORT', 'ESCALATION_RIGHTS'],
  admin: ['FULL_SYSTEM_ACCESS', 'USER_MANAGEMENT', 'FINANCIAL_OVERSIGHT', 'SECURITY_MONITORING'],
} as const satisfies Record<Role, readonly string[]>;

export type Permission = (typeof PERMISSIONS_BY_ROLE)[Role][number];

export interface Principal {
  kind: 'user' | 'guest';
  userId: string;
  sessionId: string;
  roles: Role[];
  permissions: ReadonlySet<Permission>;
  /** True when the session completed a TOTP step-up recently (sensitive actions). */
  stepUpAt?: number;
  tokenId?: string;
}

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

export function permissionsForRoles(roles: readonly Role[]): Set<Permission> {
  const permissions = new Set<Permission>();
  for (const role of roles) for (const permission of PERMISSIONS_BY_ROLE[role]) permissions.add(permission);
  return permissions;
}

export function isAdmitted(principal: Principal, access: Exclude<RouteAccess, { public: true }>): boolean {
  if (principal.kind === 'guest' && access.allowGuest !== true) return false;
  if (principal.permissions.has('FULL_SYSTEM_ACCESS')) return true;
  return access.permissions.some((permission) => principal.permissions.has(permission));
}
