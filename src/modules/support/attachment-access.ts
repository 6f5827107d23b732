/**
 * Who may read a support attachment besides its uploader (files asks through its
 * `SupportAttachmentsPort`): the opener of a ticket it is attached to, on a message that is not
 * an internal note; the agent the ticket is assigned to; supervisors. Admins are files' own
 * rule. A plain agent reads only the attachments of their tickets, as they see only those.
 */
import { sql } from 'kysely';
import type { SupportDb } from './tables.js';

export function createAttachmentAccess(deps: {
  db: SupportDb;
  isSupervisor(userId: string): Promise<boolean>;
}) {
  async function mayRead(viewer: { userId: string; permissions: ReadonlySet<string> }, fileId: string) {
    const staff = viewer.permissions.has('TICKET_MANAGEMENT');
    const supervisor = staff && (await deps.isSupervisor(viewer.userId));
    const row = await deps.db
      .selectFrom('support_messages as message')
      .innerJoin('support_tickets as ticket', 'ticket.id', 'message.ticket_id')
      .select('message.id')
      // jsonb containment, served by the partial GIN index on attachments (migration
      // 2026-12-06T1526), whose predicate is repeated so the planner may use it.
      .where(sql<boolean>`message.attachments <> '[]'::jsonb`)
      .where(sql<boolean>`message.attachments @> jsonb_build_array(${fileId}::text)`)
      .where((eb) =>
        eb.or([
          eb.and([eb('ticket.opener_id', '=', viewer.userId), eb('message.internal', '=', false)]),
          ...(staff ? [eb('ticket.assignee_id', '=', viewer.userId)] : []),
          ...(supervisor ? [sql<boolean>`true`] : []),
        ]),
      )
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
  return { mayRead };
}
