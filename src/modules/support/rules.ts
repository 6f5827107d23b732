/**
 * The support context's pure rules: a ticket's priority, its SLA due time, and which status
 * changes who may make. No I/O: the service reads and writes, these decide.
 */
import { PRIORITIES, type Category, type Priority, type TicketStatus } from './tables.js';

export interface SupportPolicy {
  /** Minutes to the SLA due time, per priority. */
  slaMinutes: Record<Priority, number>;
  /** Minutes to the first staff reply, per priority. */
  firstResponseMinutes: Record<Priority, number>;
  /** An order total from which a ticket about it is one priority higher. */
  highValueOrderXaf: number;
  /** Days after resolution during which a ticket may be reopened. */
  reopenDays: number;
}

const BASE_PRIORITY: Record<Category, Priority> = {
  order_problem: 'high',
  payment: 'high',
  delivery: 'normal',
  account: 'normal',
  other: 'low',
};

/** One step up, at most urgent. */
export function raised(priority: Priority): Priority {
  return PRIORITIES[Math.min(PRIORITIES.indexOf(priority) + 1, PRIORITIES.length - 1)]!;
}

/** From the category, one step higher when the order is worth at least the high-value threshold. */
export function priorityOf(
  category: Category,
  orderTotalXaf: number | undefined,
  policy: SupportPolicy,
): Priority {
  const base = BASE_PRIORITY[category];
  return orderTotalXaf !== undefined && orderTotalXaf >= policy.highValueOrderXaf ? raised(base) : base;
}

export function slaDueAt(from: Date, priority: Priority, policy: SupportPolicy): Date {
  return new Date(from.getTime() + policy.slaMinutes[priority] * 60_000);
}

export function firstResponseDueAt(from: Date, priority: Priority, policy: SupportPolicy): Date {
  return new Date(from.getTime() + policy.firstResponseMinutes[priority] * 60_000);
}

export type SlaBreach = 'first_response' | 'resolution';

/**
 * The breaches of an open ticket not yet alerted: no staff reply by its first-response due time,
 * not resolved by its SLA due time. A pending ticket waits on its opener and breaches nothing.
 */
export function slaBreaches(
  ticket: {
    status: TicketStatus;
    slaDueAt: Date;
    slaAlertedAt: Date | null;
    firstResponseDueAt: Date | null;
    firstRespondedAt: Date | null;
    firstResponseAlertedAt: Date | null;
  },
  now: Date,
): SlaBreach[] {
  if (ticket.status !== 'open' && ticket.status !== 'escalated') return [];
  const breaches: SlaBreach[] = [];
  if (
    ticket.firstResponseDueAt !== null &&
    ticket.firstRespondedAt === null &&
    ticket.firstResponseAlertedAt === null &&
    ticket.firstResponseDueAt <= now
  )
    breaches.push('first_response');
  if (ticket.slaAlertedAt === null && ticket.slaDueAt <= now) breaches.push('resolution');
  return breaches;
}

/** After an escalation: the new priority's due time from now, never later than the one already set. */
export function escalatedDueAt(current: Date, now: Date, priority: Priority, policy: SupportPolicy): Date {
  const fresh = slaDueAt(now, priority, policy);
  return fresh < current ? fresh : current;
}

export type Changer = 'opener' | 'staff';

export type StatusRefusal =
  | { code: 'status_unchanged' }
  | { code: 'transition_not_allowed'; from: TicketStatus; to: TicketStatus }
  | { code: 'reopen_window_closed'; closedAt: Date };

/**
 * Whether `who` may move a ticket from `from` to `to` now. Staff: open ⇄ pending, open/pending →
 * resolved, resolved → closed, and reopen. The opener: close a resolved ticket, and reopen a
 * resolved or closed one. Reopening is allowed until `reopenDays` after the resolution.
 */
export function checkTransition(
  ticket: { status: TicketStatus; resolvedAt: Date | null },
  to: TicketStatus,
  who: Changer,
  now: Date,
  policy: SupportPolicy,
): StatusRefusal | undefined {
  const from = ticket.status;
  if (from === to) return { code: 'status_unchanged' };
  if (to === 'open' && (from === 'resolved' || from === 'closed')) {
    const closes = new Date((ticket.resolvedAt ?? now).getTime() + policy.reopenDays * 86_400_000);
    return now.getTime() < closes.getTime() ? undefined : { code: 'reopen_window_closed', closedAt: closes };
  }
  const allowed: Record<Changer, readonly string[]> = {
    staff: [
      'open>pending',
      'pending>open',
      'open>resolved',
      'pending>resolved',
      'resolved>closed',
      // Out of escalation (a supervisor: the service checks who).
      'escalated>open',
      'escalated>pending',
      'escalated>resolved',
    ],
    opener: ['resolved>closed'],
  };
  return allowed[who].includes(`${from}>${to}`) ? undefined : { code: 'transition_not_allowed', from, to };
}

/** Who may write on a ticket in this status: the opener while it is open or pending; staff until closed. */
export function mayWrite(status: TicketStatus, who: Changer): boolean {
  return who === 'staff'
    ? status !== 'closed'
    : status === 'open' || status === 'pending' || status === 'escalated';
}

/** The order's dispute as the ticket shows it, from the order's status. */
export function disputeOf(orderStatus: string): 'none' | 'open' | 'resolved' {
  if (orderStatus === 'DISPUTED') return 'open';
  if (orderStatus === 'RESOLVED') return 'resolved';
  return 'none';
}

/** A satisfaction rating is a whole number of stars, 1 (bad) to 5 (very good). */
export const CSAT_MIN = 1;
export const CSAT_MAX = 5;

export type RatingRefusal =
  | { code: 'rating_opener_only' }
  | { code: 'ticket_not_resolved'; status: TicketStatus }
  | { code: 'ticket_already_rated'; score: number };

/**
 * Whether the opener may rate the ticket now (CSAT, one tap after resolution): only the opener,
 * only once it is resolved or closed, once (the same score again is a replay: `unchanged`).
 */
export function checkRating(
  ticket: { status: TicketStatus; csatScore: number | null },
  who: Changer,
  score: number,
): RatingRefusal | 'unchanged' | undefined {
  if (who !== 'opener') return { code: 'rating_opener_only' };
  if (ticket.status !== 'resolved' && ticket.status !== 'closed')
    return { code: 'ticket_not_resolved', status: ticket.status };
  if (ticket.csatScore === score) return 'unchanged';
  if (ticket.csatScore !== null) return { code: 'ticket_already_rated', score: ticket.csatScore };
  return undefined;
}
