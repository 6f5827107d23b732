/**
 * The support context's service: tickets opened by a customer, restaurant owner or driver
 * (optionally about one of their orders), messages (staff notes visible to staff only), the
 * opener's list and the staff queue by SLA due time, the workflow (open → pending → resolved →
 * closed, reopen within the window, assignment, escalation) and the order's dispute opened
 * through orders' own command. Subjects and bodies are encrypted at rest; every change is audited
 * and published to the opener (and the support audience) on the real-time bus.
 */
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { FieldCipher } from '../../platform/field-crypto.js';
import { audiences, type RealtimeBus } from '../../realtime/index.js';
import { isDomainError } from '../../shared/errors.js';
import { maskPhone } from '../../shared/phone.js';
import type { Permission, Role } from '../../shared/principal.js';
import { supportErrors } from './errors.js';
import type {
  SupportActor,
  SupportAgentDirectory,
  SupportAudit,
  SupportDisputesPort,
  SupportFilesPort,
  SupportNotifier,
  SupportOrderPartiesPort,
} from './ports.js';
import { AVAILABILITY_MINUTES, createAgentDirectory } from './agents.js';
import { METRICS_PERIOD_MAX_DAYS, supportFigures, type SupportPrometheus } from './metrics.js';
import { dueWithinHours, type SupportHours } from './sla-clock.js';
import { createTeamRouting } from './team-routing.js';
import { createSupportRepository, type MessageRow, type QueueFilter, type TicketRow } from './repository.js';
import {
  checkRating,
  checkTransition,
  disputeOf,
  escalatedDueAt,
  mayWrite,
  priorityOf,
  raised,
  slaBreaches,
  type Changer,
  type SupportPolicy,
} from './rules.js';
import {
  OPENER_ROLES,
  type Category,
  type Locale,
  type OpenerRole,
  type SupportDb,
  type TicketSource,
  type TicketStatus,
} from './tables.js';

export interface SuggestedArticle {
  id: string;
  slug: string;
  locale: Locale;
  title: string;
}

export const SUBJECT_PURPOSE = 'support_tickets.subject';
export const BODY_PURPOSE = 'support_messages.body';
export const PAGE_MAX = 50;
export const ATTACHMENTS_MAX = 5;
/** Longer texts reach the chat as `bodyOmitted` (the bus carries at most 4 KiB); clients fetch them. */
export const CHAT_BODY_MAX = 1_000;
export const CHAT_PAGE_DEFAULT = 50;
export const CHAT_PAGE_MAX = 200;
export const TYPING_INTERVAL_MS = 3_000;
export const SLA_SWEEP_BATCH = 200;
/** Supervisors (and admins) told of an SLA breach by push or SMS, at most. */
export const SUPERVISORS_TOLD_MAX = 50;
/** Connected agents considered per assignment, at most. */
export const ONLINE_AGENTS_MAX = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface SupportCaller {
  userId: string;
  roles: readonly Role[];
  permissions: ReadonlySet<Permission>;
  actor: SupportActor;
}

export interface OpenTicketInput {
  category: Category;
  subject: string;
  body: string;
  orderId?: string;
  attachments?: string[];
}

/** Where a ticket comes from, when not the app: the channel, the order event, the first message's author. */
export interface TicketOrigin {
  source: TicketSource;
  sourceEventId?: string;
  /** Who wrote the first message when not the opener (the driver who reported a failed delivery). */
  firstAuthorId?: string;
}

export interface MessageInput {
  /** The text; or, from staff, `cannedResponseId` (exactly one of the two). */
  body?: string;
  cannedResponseId?: string;
  internal?: boolean;
  attachments?: string[];
}

export interface SupportDependencies {
  db: SupportDb;
  cipher: FieldCipher;
  orders: SupportOrderPartiesPort;
  disputes: SupportDisputesPort;
  files: SupportFilesPort;
  agents: SupportAgentDirectory;
  /**
   * The opener's name and phone (identity), shown to the staff who may see the ticket with the
   * phone masked: the limited data access of the spec (an agent calls through the platform).
   */
  contactOf?: (userId: string) => Promise<{ name: string | null; phone: string | null } | undefined>;
  audit: SupportAudit;
  bus: RealtimeBus;
  policy: SupportPolicy;
  /** Knowledge-base articles close to a ticket's text (knowledge-base.ts), shown to its opener. */
  suggest?: (text: string, locale: Locale, category: Category) => Promise<SuggestedArticle[]>;
  /** Push or SMS through notify (replies to an opener who is offline, SLA breaches to supervisors). */
  notifier?: SupportNotifier;
  /** The active administrators (identity): supervisors by right, told of SLA breaches. */
  admins?: () => Promise<string[]>;
  /** Prometheus series (metrics.ts), counted as things happen on this instance. */
  prometheus?: SupportPrometheus;
  /** An active canned response's text (canned.ts; 404 otherwise). */
  canned?: (id: string) => Promise<{ id: string; body: string }>;
  /**
   * A new ticket's city and its support hours (issue #26): the order's restaurant's city, else
   * the opener's default address's (sla-clock.ts). Absent or undefined: no city, the clock runs
   * all day.
   */
  ticketCity?: (about: {
    openerId: string;
    restaurantId: string | undefined;
  }) => Promise<{ cityId: string; hours?: SupportHours } | undefined>;
  /** The support hours of a ticket's city, for a reopened ticket's new due time. */
  cityHours?: (cityId: string) => Promise<SupportHours | undefined>;
  /** Whether a city id names a known city (catalog), for the team mappings; absent: any slug. */
  cityKnown?: (cityId: string) => Promise<boolean>;
  logger: Logger;
  now?: () => Date;
}

export const isStaff = (caller: Pick<SupportCaller, 'permissions'>): boolean =>
  caller.permissions.has('TICKET_MANAGEMENT') || caller.permissions.has('FULL_SYSTEM_ACCESS');

const ticketNotFound = () =>
  supportErrors.of('not_found', 'ticket_not_found', 'There is no such ticket among those you may see.');

function checkText(field: string, text: string): string {
  const trimmed = text.trim();
  if (trimmed.length === 0)
    throw supportErrors.of('validation', 'text_blank', `The ${field} holds only spaces.`, {
      details: { field },
    });
  return trimmed;
}

/**
 * The role the caller opens the ticket in: their part in the order when it names one (an owner who
 * is also a customer writes about their restaurant's order as its owner), else the first they hold.
 */
function openerRoleOf(
  caller: SupportCaller,
  order?: { customerId: string; restaurantOwnerId: string; driverId: string | null },
): OpenerRole {
  const part: OpenerRole | undefined =
    order === undefined
      ? undefined
      : order.customerId === caller.userId
        ? 'customer'
        : order.restaurantOwnerId === caller.userId
          ? 'restaurant_owner'
          : 'driver';
  if (part !== undefined && caller.roles.includes(part)) return part;
  const role = OPENER_ROLES.find((candidate) => caller.roles.includes(candidate));
  if (role === undefined)
    throw supportErrors.of(
      'forbidden',
      'opener_role_required',
      'Tickets are opened by customers, restaurant owners and drivers.',
    );
  return role;
}

export function createSupportService(deps: SupportDependencies) {
  const repository = createSupportRepository(deps.db);
  const agentDirectory = createAgentDirectory(deps.db);
  const { cipher, policy } = deps;
  const now = deps.now ?? (() => new Date());
  const teamRouting = createTeamRouting({
    db: deps.db,
    audit: deps.audit,
    ...(deps.cityKnown === undefined ? {} : { cityKnown: deps.cityKnown }),
    now,
  });
  const typingSent = new LRUCache<string, true>({ max: 10_000, ttl: TYPING_INTERVAL_MS });

  function messageView(row: MessageRow) {
    return {
      id: row.id,
      from: row.from_staff ? ('staff' as const) : ('opener' as const),
      authorId: row.author_id,
      internal: row.internal,
      body: cipher.decrypt(BODY_PURPOSE, row.body),
      attachments: row.attachments,
      createdAt: row.created_at.toISOString(),
    };
  }

  function summary(row: TicketRow) {
    return {
      id: row.id,
      category: row.category,
      subject: cipher.decrypt(SUBJECT_PURPOSE, row.subject),
      status: row.status,
      priority: row.priority,
      orderId: row.order_id,
      openerId: row.opener_id,
      openerRole: row.opener_role,
      assigneeId: row.assignee_id,
      escalations: row.escalations,
      source: row.source,
      slaDueAt: row.sla_due_at.toISOString(),
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
      resolvedAt: row.resolved_at?.toISOString() ?? null,
      closedAt: row.closed_at?.toISOString() ?? null,
      reopenCount: row.reopen_count,
      csat:
        row.csat_score === null ? null : { score: row.csat_score, at: row.csat_at?.toISOString() ?? null },
    };
  }

  /** The ticket and its order's status and dispute (what a workflow change answers). */
  async function stateView(row: TicketRow) {
    const parties = row.order_id === null ? undefined : await deps.orders.partiesOf(row.order_id);
    return {
      ...summary(row),
      order:
        parties === undefined
          ? null
          : { status: parties.status, dispute: disputeOf(parties.status), refundMinor: parties.refundMinor },
    };
  }

  /** The ticket with its messages (internal notes for staff only) and the order's dispute status. */
  /** What staff see of the opener: their name and their phone masked (never in full). */
  async function openerContact(row: TicketRow, staff: boolean) {
    if (!staff || deps.contactOf === undefined) return null;
    const contact = await deps.contactOf(row.opener_id);
    if (contact === undefined) return null;
    return { name: contact.name, phoneMasked: contact.phone === null ? null : maskPhone(contact.phone) };
  }

  async function fullView(row: TicketRow, staff: boolean) {
    const messages = await repository.messages(row.id, staff);
    return {
      ...(await stateView(row)),
      opener: await openerContact(row, staff),
      readUpTo: { opener: row.opener_read_message_id, staff: row.staff_read_message_id },
      messages: messages.map((message) => messageView(message)),
    };
  }

  /** The ticket if the caller may see it (its opener, or staff); others get 404, as for no ticket. */
  async function visible(caller: SupportCaller, id: string): Promise<{ row: TicketRow; who: Changer }> {
    const row = UUID.test(id) ? await repository.find(id) : undefined;
    if (row === undefined) throw ticketNotFound();
    // Staff: a plain agent sees the tickets assigned to them; supervisors and admins see all.
    if (isStaff(caller) && (row.assignee_id === caller.userId || (await isSupervisor(caller))))
      return { row, who: 'staff' };
    if (row.opener_id === caller.userId) return { row, who: 'opener' };
    throw ticketNotFound();
  }

  async function checkAttachments(
    caller: SupportCaller,
    ids: readonly string[] | undefined,
  ): Promise<string[]> {
    const unique = [...new Set(ids ?? [])];
    if (unique.length > ATTACHMENTS_MAX)
      throw supportErrors.of(
        'validation',
        'too_many_attachments',
        `At most ${ATTACHMENTS_MAX} attachments.`,
        {
          details: { max: ATTACHMENTS_MAX },
        },
      );
    for (const fileId of unique) {
      try {
        await deps.files(caller, fileId);
      } catch (error) {
        if (!isDomainError(error) || error.kind !== 'not_found') throw error;
        throw supportErrors.of(
          'unprocessable',
          'attachment_not_found',
          'An attachment is no file you may read.',
          {
            details: { fileId },
          },
        );
      }
    }
    return unique;
  }

  /** The order the opener names, if they are party to it (others: 404, as for no order). */
  async function orderOf(caller: SupportCaller, orderId: string | undefined) {
    if (orderId === undefined) return undefined;
    const parties = await deps.orders.partiesOf(orderId);
    const party =
      parties !== undefined &&
      [parties.customerId, parties.restaurantOwnerId, parties.driverId].includes(caller.userId);
    if (!party) throw supportErrors.of('not_found', 'order_not_found', 'There is no such order among yours.');
    return parties;
  }

  /** Who hears a ticket's conversation: its opener (on whichever namespace) and its assignee. */
  function chatAudiences(row: TicketRow): string[] {
    const opener = row.opener_id;
    return [
      audiences.customer(opener),
      audiences.owner(opener),
      audiences.driver(opener),
      ...(row.assignee_id === null ? [] : [audiences.agent(row.assignee_id)]),
    ];
  }

  /**
   * Tells the ticket's opener and assignee (with `chat`: what only they hear, e.g. a message's
   * text) and, with `toStaff`, the whole `support` audience (without `chat`).
   */
  function publish(
    row: TicketRow,
    type: string,
    toStaff: boolean,
    extra: Record<string, unknown> = {},
    chat: Record<string, unknown> = {},
  ): void {
    const message = (data: Record<string, unknown>) => ({
      channel: 'support',
      type,
      at: now().toISOString(),
      data: { ticketId: row.id, status: row.status, priority: row.priority, ...extra, ...data },
    });
    const publications = [
      { audiences: chatAudiences(row), message: message(chat) },
      ...(toStaff ? [{ audiences: [audiences.support], message: message({}) }] : []),
    ];
    // Telling is best effort: the change is committed; a client that missed it reloads the ticket.
    void deps.bus
      .publish(publications)
      .catch((error: unknown) =>
        deps.logger.warn({ err: error, ticketId: row.id }, 'support publish failed'),
      );
  }

  async function audit(
    caller: SupportCaller,
    action: string,
    row: TicketRow,
    oldValue: unknown,
    newValue: unknown,
  ) {
    await deps.audit({
      action,
      actor: caller.actor,
      subjectUserId: row.opener_id,
      resource: `support_ticket:${row.id}`,
      oldValue,
      newValue,
    });
  }

  async function open(
    caller: SupportCaller,
    input: OpenTicketInput,
    id: string = randomUUID(),
    locale: Locale = 'en',
    origin: TicketOrigin = { source: 'app' },
  ) {
    openerRoleOf(caller);
    const subject = checkText('subject', input.subject);
    const body = checkText('body', input.body);
    const order = await orderOf(caller, input.orderId);
    const openerRole = openerRoleOf(caller, order);
    const attachments = await checkAttachments(caller, input.attachments);
    const at = now();
    const priority = priorityOf(input.category, order?.totalMinor, policy);
    // The city's support hours set the clock (issue #26); a lookup failure must not lose the ticket.
    const city = await deps
      .ticketCity?.({ openerId: caller.userId, restaurantId: order?.restaurantId })
      .catch((error: unknown) => {
        deps.logger.warn({ err: error }, 'support: the ticket city lookup failed; SLA counted all day');
        return undefined;
      });
    const created = await repository.openTicket(
      {
        id,
        opener_id: caller.userId,
        opener_role: openerRole,
        category: input.category,
        subject: cipher.encrypt(SUBJECT_PURPOSE, subject),
        order_id: input.orderId ?? null,
        priority,
        status: 'open',
        source: origin.source,
        source_event_id: origin.sourceEventId ?? null,
        city_id: city?.cityId ?? null,
        sla_due_at: dueWithinHours(at, policy.slaMinutes[priority], city?.hours),
        first_response_due_at: dueWithinHours(at, policy.firstResponseMinutes[priority], city?.hours),
        created_at: at,
        updated_at: at,
      },
      {
        id: randomUUID(),
        ticket_id: id,
        author_id: origin.firstAuthorId ?? caller.userId,
        from_staff: false,
        internal: false,
        body: cipher.encrypt(BODY_PURPOSE, body),
        attachments,
        created_at: at,
      },
    );
    let row = (await repository.find(id))!;
    if (created) {
      await audit(caller, 'support.ticket_opened', row, null, {
        category: row.category,
        priority: row.priority,
        orderId: row.order_id,
        source: row.source,
      });
      publish(row, 'support.ticket_opened', true);
      deps.prometheus?.opened.inc({ source: row.source, priority: row.priority });
      row = await autoAssign(row);
    }
    const suggestedArticles =
      deps.suggest === undefined ? [] : await deps.suggest(`${subject} ${body}`, locale, input.category);
    return { ...(await fullView(row, false)), suggestedArticles };
  }

  async function addMessage(
    caller: SupportCaller,
    ticketId: string,
    input: MessageInput,
    id: string = randomUUID(),
  ) {
    const { row, who } = await visible(caller, ticketId);
    if (input.internal === true && who !== 'staff')
      throw supportErrors.of(
        'forbidden',
        'internal_note_staff_only',
        'Only support staff write internal notes.',
      );
    const { body, cannedResponseId } = await messageText(input, who);
    const retried = await repository.findMessage(id);
    if (retried !== undefined && retried.ticket_id === row.id) {
      // A retry after a crash between the write and the notice tells the opener now (once).
      if (retried.from_staff && !retried.internal) await tellIfOffline(row, retried.id, body);
      return messageView(retried);
    }
    if (!mayWrite(row.status, who))
      throw supportErrors.of(
        'conflict',
        'ticket_not_writable',
        `A ${row.status} ticket takes no message; reopen it first.`,
        {
          details: { ticketStatus: row.status },
        },
      );
    const attachments = await checkAttachments(caller, input.attachments);
    // The opener's answer to a ticket waiting on them puts it back in the queue; the first staff
    // reply (not a note) stops the first-response clock.
    const reopened = who === 'opener' && row.status === 'pending';
    const firstReply = who === 'staff' && input.internal !== true && row.first_responded_at === null;
    const change = reopened
      ? { status: 'open' as const }
      : firstReply
        ? { first_responded_at: now() }
        : undefined;
    const inserted = await repository.addMessage(
      {
        id,
        ticket_id: row.id,
        author_id: caller.userId,
        from_staff: who === 'staff',
        internal: input.internal === true,
        body: cipher.encrypt(BODY_PURPOSE, body),
        attachments,
        created_at: now(),
      },
      change,
    );
    const message = inserted ?? (await repository.findMessage(id))!;
    if (firstReply && inserted !== undefined)
      deps.prometheus?.firstResponse.observe(
        { priority: row.priority },
        (message.created_at.getTime() - row.created_at.getTime()) / 1_000,
      );
    await audit(caller, 'support.message_added', row, null, {
      messageId: message.id,
      internal: message.internal,
      attachments: attachments.length,
      ...(cannedResponseId === undefined ? {} : { cannedResponseId }),
      ...(reopened ? { status: 'open' } : {}),
    });
    if (!message.internal)
      publish(
        { ...row, status: reopened ? 'open' : row.status },
        'support.message_added',
        who === 'opener',
        { messageId: message.id, from: who },
        chatPayload(messageView(message)),
      );
    if (who === 'staff' && !message.internal) await tellIfOffline(row, message.id, body);
    return messageView(message);
  }

  /**
   * A staff reply reaches an opener who is connected to none of their namespaces by notify's
   * fallback (push, then SMS). On a ticket opened by e-mail, the reply goes back by e-mail whether
   * or not they are connected (the e-mail thread is where they write). Best effort after the
   * commit: a failure is logged, the reply stays in the thread; the intent is named after the
   * message, so a retried reply tells once.
   */
  async function tellIfOffline(row: TicketRow, messageId: string, text: string): Promise<void> {
    if (deps.notifier === undefined) return;
    try {
      const opener = row.opener_id;
      if (row.source === 'email') {
        await deps.notifier.supportEmailReply({
          messageId,
          ticketId: row.id,
          recipientId: opener,
          text,
          subject: cipher.decrypt(SUBJECT_PURPOSE, row.subject) ?? '',
        });
        return;
      }
      const online = await deps.bus.listening([
        audiences.customer(opener),
        audiences.owner(opener),
        audiences.driver(opener),
      ]);
      if (online.some(Boolean)) return;
      await deps.notifier.supportReply({ messageId, ticketId: row.id, recipientId: opener, text });
    } catch (error) {
      deps.logger.warn({ err: error, ticketId: row.id, messageId }, 'support reply notice failed');
    }
  }

  /** The message's text: written, or a canned response's (staff only); exactly one of the two. */
  async function messageText(
    input: MessageInput,
    who: Changer,
  ): Promise<{ body: string; cannedResponseId?: string }> {
    if (input.cannedResponseId === undefined) {
      if (input.body === undefined)
        throw supportErrors.of('validation', 'message_text_required', 'Send `body` or `cannedResponseId`.');
      return { body: checkText('body', input.body) };
    }
    if (input.body !== undefined)
      throw supportErrors.of(
        'validation',
        'message_text_ambiguous',
        'Send `body` or `cannedResponseId`, not both.',
      );
    if (who !== 'staff' || deps.canned === undefined)
      throw supportErrors.of(
        'forbidden',
        'canned_response_staff_only',
        'Only support staff send canned responses.',
      );
    const canned = await deps.canned(input.cannedResponseId);
    return { body: canned.body, cannedResponseId: canned.id };
  }

  /** What the live chat carries of a message: its text when it fits a real-time message. */
  function chatPayload(view: ReturnType<typeof messageView>): Record<string, unknown> {
    const fits = view.body !== null && view.body.length <= CHAT_BODY_MAX;
    return {
      authorId: view.authorId,
      createdAt: view.createdAt,
      attachments: view.attachments,
      ...(fits ? { body: view.body } : { bodyOmitted: true }),
    };
  }

  /** A message of the ticket the caller may see (internal notes: staff only), else 404. */
  async function messageOn(row: TicketRow, who: Changer, messageId: string): Promise<MessageRow> {
    const message = UUID.test(messageId) ? await repository.findMessage(messageId) : undefined;
    if (message === undefined || message.ticket_id !== row.id || (message.internal && who !== 'staff'))
      throw supportErrors.of('not_found', 'message_not_found', 'There is no such message on this ticket.', {
        details: { messageId: messageId.slice(0, 64) },
      });
    return message;
  }

  /**
   * The messages after `after` (a message id), oldest first, in pages: what a chat client that
   * reconnects fetches ("messages since"). Internal notes for staff only; a staff read is audited.
   */
  async function messagesSince(
    caller: SupportCaller,
    ticketId: string,
    query: { after?: string; limit?: number },
  ) {
    const { row, who } = await visible(caller, ticketId);
    const after = query.after === undefined ? undefined : await messageOn(row, who, query.after);
    const limit = Math.min(Math.max(query.limit ?? CHAT_PAGE_DEFAULT, 1), CHAT_PAGE_MAX);
    if (who === 'staff')
      await audit(caller, 'support.ticket_viewed', row, null, { messagesAfter: after?.id ?? null });
    const rows = await repository.messagesAfter(row.id, who === 'staff', after?.position ?? null, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map((message) => messageView(message)),
      nextAfter: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      readUpTo: { opener: row.opener_read_message_id, staff: row.staff_read_message_id },
    };
  }

  /** Marks the caller's side (the opener, or staff) read up to a message; it only moves forward. */
  async function markRead(caller: SupportCaller, ticketId: string, messageId: string) {
    const { row, who } = await visible(caller, ticketId);
    const message = await messageOn(row, who, messageId);
    const moved = await repository.markRead(row.id, who, message.position, message.id);
    if (moved) publish(row, 'support.read', false, { from: who, messageId: message.id });
    const current = moved
      ? message.id
      : ((await repository.find(row.id))?.[`${who}_read_message_id`] ?? null);
    return { ticketId: row.id, side: who, readUpTo: current };
  }

  /**
   * Tells the other side that the caller is typing. Nothing is stored; at most one notice per
   * person and ticket every TYPING_INTERVAL_MS (the rest are dropped, answered `sent: false`).
   */
  async function typing(caller: SupportCaller, ticketId: string) {
    const { row, who } = await visible(caller, ticketId);
    if (!mayWrite(row.status, who))
      throw supportErrors.of('conflict', 'ticket_not_writable', `Nobody writes on a ${row.status} ticket.`, {
        details: { ticketStatus: row.status },
      });
    const key = `${row.id}:${caller.userId}`;
    if (typingSent.has(key)) return { ticketId: row.id, sent: false };
    typingSent.set(key, true);
    publish(row, 'support.typing', false, { from: who, userId: caller.userId });
    return { ticketId: row.id, sent: true };
  }

  async function read(caller: SupportCaller, id: string) {
    const { row, who } = await visible(caller, id);
    if (who === 'staff') await audit(caller, 'support.ticket_viewed', row, null, null);
    return fullView(row, who === 'staff');
  }

  /** Applies a change decided on `row` if nobody changed the ticket meanwhile (else 409). */
  async function apply(row: TicketRow, change: Parameters<typeof repository.update>[2]): Promise<TicketRow> {
    const updated = await repository.update(row.id, { version: row.version }, change);
    if (updated === undefined)
      throw supportErrors.of(
        'conflict',
        'ticket_changed',
        'The ticket changed meanwhile; reload it and retry.',
      );
    return updated;
  }

  async function changeStatus(caller: SupportCaller, id: string, to: TicketStatus) {
    const { row, who } = await visible(caller, id);
    const at = now();
    const refusal = checkTransition({ status: row.status, resolvedAt: row.resolved_at }, to, who, at, policy);
    if (refusal !== undefined) throw statusRefusal(refusal, row.status, to);
    if (row.status === 'escalated' && !(await isSupervisor(caller)))
      throw supportErrors.of(
        'forbidden',
        'supervisor_required',
        'Only a supervisor moves an escalated ticket on.',
      );
    const updated = await apply(row, {
      status: to,
      ...(to === 'resolved' ? { resolved_at: at } : {}),
      ...(to === 'closed' ? { closed_at: at } : {}),
      ...(to === 'open' && row.status === 'closed' ? { closed_at: null } : {}),
      // A reopened ticket is due again from now.
      ...(to === 'open' && (row.status === 'resolved' || row.status === 'closed')
        ? {
            resolved_at: null,
            sla_due_at: dueWithinHours(
              at,
              policy.slaMinutes[row.priority],
              row.city_id === null ? undefined : await deps.cityHours?.(row.city_id),
            ),
            sla_alerted_at: null,
            reopen_count: row.reopen_count + 1,
          }
        : {}),
    });
    const action =
      to === 'open' && (row.status === 'resolved' || row.status === 'closed')
        ? 'support.ticket_reopened'
        : 'support.status_changed';
    await audit(caller, action, row, { status: row.status }, { status: to });
    if (action === 'support.ticket_reopened') deps.prometheus?.reopened.inc({ priority: updated.priority });
    publish(updated, action, who === 'opener');
    if (to === 'resolved')
      deps.prometheus?.resolution.observe(
        { priority: updated.priority },
        (at.getTime() - row.created_at.getTime()) / 1_000,
      );
    return stateView(updated);
  }

  function statusRefusal(
    refusal: NonNullable<ReturnType<typeof checkTransition>>,
    from: TicketStatus,
    to: TicketStatus,
  ) {
    if (refusal.code === 'reopen_window_closed')
      return supportErrors.of(
        'conflict',
        'reopen_window_closed',
        `The ticket could be reopened until ${refusal.closedAt.toISOString()}.`,
        {
          details: { reopenableUntil: refusal.closedAt.toISOString(), reopenDays: policy.reopenDays },
        },
      );
    if (refusal.code === 'status_unchanged')
      return supportErrors.of('conflict', 'status_unchanged', `The ticket is already ${to}.`, {
        details: { ticketStatus: to },
      });
    return supportErrors.of(
      'conflict',
      'status_transition_not_allowed',
      `A ${from} ticket cannot become ${to} by you.`,
      {
        details: { from, to },
      },
    );
  }

  async function assign(caller: SupportCaller, id: string, assigneeId: string) {
    const { row } = await staffOnly(caller, id);
    if (!(await deps.agents(assigneeId)))
      throw supportErrors.of('unprocessable', 'assignee_not_agent', 'The assignee is no support agent.', {
        details: { assigneeId },
      });
    if (row.status === 'closed')
      throw supportErrors.of(
        'conflict',
        'ticket_not_writable',
        'A closed ticket is not assigned; reopen it first.',
        {
          details: { ticketStatus: row.status },
        },
      );
    const updated = await apply(row, { assignee_id: assigneeId });
    await audit(caller, 'support.ticket_assigned', row, { assigneeId: row.assignee_id }, { assigneeId });
    publish(updated, 'support.ticket_assigned', false, { assigneeId });
    return stateView(updated);
  }

  /**
   * Escalation: one priority higher (the due time becomes the new priority's from now, if sooner),
   * the `escalated` status, and the ticket handed to an available supervisor by round robin (else
   * it keeps its assignee and waits in the supervisors' queue).
   */
  async function escalate(caller: SupportCaller, id: string) {
    const { row } = await staffOnly(caller, id);
    if (row.status === 'resolved' || row.status === 'closed')
      throw supportErrors.of('conflict', 'ticket_not_writable', `A ${row.status} ticket is not escalated.`, {
        details: { ticketStatus: row.status },
      });
    const priority = raised(row.priority);
    const dueAt = escalatedDueAt(row.sla_due_at, now(), priority, policy);
    const changed = await apply(row, {
      priority,
      status: 'escalated',
      escalations: row.escalations + 1,
      sla_due_at: dueAt,
      // A due time that moved sooner may breach again: it is alerted afresh.
      ...(dueAt < row.sla_due_at ? { sla_alerted_at: null } : {}),
    });
    const assignedAt = now();
    const supervisor = await agentDirectory.assignRoundRobin(row.id, {
      supervisors: true,
      reassign: true,
      at: assignedAt,
      online: await onlineAgents(assignedAt),
    });
    const updated = supervisor === undefined ? changed : (await repository.find(row.id))!;
    await audit(
      caller,
      'support.ticket_escalated',
      row,
      {
        priority: row.priority,
        status: row.status,
        slaDueAt: row.sla_due_at.toISOString(),
        assigneeId: row.assignee_id,
      },
      {
        priority,
        status: updated.status,
        slaDueAt: updated.sla_due_at.toISOString(),
        assigneeId: updated.assignee_id,
      },
    );
    publish(updated, 'support.ticket_escalated', true, { assigneeId: updated.assignee_id });
    return stateView(updated);
  }

  /** An admin makes an active support agent a supervisor (or not) and sets their capacity and team. */
  async function configureAgent(
    caller: SupportCaller,
    userId: string,
    change: { supervisor?: boolean; capacity?: number; team?: string | null },
  ) {
    if (!(await deps.agents(userId)))
      throw supportErrors.of('unprocessable', 'assignee_not_agent', 'The person is no support agent.', {
        details: { assigneeId: userId },
      });
    const before = await agentDirectory.settings(userId);
    const after = await agentDirectory.configure(userId, change, now());
    await deps.audit({
      action: 'support.agent_configured',
      actor: caller.actor,
      subjectUserId: userId,
      resource: `support_agent:${userId}`,
      oldValue: { supervisor: before.supervisor, capacity: before.capacity, team: before.team },
      newValue: { supervisor: after.supervisor, capacity: after.capacity, team: after.team },
    });
    return after;
  }

  /** A support agent is available for new tickets for AVAILABILITY_MINUTES (renewed by calling again), or not. */
  async function setAvailability(caller: SupportCaller, available: boolean) {
    const at = now();
    return agentDirectory.setAvailability(
      caller.userId,
      available ? new Date(at.getTime() + AVAILABILITY_MINUTES * 60_000) : null,
      at,
    );
  }

  /** Admins, and support agents an admin made supervisors. */
  async function isSupervisor(caller: SupportCaller): Promise<boolean> {
    if (caller.permissions.has('FULL_SYSTEM_ACCESS')) return true;
    return caller.permissions.has('TICKET_MANAGEMENT') && (await agentDirectory.isSupervisor(caller.userId));
  }

  /**
   * The support agents connected to /ws/support now, on any instance (their `agent:<id>`
   * audience has a listener), still active agents, with a settings row. Presence is best effort:
   * without it, only agents who said they are available are.
   */
  async function onlineAgents(at: Date): Promise<string[]> {
    let ids: string[];
    try {
      const prefix = audiences.agent('');
      ids = (await deps.bus.listeningWith(prefix, ONLINE_AGENTS_MAX))
        .map((audience) => audience.slice(prefix.length))
        .filter((id) => UUID.test(id));
    } catch (error) {
      deps.logger.warn({ err: error }, 'support agent presence unavailable');
      return [];
    }
    const agents: string[] = [];
    for (const id of ids) if (await deps.agents(id)) agents.push(id);
    await agentDirectory.ensureRows(agents, at);
    return agents;
  }

  /**
   * A new ticket goes to the next available agent under capacity, if any (round robin): of the
   * team its category (and city) maps to first, else anyone (`fallback` in the audit).
   */
  async function autoAssign(row: TicketRow): Promise<TicketRow> {
    const at = now();
    const assignment = await agentDirectory.assignRoundRobin(row.id, {
      supervisors: false,
      reassign: false,
      at,
      online: await onlineAgents(at),
      routed: true,
    });
    if (assignment === undefined) return row;
    const agent = assignment.assigneeId;
    const updated = (await repository.find(row.id))!;
    await deps.audit({
      action: 'support.ticket_assigned',
      actor: { kind: 'system' },
      subjectUserId: row.opener_id,
      resource: `support_ticket:${row.id}`,
      oldValue: { assigneeId: null },
      newValue: {
        assigneeId: agent,
        by: 'round_robin',
        ...(assignment.team === null ? {} : { team: assignment.team, fallback: assignment.fallback }),
      },
    });
    publish(updated, 'support.ticket_assigned', false, { assigneeId: agent });
    return updated;
  }

  async function staffOnly(caller: SupportCaller, id: string) {
    const found = await visible(caller, id);
    if (found.who !== 'staff') throw ticketNotFound();
    return found;
  }

  /**
   * The opener's satisfaction rating (CSAT), one tap once the ticket is resolved or closed; the
   * same score again answers the ticket unchanged (a retried tap), another is 409.
   */
  async function rate(caller: SupportCaller, id: string, score: number) {
    const { row, who } = await visible(caller, id);
    const refusal = checkRating({ status: row.status, csatScore: row.csat_score }, who, score);
    if (refusal === 'unchanged') return stateView(row);
    if (refusal?.code === 'rating_opener_only')
      throw supportErrors.of('forbidden', 'rating_opener_only', 'Only the ticket’s opener rates it.');
    if (refusal?.code === 'ticket_not_resolved')
      throw supportErrors.of('conflict', 'ticket_not_resolved', 'A ticket is rated once it is resolved.', {
        details: { ticketStatus: refusal.status },
      });
    if (refusal?.code === 'ticket_already_rated')
      throw supportErrors.of('conflict', 'ticket_already_rated', 'This ticket was already rated.', {
        details: { score: refusal.score },
      });
    const at = now();
    const updated = await apply(row, { csat_score: score, csat_at: at });
    await audit(caller, 'support.ticket_rated', row, null, { score });
    deps.prometheus?.ratings.inc({ score: String(score) });
    publish(updated, 'support.ticket_rated', false, { score });
    return stateView(updated);
  }

  /**
   * The opener of an order-problem ticket, as the order's customer, opens the order's dispute
   * through orders' own command (DELIVERED, within the window). The refund comes later, when
   * support resolves the dispute with the order's `resolve` transition.
   */
  async function openDispute(caller: SupportCaller, id: string, reason: string) {
    const { row, who } = await visible(caller, id);
    if (who !== 'opener' || row.category !== 'order_problem' || row.order_id === null)
      throw supportErrors.of(
        'conflict',
        'dispute_not_applicable',
        'Only the opener of an order-problem ticket about an order opens its dispute.',
      );
    const parties = await deps.orders.partiesOf(row.order_id);
    if (parties === undefined || parties.customerId !== caller.userId)
      throw supportErrors.of(
        'forbidden',
        'dispute_customer_only',
        'Only the order’s customer opens its dispute.',
      );
    try {
      await deps.disputes.open(row.order_id, caller.userId, checkText('reason', reason), {
        actorId: caller.userId,
        actorRole: 'customer',
        ...(caller.actor.requestId ? { correlationId: caller.actor.requestId } : {}),
      });
    } catch (error) {
      if (!isDomainError(error) || error.kind === 'unavailable' || error.kind === 'internal') throw error;
      throw supportErrors.of('conflict', 'dispute_refused', error.message, {
        details: { orderCode: error.code, orderStatus: parties.status },
      });
    }
    await audit(
      caller,
      'support.dispute_opened',
      row,
      { orderStatus: parties.status },
      { orderStatus: 'DISPUTED' },
    );
    publish(row, 'support.dispute_opened', true, { orderId: row.order_id });
    return stateView(row);
  }

  async function listMine(caller: SupportCaller, query: { cursor?: string; limit?: number }) {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const limit = Math.min(Math.max(query.limit ?? 20, 1), PAGE_MAX);
    const rows = await repository.byOpener(
      caller.userId,
      after === undefined ? undefined : { createdAt: after.at, id: after.id },
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(summary),
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.created_at, last.id) : null,
    };
  }

  /** The queue: supervisors and admins see every ticket, a plain agent only those assigned to them. */
  async function queue(query: QueueFilter & { cursor?: string; limit?: number }, caller?: SupportCaller) {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const limit = Math.min(Math.max(query.limit ?? 20, 1), PAGE_MAX);
    const own = caller !== undefined && !(await isSupervisor(caller));
    const filter: QueueFilter = {
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.priority === undefined ? {} : { priority: query.priority }),
      ...(query.assignee === undefined ? {} : { assignee: query.assignee }),
      ...(own ? { assignee: caller.userId } : {}),
    };
    const rows = await repository.queue(
      filter,
      after === undefined ? undefined : { dueAt: after.at, id: after.id },
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(summary),
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.sla_due_at, last.id) : null,
    };
  }

  /**
   * Alerts each SLA breach once (a ticket without its first staff reply by its first-response due
   * time, or not resolved by its SLA due time): claims the alert on the row (so the sweep may run on
   * every instance), audits it and tells the support and admin audiences and the assignee.
   * Bounded per run; the rest wait for the next run.
   */
  async function sweepSla(limit = SLA_SWEEP_BATCH): Promise<{ alerted: number }> {
    const at = now();
    const candidates = await repository.breachCandidates(at, limit);
    let alerted = 0;
    let staff: Promise<string[]> | undefined; // read once per run, when a breach needs it
    for (const row of candidates) {
      const breaches = slaBreaches(
        {
          status: row.status,
          slaDueAt: row.sla_due_at,
          slaAlertedAt: row.sla_alerted_at,
          firstResponseDueAt: row.first_response_due_at,
          firstRespondedAt: row.first_responded_at,
          firstResponseAlertedAt: row.first_response_alerted_at,
        },
        at,
      );
      for (const breach of breaches) {
        const dueAt = breach === 'resolution' ? row.sla_due_at : row.first_response_due_at!;
        // Push or SMS before the claim: the intents are named after the breach, so a crash
        // between the two, or two instances, tell each supervisor once; the next sweep claims.
        if (deps.notifier !== undefined)
          await deps.notifier.supportSlaBreach({
            ticketId: row.id,
            breach,
            priority: row.priority,
            dueAt,
            // The assignee too: it is their ticket.
            recipientIds: [
              ...new Set([
                ...(await (staff ??= supervisorIds())),
                ...(row.assignee_id === null ? [] : [row.assignee_id]),
              ]),
            ],
          });
        if (!(await repository.claimAlert(row.id, breach, at))) continue;
        alerted += 1;
        deps.prometheus?.breaches.inc({ breach, priority: row.priority });
        await deps.audit({
          action: 'support.sla_breached',
          actor: { kind: 'system' },
          subjectUserId: row.opener_id,
          resource: `support_ticket:${row.id}`,
          newValue: { breach, priority: row.priority, dueAt: dueAt.toISOString() },
        });
        const message = {
          channel: 'support',
          type: 'support.sla_breached',
          at: at.toISOString(),
          data: {
            ticketId: row.id,
            breach,
            status: row.status,
            priority: row.priority,
            dueAt: dueAt.toISOString(),
            assigneeId: row.assignee_id,
          },
        };
        void deps.bus
          .publish([
            {
              audiences: [
                audiences.support,
                audiences.admin,
                ...(row.assignee_id === null ? [] : [audiences.agent(row.assignee_id)]),
              ],
              message,
            },
          ])
          .catch((error: unknown) =>
            deps.logger.warn({ err: error, ticketId: row.id }, 'support SLA alert publish failed'),
          );
      }
    }
    return { alerted };
  }

  /**
   * Who hears of SLA breaches by push or SMS: the supervisors (support agents an admin made
   * supervisors who are still active agents, and admins), at most SUPERVISORS_TOLD_MAX.
   */
  async function supervisorIds(): Promise<string[]> {
    const ids = new Set<string>();
    for (const id of await agentDirectory.supervisorIds(SUPERVISORS_TOLD_MAX))
      if (await deps.agents(id)) ids.add(id);
    for (const id of (await deps.admins?.()) ?? []) ids.add(id);
    return [...ids].slice(0, SUPERVISORS_TOLD_MAX);
  }

  /**
   * First response and resolution times and SLA breaches of the tickets opened in a period
   * (default: the last 7 days; at most METRICS_PERIOD_MAX_DAYS), overall and per agent.
   * Supervisors and admins see everyone; a plain agent, their own tickets only.
   */
  async function metrics(caller: SupportCaller, query: { from?: string; to?: string }) {
    const at = now();
    const to = query.to === undefined ? at : new Date(query.to);
    const from = query.from === undefined ? new Date(to.getTime() - 7 * 86_400_000) : new Date(query.from);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to)
      throw supportErrors.of(
        'validation',
        'metrics_period_invalid',
        '`from` must be a date-time before `to`.',
      );
    if (to.getTime() - from.getTime() > METRICS_PERIOD_MAX_DAYS * 86_400_000)
      throw supportErrors.of(
        'validation',
        'metrics_period_invalid',
        `The period is at most ${METRICS_PERIOD_MAX_DAYS} days.`,
      );
    const own = !(await isSupervisor(caller));
    const figures = await supportFigures(deps.db, {
      from,
      to,
      at,
      ...(own ? { assignee: caller.userId } : {}),
    });
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      scope: own ? ('own' as const) : ('all' as const),
      ...figures,
    };
  }

  const personalData = {
    async export(userId: string) {
      const { tickets, messages } = await repository.exportOf(userId, PAGE_MAX * 10);
      return {
        tickets: tickets.map((ticket) => ({
          ...summary(ticket),
          messages: messages
            .filter((message) => message.ticket_id === ticket.id)
            .map((message) => messageView(message)),
        })),
      };
    },
    async erase(userId: string) {
      const erased = await repository.erase(userId);
      return { ticketsErased: erased.tickets, messagesErased: erased.messages };
    },
  };

  return {
    open,
    read,
    addMessage,
    changeStatus,
    assign,
    escalate,
    openDispute,
    rate,
    /** Tells the ticket's opener and assignee of a change another part of support made (remedies). */
    async tell(ticketId: string, type: string, extra: Record<string, unknown>) {
      const row = await repository.find(ticketId);
      if (row !== undefined) publish(row, type, false, extra);
    },
    /** The ticket if the caller is staff who may see it (a plain agent: theirs), else 404. */
    staffTicket: async (caller: SupportCaller, id: string) => (await staffOnly(caller, id)).row,
    messagesSince,
    markRead,
    sweepSla,
    metrics,
    typing,
    listMine,
    queue,
    personalData,
    repository,
    agents: agentDirectory,
    teamRouting,
    isSupervisor,
    configureAgent,
    setAvailability,
  };
}

export type SupportService = ReturnType<typeof createSupportService>;

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

/** Undefined is never returned for a bad cursor: it is a 400 `invalid_cursor`. */
function decodeCursor(cursor: string): { at: Date; id: string } {
  const invalid = () =>
    supportErrors.of('validation', 'invalid_cursor', 'The page cursor is not one this API issued.');
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid();
  const [at, id] = value as [unknown, unknown];
  if (typeof at !== 'string' || typeof id !== 'string' || !UUID.test(id)) throw invalid();
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) throw invalid();
  return { at: date, id };
}
