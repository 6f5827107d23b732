/** The support context's SQL, against its own tables alone. Texts arrive here already encrypted. */
import { sql, type Insertable, type Selectable, type Transaction, type Updateable } from 'kysely';
import { ACTIVE_STATUSES } from './tables.js';
import type {
  Priority,
  SupportDb,
  SupportMessagesTable,
  SupportTables,
  SupportTicketsTable,
  TicketStatus,
} from './tables.js';

export type TicketRow = Selectable<SupportTicketsTable>;
export type MessageRow = Selectable<SupportMessagesTable>;
export type NewTicketRow = Insertable<SupportTicketsTable>;
export type NewMessageRow = Omit<Insertable<SupportMessagesTable>, 'attachments'> & { attachments: string[] };

/** The most messages one ticket shows (the read stays bounded; a ticket past it is a chat, later). */
export const MESSAGES_MAX = 500;

export interface QueueFilter {
  status?: TicketStatus;
  priority?: Priority;
  assignee?: string;
}

type Executor = SupportDb | Transaction<SupportTables>;

function insertMessage(db: Executor, row: NewMessageRow) {
  return db
    .insertInto('support_messages')
    .values({ ...row, attachments: JSON.stringify(row.attachments) })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function createSupportRepository(db: SupportDb) {
  return {
    /** The ticket and its first message in one transaction; false when the id already exists (a retry). */
    async openTicket(ticket: NewTicketRow, first: NewMessageRow): Promise<boolean> {
      return db.transaction().execute(async (transaction) => {
        const inserted = await transaction
          .insertInto('support_tickets')
          .values(ticket)
          .onConflict((conflict) => conflict.doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted === undefined) return false;
        await insertMessage(transaction, first);
        return true;
      });
    },

    find: (id: string): Promise<TicketRow | undefined> =>
      db.selectFrom('support_tickets').selectAll().where('id', '=', id).executeTakeFirst(),

    async messages(ticketId: string, withInternal: boolean): Promise<MessageRow[]> {
      return db
        .selectFrom('support_messages')
        .selectAll()
        .where('ticket_id', '=', ticketId)
        .$if(!withInternal, (query) => query.where('internal', '=', false))
        .orderBy('position')
        .limit(MESSAGES_MAX)
        .execute();
    },

    /** Messages after a position (all when null), oldest first. */
    async messagesAfter(
      ticketId: string,
      withInternal: boolean,
      afterPosition: bigint | string | null,
      limit: number,
    ): Promise<MessageRow[]> {
      return db
        .selectFrom('support_messages')
        .selectAll()
        .where('ticket_id', '=', ticketId)
        .$if(!withInternal, (query) => query.where('internal', '=', false))
        .$if(afterPosition !== null, (query) => query.where('position', '>', String(afterPosition)))
        .orderBy('position')
        .limit(limit)
        .execute();
    },

    /** Moves one side's read marker forward to a message; false when it already stood there or later. */
    async markRead(
      ticketId: string,
      side: 'opener' | 'staff',
      position: bigint | string,
      messageId: string,
    ): Promise<boolean> {
      const column = side === 'opener' ? 'opener_read_position' : 'staff_read_position';
      const idColumn = side === 'opener' ? 'opener_read_message_id' : 'staff_read_message_id';
      const updated = await db
        .updateTable('support_tickets')
        .set({ [column]: String(position), [idColumn]: messageId })
        .where('id', '=', ticketId)
        .where((eb) =>
          eb.or([eb(column, 'is', null), eb(column, '<', sql<bigint>`${String(position)}::bigint`)]),
        )
        .executeTakeFirst();
      return updated.numUpdatedRows > 0n;
    },

    /** Open tickets with a breach not yet alerted, soonest due first (bounded). */
    async breachCandidates(now: Date, limit: number): Promise<TicketRow[]> {
      return db
        .selectFrom('support_tickets')
        .selectAll()
        .where('status', 'in', ['open', 'escalated'])
        .where((eb) =>
          eb.or([
            eb.and([
              eb('first_responded_at', 'is', null),
              eb('first_response_alerted_at', 'is', null),
              eb('first_response_due_at', '<=', now),
            ]),
            eb.and([eb('sla_alerted_at', 'is', null), eb('sla_due_at', '<=', now)]),
          ]),
        )
        .orderBy('sla_due_at')
        .limit(limit)
        .execute();
    },

    /** Claims one breach's alert; false when another run (or instance) already did. */
    async claimAlert(ticketId: string, breach: 'first_response' | 'resolution', at: Date): Promise<boolean> {
      const column = breach === 'first_response' ? 'first_response_alerted_at' : 'sla_alerted_at';
      const updated = await db
        .updateTable('support_tickets')
        .set({ [column]: at })
        .where('id', '=', ticketId)
        .where(column, 'is', null)
        .executeTakeFirst();
      return updated.numUpdatedRows > 0n;
    },

    /** The person's most recently changed open or pending ticket changed since `since`. */
    /** The opener's open or pending ticket about an order, if any. */
    activeOnOrder: (openerId: string, orderId: string): Promise<TicketRow | undefined> =>
      db
        .selectFrom('support_tickets')
        .selectAll()
        .where('opener_id', '=', openerId)
        .where('order_id', '=', orderId)
        .where('status', 'in', [...ACTIVE_STATUSES])
        .orderBy('updated_at', 'desc')
        .limit(1)
        .executeTakeFirst(),

    /** The opener's ticket whose id begins with `prefix` (8 hex digits: a reference), if one. */
    openerTicketByPrefix: (openerId: string, prefix: string): Promise<TicketRow | undefined> =>
      db
        .selectFrom('support_tickets')
        .selectAll()
        .where('opener_id', '=', openerId)
        .where(sql<boolean>`id::text like ${`${prefix.toLowerCase()}%`}`)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst(),

    latestActiveOf: (openerId: string, since: Date): Promise<TicketRow | undefined> =>
      db
        .selectFrom('support_tickets')
        .selectAll()
        .where('opener_id', '=', openerId)
        .where('status', 'in', [...ACTIVE_STATUSES])
        .where('updated_at', '>=', since)
        .orderBy('updated_at', 'desc')
        .limit(1)
        .executeTakeFirst(),

    async messageCount(ticketId: string): Promise<number> {
      const row = await db
        .selectFrom('support_messages')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('ticket_id', '=', ticketId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    /**
     * Adds a message and applies the ticket change it brings (an opener's answer reopens a pending
     * ticket), in one transaction. Undefined when the message id already exists (a retry).
     */
    async addMessage(
      row: NewMessageRow,
      change: Updateable<SupportTicketsTable> | undefined,
    ): Promise<MessageRow | undefined> {
      return db.transaction().execute(async (transaction) => {
        const inserted = await insertMessage(transaction, row);
        if (inserted === undefined) return undefined;
        await transaction
          .updateTable('support_tickets')
          .set((eb) => ({ ...change, version: eb('version', '+', 1), updated_at: sql`now()` }))
          .where('id', '=', row.ticket_id)
          .execute();
        return inserted;
      });
    },

    findMessage: (id: string): Promise<MessageRow | undefined> =>
      db.selectFrom('support_messages').selectAll().where('id', '=', id).executeTakeFirst(),

    /** Changes the ticket only if it is still as read (`expected`); undefined when someone got there first. */
    async update(
      id: string,
      expected: { version: number },
      change: Updateable<SupportTicketsTable>,
    ): Promise<TicketRow | undefined> {
      return db
        .updateTable('support_tickets')
        .set({ ...change, version: expected.version + 1, updated_at: sql`now()` })
        .where('id', '=', id)
        .where('version', '=', expected.version)
        .returningAll()
        .executeTakeFirst();
    },

    /** The opener's tickets, newest first, after the cursor. */
    async byOpener(
      openerId: string,
      after: { createdAt: Date; id: string } | undefined,
      limit: number,
    ): Promise<TicketRow[]> {
      return db
        .selectFrom('support_tickets')
        .selectAll()
        .where('opener_id', '=', openerId)
        .$if(after !== undefined, (query) =>
          query.where(({ eb, refTuple, tuple }) =>
            eb(refTuple('created_at', 'id'), '<', tuple(after!.createdAt, after!.id)),
          ),
        )
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
    },

    /** The staff queue: by SLA due time (soonest first), then id, after the cursor. */
    async queue(
      filter: QueueFilter,
      after: { dueAt: Date; id: string } | undefined,
      limit: number,
    ): Promise<TicketRow[]> {
      return db
        .selectFrom('support_tickets')
        .selectAll()
        .$if(filter.status === undefined, (query) => query.where('status', 'in', [...ACTIVE_STATUSES]))
        .$if(filter.status !== undefined, (query) => query.where('status', '=', filter.status!))
        .$if(filter.priority !== undefined, (query) => query.where('priority', '=', filter.priority!))
        .$if(filter.assignee !== undefined, (query) => query.where('assignee_id', '=', filter.assignee!))
        .$if(after !== undefined, (query) =>
          query.where(({ eb, refTuple, tuple }) =>
            eb(refTuple('sla_due_at', 'id'), '>', tuple(after!.dueAt, after!.id)),
          ),
        )
        .orderBy('sla_due_at')
        .orderBy('id')
        .limit(limit)
        .execute();
    },

    /** A person's tickets (bounded) and the messages they can see on them, for export. */
    async exportOf(
      openerId: string,
      limit: number,
    ): Promise<{ tickets: TicketRow[]; messages: MessageRow[] }> {
      const tickets = await db
        .selectFrom('support_tickets')
        .selectAll()
        .where('opener_id', '=', openerId)
        .orderBy('created_at')
        .limit(limit)
        .execute();
      const messages =
        tickets.length === 0
          ? []
          : await db
              .selectFrom('support_messages')
              .selectAll()
              .where(
                'ticket_id',
                'in',
                tickets.map((ticket) => ticket.id),
              )
              .where('internal', '=', false)
              .orderBy('position')
              .limit(limit * 20)
              .execute();
      return { tickets, messages };
    },

    /**
     * Erasure: the subjects and every message body of the person's tickets (staff replies and notes
     * about them included), and the bodies of messages they wrote elsewhere. Idempotent.
     */
    async erase(userId: string): Promise<{ tickets: number; messages: number }> {
      return db.transaction().execute(async (transaction) => {
        const tickets = await transaction
          .updateTable('support_tickets')
          .set({ subject: null, erased_at: sql`now()` })
          .where('opener_id', '=', userId)
          .where('erased_at', 'is', null)
          .returning('id')
          .execute();
        const messages = await transaction
          .updateTable('support_messages')
          .set({ body: null, attachments: '[]' })
          .where((eb) =>
            eb.or([
              eb('author_id', '=', userId),
              eb(
                'ticket_id',
                'in',
                eb.selectFrom('support_tickets').select('id').where('opener_id', '=', userId),
              ),
            ]),
          )
          .where('body', 'is not', null)
          .executeTakeFirst();
        return { tickets: tickets.length, messages: Number(messages.numUpdatedRows) };
      });
    },
  };
}

export type SupportRepository = ReturnType<typeof createSupportRepository>;
