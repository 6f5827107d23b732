/**
 * Which orders a support agent may see (orders and files ask through their `SupportOrderAccess`
 * port, a `later` need): supervisors (and admins) every order; a plain agent only the orders
 * named by tickets assigned to them, the spec's "limited data access". Support decides, as it
 * decides who sees a ticket.
 */
import type { SupportDb } from './tables.js';

/** The most orders a plain agent's list is narrowed to (their most recently changed tickets'). */
export const AGENT_ORDERS_MAX = 500;

export interface OrderViewer {
  userId: string;
  permissions: ReadonlySet<string>;
}

export function createOrderAccess(deps: { db: SupportDb; isSupervisor(userId: string): Promise<boolean> }) {
  const wide = async (viewer: OrderViewer) =>
    viewer.permissions.has('FULL_SYSTEM_ACCESS') ||
    (viewer.permissions.has('TICKET_MANAGEMENT') && (await deps.isSupervisor(viewer.userId)));

  return {
    /** May this staff member see the order? Supervisors and admins: yes; a plain agent: through a ticket of theirs. */
    async mayView(viewer: OrderViewer, orderId: string): Promise<boolean> {
      if (await wide(viewer)) return true;
      if (!viewer.permissions.has('TICKET_MANAGEMENT')) return false;
      const row = await deps.db
        .selectFrom('support_tickets')
        .select('id')
        .where('order_id', '=', orderId)
        .where('assignee_id', '=', viewer.userId)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
    /** The orders a staff member may list: `all`, or those of the tickets assigned to them. */
    async visibleOrders(viewer: OrderViewer): Promise<'all' | string[]> {
      if (await wide(viewer)) return 'all';
      if (!viewer.permissions.has('TICKET_MANAGEMENT')) return [];
      const rows = await deps.db
        .selectFrom('support_tickets')
        .select('order_id')
        .where('assignee_id', '=', viewer.userId)
        .where('order_id', 'is not', null)
        .orderBy('updated_at', 'desc')
        .limit(AGENT_ORDERS_MAX)
        .execute();
      return [...new Set(rows.map((row) => row.order_id!))];
    },
  };
}

export type SupportOrderAccess = ReturnType<typeof createOrderAccess>;
