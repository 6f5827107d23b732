/**
 * The role namespaces of the WebSocket API (spec §8.1): which audiences (src/realtime/audiences.ts)
 * a signed-in person may hear on each, decided at the upgrade from the access token. Publishers
 * (orders today) address those audiences; the transport delivers.
 *
 *  - Authenticated at the upgrade: `?access_token=` (browsers cannot set headers on a WebSocket)
 *    or `Authorization: Bearer`; a missing or bad token is 401 and the wrong role 403.
 *  - Channels without a producer yet (promotions, customer-messages,
 *    route-updates, earnings-updates, system-alerts, new-tickets, customer-chat) are declared for
 *    the clients.
 */
import type { Principal } from '../../shared/principal.js';
import { audiences, type ChannelEndpoint, type ChannelRequest } from '../../realtime/index.js';
import { domainErrors } from '../../shared/errors.js';
import type { TokenService } from './tokens.js';

export const NAMESPACES = {
  customer: ['order-updates', 'driver-location', 'promotions'],
  restaurant: ['new-orders', 'driver-assigned', 'customer-messages', 'order-updates', 'inventory-alerts'],
  driver: ['order-assignments', 'route-updates', 'earnings-updates'],
  admin: ['system-alerts', 'live-analytics', 'support-tickets'],
  support: ['new-tickets', 'customer-chat', 'escalations'],
} as const;
export type Namespace = keyof typeof NAMESPACES;

const errors = domainErrors('identity');

export function audiencesFor(namespace: Namespace, principal: Principal): string[] | undefined {
  const has = (permission: string) =>
    principal.permissions.has(permission as never) || principal.permissions.has('FULL_SYSTEM_ACCESS');
  switch (namespace) {
    case 'customer':
      return [audiences.customer(principal.userId)];
    case 'restaurant':
      return has('ORDER_PROCESSING') ? [audiences.owner(principal.userId)] : undefined;
    case 'driver':
      return has('ORDER_ACCEPTANCE') ? [audiences.drivers, audiences.driver(principal.userId)] : undefined;
    case 'admin':
      return principal.permissions.has('FULL_SYSTEM_ACCESS') ? [audiences.admin] : undefined;
    case 'support':
      return has('TICKET_MANAGEMENT') ? [audiences.support, audiences.agent(principal.userId)] : undefined;
    default: {
      const exhaustive: never = namespace;
      throw new Error(`unknown namespace ${String(exhaustive)}`);
    }
  }
}

function tokenOf(request: ChannelRequest): string | undefined {
  if (typeof request.query.access_token === 'string') return request.query.access_token;
  const match = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/** `/ws/customer`, `/ws/restaurant`, `/ws/driver`, `/ws/admin`, `/ws/support`. */
export function roleChannels(tokens: Pick<TokenService, 'verify'>): ChannelEndpoint[] {
  return (Object.keys(NAMESPACES) as Namespace[]).map((namespace) => ({
    path: `/ws/${namespace}`,
    async audiencesOf(request) {
      const token = tokenOf(request);
      if (token === undefined)
        throw errors.unauthorized('Send the access token as ?access_token= or Authorization: Bearer.');
      let principal: Principal;
      try {
        principal = (await tokens.verify(token)).principal;
      } catch {
        throw errors.of('unauthorized', 'invalid_token', 'The access token is not valid.');
      }
      const allowed = audiencesFor(namespace, principal);
      if (allowed === undefined)
        throw errors.of('forbidden', 'permission_denied', `Your role cannot open /ws/${namespace}.`);
      return allowed;
    },
  }));
}
