/**
 * Who is calling and what they may do (spec §2): the six roles, their permission sets, and the
 * principal a verified token yields. Shared kernel: identity issues principals, the HTTP edge
 * enforces route access with them (src/http/access.ts), and a context that decides by role reads
 * them, without importing the edge. It imports nothing.
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

export function permissionsForRoles(roles: readonly Role[]): Set<Permission> {
  const permissions = new Set<Permission>();
  for (const role of roles) for (const permission of PERMISSIONS_BY_ROLE[role]) permissions.add(permission);
  return permissions;
}
