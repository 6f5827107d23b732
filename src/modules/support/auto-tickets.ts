/**
 * Tickets opened automatically from order events (issue #22): an order's dispute
 * (`OrderDisputeOpened`) and a failed delivery (`OrderDeliveryFailed`) open a ticket for the
 * order's customer, through the same service as the app (checks, encryption, audit, real-time,
 * SLA timers), so support hears of them without the customer writing first.
 *
 * A checkpointed reactor (at least once, on every instance) reads the order events. The ticket's
 * id is derived from the event's id and the event id is unique on the tickets table, so a replay
 * or a second instance handling the same event writes nothing new. A dispute the customer opened
 * from one of their tickets (or while one about the order is open or pending) opens no second
 * ticket: that ticket already shows the order's dispute live.
 */
import type { Logger } from 'pino';
import { createReactor } from '../../eventstore/reactor.js';
import type { EventStore, RecordedEvent } from '../../eventstore/types.js';
import { ORDER_STREAM_PREFIX } from '../orders/index.js';
import { isDomainError } from '../../shared/errors.js';
import { providerUuid } from './intake.js';
import type { SupportOrderPartiesPort } from './ports.js';
import type { SupportService } from './service.js';
import type { Category, SupportDb, TicketSource } from './tables.js';

export const AUTO_TICKET_REACTOR = 'support-auto-tickets';
export const AUTO_TICKET_EVENTS = ['OrderDisputeOpened', 'OrderDeliveryFailed'] as const;
/** An order event's text (a reason) is cut to this many characters in the ticket's first message. */
const REASON_MAX = 2_000;

interface OrderEventData {
  by?: { role?: string; id?: string };
  reason?: string;
}

export type AutoTicketOutcome =
  | { outcome: 'opened' | 'replayed'; ticketId: string }
  | { outcome: 'skipped'; reason: 'active_ticket' | 'unknown_order' | 'refused' | 'not_handled' };

/** The ticket an order event opens: category, subject, first message, source (pure). */
export function autoTicketOf(
  type: string,
  orderId: string,
  reason: string,
): { source: TicketSource; category: Category; subject: string; body: string } | undefined {
  const short = orderId.slice(0, 8);
  const text = reason.trim().slice(0, REASON_MAX);
  if (type === 'OrderDisputeOpened')
    return {
      source: 'dispute',
      category: 'order_problem',
      subject: `Litige sur la commande ${short}`,
      body: text.length > 0 ? text : 'Litige ouvert sans motif.',
    };
  if (type === 'OrderDeliveryFailed')
    return {
      source: 'delivery_failed',
      category: 'delivery',
      subject: `Échec de livraison de la commande ${short}`,
      body: `Livraison échouée : ${text.length > 0 ? text : 'aucun motif donné'}`,
    };
  return undefined;
}

export function createAutoTickets(deps: {
  support: SupportService;
  orders: SupportOrderPartiesPort;
  db: SupportDb;
  eventStore: EventStore;
  logger: Logger;
}) {
  const listeners: ((event: RecordedEvent, outcome: AutoTicketOutcome) => void)[] = [];

  async function handleOne(event: RecordedEvent): Promise<AutoTicketOutcome> {
    const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
    const data = (event.data ?? {}) as OrderEventData;
    const draft = autoTicketOf(event.type, orderId, typeof data.reason === 'string' ? data.reason : '');
    if (draft === undefined) return { outcome: 'skipped', reason: 'not_handled' };
    const ticketId = providerUuid('support-order-event', event.id);
    if ((await deps.support.repository.find(ticketId)) !== undefined)
      return { outcome: 'replayed', ticketId };
    const parties = await deps.orders.partiesOf(orderId);
    if (parties === undefined) return { outcome: 'skipped', reason: 'unknown_order' };
    if (
      draft.source === 'dispute' &&
      (await deps.support.repository.activeOnOrder(parties.customerId, orderId)) !== undefined
    )
      return { outcome: 'skipped', reason: 'active_ticket' };
    const caller = {
      userId: parties.customerId,
      roles: ['customer' as const],
      permissions: new Set<never>(),
      actor: { kind: 'system' as const, userId: null, requestId: event.id },
    };
    const author = typeof data.by?.id === 'string' ? data.by.id : parties.customerId;
    try {
      await deps.support.open(
        caller,
        { category: draft.category, subject: draft.subject, body: draft.body, orderId },
        ticketId,
        'fr',
        { source: draft.source, sourceEventId: event.id, firstAuthorId: author },
      );
    } catch (error) {
      // A refusal (a domain error) would refuse again on every replay: logged and passed over so
      // the reactor goes on; an outage throws and the reactor resumes from its checkpoint.
      if (!isDomainError(error) || error.kind === 'unavailable' || error.kind === 'internal') throw error;
      deps.logger.warn({ eventId: event.id, code: error.code }, 'support auto-ticket refused');
      return { outcome: 'skipped', reason: 'refused' };
    }
    return { outcome: 'opened', ticketId };
  }

  const reactor = createReactor({
    name: AUTO_TICKET_REACTOR,
    db: deps.db,
    checkpointTable: 'support_reactor_checkpoints',
    eventStore: deps.eventStore,
    filter: { streamPrefixes: [ORDER_STREAM_PREFIX], eventTypes: [...AUTO_TICKET_EVENTS] },
    logger: deps.logger,
    async handle(event) {
      const outcome = await handleOne(event);
      deps.logger.info({ eventId: event.id, ...outcome }, 'support auto-ticket');
      for (const listener of listeners) listener(event, outcome);
    },
    // Deployed on a store with history, it opens no tickets about last year's disputes.
    firstStart: 'end',
  });

  return {
    handle: handleOne,
    start: reactor.start,
    stop: reactor.stop,
    /** Called after each event handled (tests wait on it). */
    onHandled(listener: (event: RecordedEvent, outcome: AutoTicketOutcome) => void) {
      listeners.push(listener);
    },
  };
}
