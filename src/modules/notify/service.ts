/**
 * The notify context's service: the intent reactor (domain events → intents, checkpointed in
 * `notify_reactor_checkpoints`), delivery (delivery.ts), the in-app centre and the devices.
 */
import type { Logger } from 'pino';
import type { EventStore, RecordedEvent } from '../../eventstore/index.js';
import { createReactor } from '../../eventstore/reactor.js';
import type { JobQueue } from '../../jobs/index.js';
import type { FieldCipher } from '../../platform/field-crypto.js';
import { audiences, type RealtimeBus } from '../../realtime/index.js';
import {
  ORDER_STREAM_PREFIX,
  type OrderCreatedData,
  type OrderEvent,
  type OrdersService,
} from '../orders/index.js';
import { PAYMENT_STREAM_PREFIX, type PaymentAlerts } from '../payments/index.js';
import { createDelivery, type Recipient, type RecipientDirectory, type Sender } from './delivery.js';
import { notifyErrors } from './errors.js';
import {
  DISPUTE_ROLES,
  disputeIntents,
  driverArrivalIntent,
  driverReminderIntent,
  driverEmergencyIntents,
  driverSpeedWarningIntent,
  orderEtaIntent,
  driverOfferIntent,
  FINANCE_ROLES,
  firstNameOf,
  lowStockIntents,
  NOTIFIED_ORDER_EVENTS,
  staffAlertIntents,
  supportReplyIntent,
  groupCartIntents,
  bulkOrderIntent,
  type GroupCartNotice,
  type BulkOrderNotice,
  supportEmailReplyIntent,
  type SupportEmailReply,
  newsletterIntent,
  type NewsletterMessage,
  supportSlaIntents,
  type SupportReply,
  type SupportSlaBreach,
  type DriverArrival,
  type DriverOffer,
  type DriverReminder,
  type DriverEmergency,
  type DriverSpeedWarning,
  type OrderEtaMoved,
  type StaffRole,
  NOTIFIED_PAYMENT_EVENTS,
  orderIntents,
  paymentIntents,
  payoutIntents,
  payoutsPostedIn,
  type IntentDraft,
  type OrderFacts,
} from './intents.js';
import type { NotifyMetrics } from './metrics.js';
import { createNotifyRepository, PAGE_MAX, type IntentRow } from './repository.js';
import type { NotifyDb } from './tables.js';
import { DEFAULT_LANGUAGE, type Language, type Templates } from './templates.js';

export const INTENT_REACTOR = 'notify-intents';
/** The ledger's batches (ledger/writer/events.ts): payouts are told when the ledger posts them. */
const LEDGER_STREAM_PREFIX = 'ledger-';
const LEDGER_BATCH = 'LedgerBatch';

/** What notify needs of a payout (payments' payouts implement it). */
export interface PayoutLookup {
  get(
    payoutId: string,
  ): Promise<
    { payee_kind: 'restaurant' | 'driver' | 'customer'; payee_id: string; amount_minor: bigint } | undefined
  >;
}
/** Events whose intents are worked out at once (each reads its order or payment). */
const READ_PARALLELISM = 8;
/** How far back a staff sweep looks (it runs every minute: an outage of up to this is caught up). */
export const STAFF_SWEEP_WINDOW_MS = 6 * 3_600_000;
/** The longest period the admin statistics cover. */
const STATS_MAX_PERIOD_MS = 93 * 86_400_000;
/** Intents per insert and bulk enqueue. */
const RECORD_CHUNK = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NotifyOptions {
  db: NotifyDb;
  cipher: FieldCipher;
  eventStore: EventStore;
  queue: Pick<JobQueue, 'enqueue' | 'enqueueMany'>;
  bus: RealtimeBus;
  sender: Sender;
  recipients: RecipientDirectory;
  /** A person's display name (the driver is told by first name). */
  nameOf(userId: string): Promise<string | null>;
  orders: () => Pick<OrdersService, 'load' | 'trackingUrl'>;
  payouts: PayoutLookup;
  /** A restaurant's owner (a restaurant's payout is told to them). */
  restaurantOwnerId(restaurantId: string): Promise<string | undefined>;
  /** The stock left of a restaurant's items (catalog), for low-stock alerts. */
  stockLevels(
    restaurantId: string,
    itemIds: readonly string[],
  ): Promise<{ itemId: string; name: string; stock: number | null }[]>;
  /** A tracked item at or under this many portions is low (NOTIFY_LOW_STOCK_THRESHOLD). */
  lowStockThreshold: number;
  /** The active accounts holding one of the roles (identity): staff alerts go to each. */
  staffIds(roles: readonly StaffRole[]): Promise<string[]>;
  /** Payouts in review and reconciliation exceptions (payments), swept for staff alerts. */
  paymentAlerts: PaymentAlerts;
  templates: Templates;
  metrics: NotifyMetrics;
  logger: Logger;
  hourlyCap: number;
  ackTimeoutSeconds: number;
  /** Jobs each notify queue runs at once per process (NOTIFY_QUEUE_CONCURRENCY). */
  concurrency?: number;
  costXaf: { push: number; sms: number; email: number };
  now?: () => Date;
}

export interface CentreItem {
  id: string;
  kind: string;
  category: string;
  title: string;
  body: string;
  orderId: string | null;
  requiresAck: boolean;
  createdAt: string;
  readAt: string | null;
  acknowledgedAt: string | null;
}

export function createNotify(options: NotifyOptions) {
  const { logger, metrics, templates } = options;
  const now = options.now ?? (() => new Date());
  const repository = createNotifyRepository(options.db, options.cipher);
  const delivery = createDelivery({ ...options, repository });
  const listeners: ((event: RecordedEvent) => void)[] = [];

  async function orderFacts(orderId: string): Promise<OrderFacts | undefined> {
    if (!UUID.test(orderId)) return undefined;
    const orders = options.orders();
    let state;
    try {
      ({ state } = await orders.load(orderId));
    } catch {
      return undefined; // never appended, or gone: nothing to tell
    }
    const order = state.order;
    if (order === null) return undefined;
    return {
      orderId,
      customerId: order.customer.id,
      ownerId: order.restaurantOwnerId,
      restaurantName: order.restaurantName,
      itemCount: order.lines.reduce((sum, line) => sum + line.quantity, 0),
      totalMinor: order.pricing.totalMinor,
      trackingUrl: orders.trackingUrl(state),
    };
  }

  /**
   * The intents of one event. `facts` memoises an order's facts within a batch: a batch often
   * holds several events of one order, and the order's stream is read once.
   */
  async function intentsOf(
    event: RecordedEvent,
    facts: Map<string, Promise<OrderFacts | undefined>> = new Map(),
  ): Promise<IntentDraft[]> {
    if (event.stream.startsWith(ORDER_STREAM_PREFIX)) {
      if (event.type === 'OrderCreated') return lowStockDrafts(event);
      const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
      let known = facts.get(orderId);
      if (known === undefined) {
        known = orderFacts(orderId);
        facts.set(orderId, known);
      }
      const order = await known;
      if (order === undefined) return [];
      const orderEvent = {
        id: event.id,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
      } as { id: string; metadata: RecordedEvent['metadata'] } & OrderEvent;
      if (orderEvent.type === 'OrderDisputeOpened')
        return disputeIntents(orderEvent, order, await options.staffIds(DISPUTE_ROLES));
      const driver =
        orderEvent.type === 'OrderPickedUp'
          ? firstNameOf(await options.nameOf(orderEvent.data.driverId))
          : undefined;
      return orderIntents(orderEvent, order, driver);
    }
    if (event.stream.startsWith(PAYMENT_STREAM_PREFIX)) {
      const [first] = await options.eventStore.readStream(event.stream, { maxCount: 1 });
      if (first?.type !== 'PaymentInitiated') return [];
      const initiated = first.data as {
        paymentId: string;
        userId: string;
        purpose: { kind: 'topup' | 'order' };
        amountMinor: number;
      };
      return paymentIntents(event, {
        paymentId: initiated.paymentId,
        userId: initiated.userId,
        purpose: initiated.purpose.kind,
        amountMinor: initiated.amountMinor,
      });
    }
    if (event.stream.startsWith(LEDGER_STREAM_PREFIX) && event.type === LEDGER_BATCH)
      return payoutDrafts(event);
    return [];
  }

  /** An order that took tracked stock: the restaurant hears of items running low or sold out. */
  async function lowStockDrafts(event: RecordedEvent): Promise<IntentDraft[]> {
    const data = event.data as Pick<OrderCreatedData, 'restaurantId' | 'restaurantOwnerId' | 'reservedStock'>;
    const taken = data.reservedStock ?? [];
    if (taken.length === 0) return [];
    const levels = await options.stockLevels(
      data.restaurantId,
      taken.map((line) => line.itemId),
    );
    return lowStockIntents(
      data.restaurantOwnerId,
      levels,
      options.lowStockThreshold,
      doualaDay(event.createdAt),
    );
  }

  async function payoutDrafts(event: RecordedEvent): Promise<IntentDraft[]> {
    const drafts: IntentDraft[] = [];
    for (const payoutId of payoutsPostedIn(event.data)) {
      const payout = await options.payouts.get(payoutId);
      if (payout === undefined) continue;
      const recipientId =
        payout.payee_kind === 'restaurant'
          ? await options.restaurantOwnerId(payout.payee_id)
          : payout.payee_id;
      if (recipientId === undefined) continue;
      drafts.push(
        ...payoutIntents(event, { payoutId, recipientId, amountMinor: Number(payout.amount_minor) }),
      );
    }
    return drafts;
  }

  /**
   * Records the drafts (a replay inserts nothing) and dispatches every one of them, new or not:
   * a crash between the insert and the dispatch is repaired by the replay, and the job ids and
   * the claimed sends keep it to one message. One insert and a bulk enqueue per queue per call,
   * whatever the number of drafts.
   */
  async function record(given: readonly IntentDraft[]): Promise<Set<string>> {
    // One batch may name an intent twice (two orders taking the last portions of one dish).
    const drafts = [...new Map(given.map((draft) => [draft.id, draft])).values()];
    if (drafts.length === 0) return new Set();
    // Each recipient read once for the whole call: the dispatch and the centre's publication both
    // need the person (their channels, their language).
    const known = new Map<string, Promise<Recipient | undefined>>();
    const recipientOf = (recipientId: string): Promise<Recipient | undefined> => {
      let found = known.get(recipientId);
      if (found === undefined) {
        found = options.recipients.recipient(recipientId);
        known.set(recipientId, found);
      }
      return found;
    };
    const inserted = new Set<string>();
    for (let index = 0; index < drafts.length; index += RECORD_CHUNK) {
      const chunk = drafts.slice(index, index + RECORD_CHUNK);
      const fresh = await repository.insertIntents(chunk, now());
      for (const id of fresh) inserted.add(id);
      // New intents are dispatched here, in bulk; a replay's (already recorded, maybe sent) go
      // through their dispatch job, which leaves alone those no longer pending.
      await delivery.dispatchMany(
        chunk
          .filter((draft) => fresh.has(draft.id))
          .map((draft) => ({
            id: draft.id,
            recipient_id: draft.recipientId,
            kind: draft.kind,
            priority: draft.priority,
            requires_ack: draft.requiresAck,
            receipt: draft.receipt,
            paramsClear: draft.params,
          })),
        recipientOf,
      );
      await options.queue.enqueueMany(
        'notify-dispatch',
        chunk
          .filter((draft) => !fresh.has(draft.id))
          .map((draft) => ({ data: { intentId: draft.id }, jobId: draft.id })),
      );
    }
    for (const draft of drafts) if (inserted.has(draft.id)) metrics.intents.inc({ kind: draft.kind });
    publish(
      drafts.filter((draft) => inserted.has(draft.id)),
      recipientOf,
    );
    return inserted;
  }

  /**
   * The new centre entries on their recipients' WebSocket audiences (fire-and-forget): each
   * recipient's language read once, one publication for the lot.
   */
  function publish(
    drafts: readonly IntentDraft[],
    recipientOf: (recipientId: string) => Promise<Recipient | undefined>,
  ): void {
    if (drafts.length === 0) return;
    void (async () => {
      const languages = new Map<string, Language>();
      for (const recipientId of new Set(drafts.map((draft) => draft.recipientId)))
        languages.set(recipientId, (await recipientOf(recipientId))?.language ?? DEFAULT_LANGUAGE);
      await options.bus.publish(
        drafts.map((draft) => {
          const text = templates.render(draft.kind, languages.get(draft.recipientId)!, draft.params);
          return {
            // Whichever namespace the person is connected to (customer, restaurant, driver).
            audiences: [
              audiences.customer(draft.recipientId),
              audiences.owner(draft.recipientId),
              audiences.driver(draft.recipientId),
            ],
            message: {
              channel: 'notifications',
              type: 'notification.created',
              at: now().toISOString(),
              // The order id stays in `data`: clients follow an order's own events by the top-level one.
              data: {
                id: draft.id,
                kind: draft.kind,
                title: text.title,
                body: text.body,
                orderId: draft.orderId,
              },
            },
          };
        }),
      );
    })().catch((error: unknown) => {
      logger.warn({ err: error, intents: drafts.length }, 'real-time publish of notifications failed');
    });
  }

  /**
   * One batch of the reactor: the intents of its events worked out a few at a time (reads of
   * orders and payments), then recorded with one insert and one bulk enqueue.
   */
  async function handleBatch(events: readonly RecordedEvent[]): Promise<void> {
    const facts = new Map<string, Promise<OrderFacts | undefined>>();
    const drafts: IntentDraft[] = [];
    for (let index = 0; index < events.length; index += READ_PARALLELISM) {
      const slice = events.slice(index, index + READ_PARALLELISM);
      for (const found of await Promise.all(slice.map((event) => intentsOf(event, facts))))
        drafts.push(...found);
    }
    await record(drafts);
    for (const event of events) for (const listener of listeners) listener(event);
  }

  const handle = (event: RecordedEvent): Promise<void> => handleBatch([event]);

  const reactor = createReactor({
    name: INTENT_REACTOR,
    db: options.db,
    checkpointTable: 'notify_reactor_checkpoints',
    eventStore: options.eventStore,
    filter: {
      streamPrefixes: [ORDER_STREAM_PREFIX, PAYMENT_STREAM_PREFIX, LEDGER_STREAM_PREFIX],
      eventTypes: [...NOTIFIED_ORDER_EVENTS, ...NOTIFIED_PAYMENT_EVENTS, LEDGER_BATCH],
    },
    logger,
    handle,
    handleBatch,
    // Deployed on a store with history, it tells nobody about the past.
    firstStart: 'end',
  });

  async function view(row: IntentRow, userId: string): Promise<CentreItem> {
    const recipient = await options.recipients.recipient(userId);
    const text = templates.render(row.kind, recipient?.language ?? DEFAULT_LANGUAGE, row.paramsClear);
    return {
      id: row.id,
      kind: row.kind,
      category: row.category,
      title: text.title,
      body: text.body,
      orderId: row.order_id,
      requiresAck: row.requires_ack,
      createdAt: row.created_at.toISOString(),
      readAt: row.read_at?.toISOString() ?? null,
      acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
    };
  }

  const centre = {
    async list(userId: string, query: { cursor?: string; limit?: number }) {
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (query.cursor !== undefined && after === undefined)
        throw notifyErrors.of('validation', 'invalid_cursor', 'The page cursor is not one this API issued.');
      const limit = Math.min(Math.max(query.limit ?? 20, 1), PAGE_MAX);
      const rows = await repository.page(userId, after, limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: await Promise.all(page.map((row) => view(row, userId))),
        nextCursor:
          rows.length > limit && last !== undefined
            ? encodeCursor({ createdAt: last.created_at, id: last.id })
            : null,
        unreadCount: await repository.unreadCount(userId),
      };
    },
    /** Read (and, for `ack`, acknowledged: a critical push needs no SMS any more). */
    async markRead(userId: string, id: string, ack: boolean) {
      const row = UUID.test(id) ? await repository.markRead(userId, id, now(), ack) : undefined;
      if (row === undefined)
        throw notifyErrors.of(
          'not_found',
          'notification_not_found',
          'There is no such notification among yours.',
        );
      return view(row, userId);
    },
    markAllRead: async (userId: string) => ({ updated: await repository.markAllRead(userId, now()) }),
  };

  async function deadLetters(query: { cursor?: string; limit?: number }) {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && after === undefined)
      throw notifyErrors.of('validation', 'invalid_cursor', 'The page cursor is not one this API issued.');
    const limit = Math.min(Math.max(query.limit ?? 20, 1), PAGE_MAX);
    const rows = await repository.deadLetters(after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({
        id: row.id,
        intentId: row.intent_id,
        channel: row.channel,
        queue: row.queue,
        reason: row.reason,
        attempts: row.attempts,
        createdAt: row.created_at.toISOString(),
      })),
      nextCursor:
        rows.length > limit && last !== undefined
          ? encodeCursor({ createdAt: last.created_at, id: last.id })
          : null,
    };
  }

  /**
   * Staff alerts of what no event tells (payouts stopped for review, reconciliation exceptions):
   * what changed in the last STAFF_SWEEP_WINDOW_MS, told to each administrator. Each fact names
   * its intents (`payout-review:<id>:<since>`, `reconciliation:<run>`), so the sweeps that find
   * it again, every minute of the window, record nothing new.
   */
  async function sweepStaffAlerts(at: Date = now()): Promise<number> {
    const since = new Date(at.getTime() - STAFF_SWEEP_WINDOW_MS);
    const [payouts, runs] = await Promise.all([
      options.paymentAlerts.payoutsInReview(since),
      options.paymentAlerts.reconciliationExceptions(since),
    ]);
    if (payouts.length === 0 && runs.length === 0) return 0;
    const staff = await options.staffIds(FINANCE_ROLES);
    const drafts = [
      ...payouts.flatMap((payout) =>
        staffAlertIntents(
          `payout-review:${payout.payoutId}:${payout.since.toISOString()}`,
          staff,
          'staff.payout_review',
          { payout: payout.payoutId.slice(0, 8), amount: payout.amountMinor },
        ),
      ),
      ...runs.flatMap((run) =>
        staffAlertIntents(`reconciliation:${run.runId}`, staff, 'staff.reconciliation_mismatch', {
          provider: run.provider,
          run: run.runId.slice(0, 8),
          count: run.exceptions,
        }),
      ),
    ];
    return (await record(drafts)).size;
  }

  /**
   * The port the dispatch context calls when it offers a delivery to a driver: one intent per
   * offer (named after the offer id: asking twice tells once), pushed with the offer's expiry as
   * its time to live, and not sent at all once the offer has lapsed.
   */
  async function driverOffer(offer: DriverOffer): Promise<{ intentId: string; created: boolean }> {
    const problem = offerProblem(offer, now());
    if (problem !== undefined) throw notifyErrors.of('validation', 'driver_offer_invalid', problem);
    const draft = driverOfferIntent(offer);
    draft.params.expiresAt = offer.expiresAt.toISOString();
    const inserted = await record([draft]);
    return { intentId: draft.id, created: inserted.has(draft.id) };
  }

  /**
   * The port the dispatch context calls when a driver enters an order's geofence: one push (with
   * its SMS fallback) to the restaurant at the restaurant, to the customer near the drop point,
   * for a phone that is not on the WebSocket. Named after the order and the kind: told once.
   */
  async function driverArrival(arrival: DriverArrival): Promise<{ intentId: string; created: boolean }> {
    for (const [name, id] of [
      ['orderId', arrival.orderId],
      ['customerId', arrival.customerId],
      ['ownerId', arrival.ownerId],
    ] as const)
      if (typeof id !== 'string' || !UUID.test(id))
        throw notifyErrors.of('validation', 'driver_arrival_invalid', `${name} must be a UUID.`);
    if (arrival.kind !== 'restaurant' && arrival.kind !== 'customer')
      throw notifyErrors.of('validation', 'driver_arrival_invalid', 'kind is restaurant or customer.');
    const draft = driverArrivalIntent(arrival);
    const inserted = await record([draft]);
    return { intentId: draft.id, created: inserted.has(draft.id) };
  }

  /**
   * The port the dispatch context's daily round calls: a licence or insurance about to expire, or
   * a vehicle's maintenance due. Named after the fact (intents.ts `driverReminderIntent`), so the
   * round of every instance records it once.
   */
  async function driverReminder(reminder: DriverReminder): Promise<{ intentId: string; created: boolean }> {
    if (typeof reminder.driverId !== 'string' || !UUID.test(reminder.driverId))
      throw notifyErrors.of('validation', 'driver_reminder_invalid', 'driverId must be a UUID.');
    const draft = driverReminderIntent(reminder);
    const inserted = await record([draft]);
    return { intentId: draft.id, created: inserted.has(draft.id) };
  }

  /** The port dispatch calls when a customer's ETA moved past its threshold: one push per ETA. */
  async function orderEta(moved: OrderEtaMoved): Promise<{ intentId: string; created: boolean }> {
    if (
      !UUID.test(moved.orderId) ||
      !UUID.test(moved.customerId) ||
      Number.isNaN(moved.estimatedArrivalAt.getTime())
    )
      throw notifyErrors.of(
        'validation',
        'order_eta_invalid',
        'An ETA names an order, its customer and a time.',
      );
    const draft = orderEtaIntent(moved);
    const inserted = await record([draft]);
    return { intentId: draft.id, created: inserted.has(draft.id) };
  }

  /**
   * The port dispatch calls when a driver presses the emergency button: support and administrators
   * told, critical (SMS when there is no device or the push is not acknowledged). Named after the
   * report: a retried press, or any instance asking again, records nothing new.
   */
  async function driverEmergency(alert: DriverEmergency): Promise<{ created: number }> {
    if (!UUID.test(alert.reportId) || !UUID.test(alert.driverId))
      throw notifyErrors.of(
        'validation',
        'driver_emergency_invalid',
        'An emergency names its report and driver.',
      );
    const staff = await options.staffIds(DISPUTE_ROLES);
    return { created: (await record(driverEmergencyIntents(alert, staff))).size };
  }

  /** The port dispatch calls for a stored speed alert: the driver's phone, once per alert. */
  async function driverSpeedWarning(
    warning: DriverSpeedWarning,
  ): Promise<{ intentId: string; created: boolean }> {
    if (
      !UUID.test(warning.alertId) ||
      !UUID.test(warning.driverId) ||
      !UUID.test(warning.orderId) ||
      !Number.isSafeInteger(warning.speedKmh) ||
      !Number.isSafeInteger(warning.limitKmh) ||
      warning.limitKmh <= 0 ||
      warning.speedKmh < warning.limitKmh
    )
      throw notifyErrors.of(
        'validation',
        'driver_speed_warning_invalid',
        'A speed warning names its alert, driver and order, and a speed at or above the limit.',
      );
    const draft = driverSpeedWarningIntent(warning);
    const inserted = await record([draft]);
    return { intentId: draft.id, created: inserted.has(draft.id) };
  }

  /**
   * The support context's entry points: a staff reply told to an opener who is not connected
   * (one intent per message), and an SLA breach told to supervisors (one intent per ticket,
   * breach, due time and recipient). Ids name the fact, so asking twice, from any instance,
   * records and sends once.
   */
  async function supportReply(reply: SupportReply): Promise<{ intentId: string; created: boolean }> {
    if (!UUID.test(reply.messageId) || !UUID.test(reply.ticketId) || !UUID.test(reply.recipientId))
      throw notifyErrors.of('validation', 'support_notice_invalid', 'Support notices name UUIDs.');
    const draft = supportReplyIntent(reply);
    const inserted = await record([draft]);
    return { intentId: draft.id, created: inserted.has(draft.id) };
  }

  /**
   * A staff reply on a ticket opened by e-mail: sent to the opener by e-mail (delivery.ts
   * `planDispatch`), one intent per message like `supportReply`.
   */
  async function supportEmailReply(
    reply: SupportEmailReply,
  ): Promise<{ intentId: string; created: boolean }> {
    if (!UUID.test(reply.messageId) || !UUID.test(reply.ticketId) || !UUID.test(reply.recipientId))
      throw notifyErrors.of('validation', 'support_notice_invalid', 'Support notices name UUIDs.');
    const draft = supportEmailReplyIntent(reply);
    const inserted = await record([draft]);
    return { intentId: draft.id, created: inserted.has(draft.id) };
  }

  /**
   * A newsletter batch (the admin context's campaigns): one intent per (campaign, recipient),
   * dispatched like any other; a batch recorded again (a crash, two instances) records nothing new
   * and its pending intents go through their dispatch job. Answers how many were new.
   */
  async function newsletter(messages: readonly NewsletterMessage[]): Promise<{ created: number }> {
    if (messages.some((message) => !UUID.test(message.campaignId) || !UUID.test(message.recipientId)))
      throw notifyErrors.of('validation', 'newsletter_invalid', 'Newsletter messages name UUIDs.');
    return { created: (await record(messages.map(newsletterIntent))).size };
  }

  async function supportSlaBreach(alert: SupportSlaBreach): Promise<{ created: number }> {
    if (!UUID.test(alert.ticketId) || alert.recipientIds.some((id) => !UUID.test(id)))
      throw notifyErrors.of('validation', 'support_notice_invalid', 'Support notices name UUIDs.');
    return { created: (await record(supportSlaIntents(alert))).size };
  }

  /**
   * The community context's entry points (docs/community.md "Notices"): a group cart's facts told
   * to the recipients community chose, and a bulk order's to its customer or its restaurant's
   * owner. Each intent is named after the fact (intents.ts `groupCartIntents`, `bulkOrderIntent`),
   * so a fact told by two instances, or by a request and the sweep, is recorded and sent once.
   */
  async function groupCartNotice(notice: GroupCartNotice): Promise<{ created: number }> {
    if (
      !UUID.test(notice.cartId) ||
      (notice.subjectId !== undefined && !UUID.test(notice.subjectId)) ||
      (notice.orderId !== undefined && !UUID.test(notice.orderId)) ||
      notice.recipients.some((recipient) => !UUID.test(recipient.userId))
    )
      throw notifyErrors.of('validation', 'community_notice_invalid', 'Community notices name UUIDs.');
    return { created: (await record(groupCartIntents(notice))).size };
  }

  async function bulkOrderNotice(notice: BulkOrderNotice): Promise<{ intentId: string; created: boolean }> {
    if (
      !UUID.test(notice.bulkOrderId) ||
      !UUID.test(notice.recipientId) ||
      (notice.orderId !== undefined && !UUID.test(notice.orderId))
    )
      throw notifyErrors.of('validation', 'community_notice_invalid', 'Community notices name UUIDs.');
    const draft = bulkOrderIntent(notice);
    const inserted = await record([draft]);
    return { intentId: draft.id, created: inserted.has(draft.id) };
  }

  /**
   * Per channel over a period: sends by status, the success rate (sent against failed), the
   * providers' receipts and the delivered rate, and the cost: the providers' own figures where
   * they gave one, the configured unit cost for the other sent messages.
   */
  async function stats(query: { from?: string; to?: string }) {
    const to = query.to === undefined ? now() : new Date(query.to);
    const from = query.from === undefined ? new Date(to.getTime() - 86_400_000) : new Date(query.from);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from.getTime() >= to.getTime())
      throw notifyErrors.of('validation', 'stats_period_invalid', '`from` must be a date-time before `to`.');
    if (to.getTime() - from.getTime() > STATS_MAX_PERIOD_MS)
      throw notifyErrors.of('validation', 'stats_period_invalid', 'The period is at most 93 days.');
    const rows = await repository.deliveryCounts(from, to);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      channels: (['push', 'sms', 'email'] as const).map((channel) =>
        channelStats(
          channel,
          rows.filter((row) => row.channel === channel),
          options.costXaf[channel],
        ),
      ),
    };
  }

  return {
    repository,
    delivery,
    stats,
    sweepStaffAlerts,
    driverOffer,
    driverArrival,
    driverReminder,
    orderEta,
    driverEmergency,
    driverSpeedWarning,
    supportReply,
    supportEmailReply,
    supportSlaBreach,
    newsletter,
    groupCartNotice,
    bulkOrderNotice,
    /** Who a recipient is for delivery (identity's account): tests build deliveries over it. */
    recipients: options.recipients,
    centre,
    deadLetters,
    record,
    /** Handles one event as the reactor does (its intents recorded and dispatched). */
    react: handle,
    /** Reactor start and stop (the context contributes them). */
    reactor,
    /** Called after each event the reactor handled (tests wait on it). */
    onHandled(listener: (event: RecordedEvent) => void) {
      listeners.push(listener);
    },
  };
}

export type Notify = ReturnType<typeof createNotify>;

function encodeCursor(after: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([after.createdAt.toISOString(), after.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } | undefined {
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [at, id] = value as [unknown, unknown];
    if (typeof at !== 'string' || typeof id !== 'string' || !UUID.test(id)) return undefined;
    const createdAt = new Date(at);
    return Number.isNaN(createdAt.getTime()) ? undefined : { createdAt, id };
  } catch {
    return undefined;
  }
}

/** The calendar day in Douala (low-stock alerts: one per item and level per day). */
export function doualaDay(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Africa/Douala',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

const OFFER_MAX_MS = 60 * 60_000;

/** Why an offer cannot be told, or undefined when it can. */
function offerProblem(offer: DriverOffer, at: Date): string | undefined {
  for (const [name, id] of [
    ['offerId', offer.offerId],
    ['driverId', offer.driverId],
    ['orderId', offer.orderId],
  ] as const)
    if (typeof id !== 'string' || !UUID.test(id)) return `${name} must be a UUID.`;
  if (
    typeof offer.restaurantName !== 'string' ||
    offer.restaurantName.length === 0 ||
    offer.restaurantName.length > 200
  )
    return 'restaurantName must be 1 to 200 characters.';
  if (!Number.isSafeInteger(offer.earningsMinor) || offer.earningsMinor < 0)
    return 'earningsMinor must be a whole number of XAF, 0 or more.';
  if (
    !Number.isFinite(offer.pickupDistanceMetres) ||
    offer.pickupDistanceMetres < 0 ||
    offer.pickupDistanceMetres > 1_000_000
  )
    return 'pickupDistanceMetres must be between 0 and 1,000,000.';
  const expires = offer.expiresAt instanceof Date ? offer.expiresAt.getTime() : Number.NaN;
  if (Number.isNaN(expires) || expires <= at.getTime() || expires - at.getTime() > OFFER_MAX_MS)
    return 'expiresAt must be in the future, within an hour.';
  return undefined;
}

type CountRow = {
  status: string;
  providerStatus: string | null;
  count: number;
  knownCostXaf: number;
  withCost: number;
};

/** One channel's figures from its grouped counts (pure). */
export function channelStats(channel: string, rows: readonly CountRow[], unitCostXaf: number) {
  const sum = (keep: (row: CountRow) => boolean, value: (row: CountRow) => number = (row) => row.count) =>
    rows.filter(keep).reduce((total, row) => total + value(row), 0);
  const sends = {
    sent: sum((row) => row.status === 'sent'),
    failed: sum((row) => row.status === 'failed'),
    capped: sum((row) => row.status === 'capped'),
    sending: sum((row) => row.status === 'sending'),
  };
  const receipts = {
    queued: sum((row) => row.providerStatus === 'queued'),
    sent: sum((row) => row.providerStatus === 'sent'),
    delivered: sum((row) => row.providerStatus === 'delivered'),
    failed: sum((row) => row.providerStatus === 'failed'),
  };
  const sent = (row: CountRow) => row.status === 'sent';
  const fromProvider = sum(sent, (row) => row.knownCostXaf);
  const estimated = sum(sent, (row) => row.count - row.withCost) * unitCostXaf;
  const rate = (part: number, whole: number) =>
    whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;
  return {
    channel,
    sends,
    successRate: rate(sends.sent, sends.sent + sends.failed),
    receipts,
    deliveredRate: rate(receipts.delivered, receipts.delivered + receipts.failed),
    costXaf: { total: fromProvider + estimated, fromProvider, estimated, unitCostXaf },
  };
}
