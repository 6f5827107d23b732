/**
 * Which domain event tells whom what: the one table of it (docs/notifications.md lists it).
 * Pure: an event and the facts of its order or payment in, intent drafts out. Each draft's id is
 * derived from the event id, the recipient and the kind (`intentId`), so handling an event twice
 * (a replay after a crash) names the same intents and inserts nothing new.
 */
import { createHash } from 'node:crypto';
import type { OrderEvent } from '../orders/index.js';

export type Category = 'orders' | 'promotions' | 'account';
/**
 * critical: the restaurant's new paid order (never capped, SMS when the push is not acknowledged);
 * high: order steps for the customer (capped last); normal: wallet and account news; low: marketing.
 */
export type Priority = 'critical' | 'high' | 'normal' | 'low';
export const PRIORITIES: readonly Priority[] = ['critical', 'high', 'normal', 'low'];

export interface IntentDraft {
  id: string;
  recipientId: string;
  kind: string;
  category: Category;
  priority: Priority;
  /** The template's placeholders (personal data possible: stored encrypted). */
  params: Record<string, string | number>;
  orderId: string | null;
  sourceEventId: string;
  /** A push that must be acknowledged within NOTIFY_ACK_TIMEOUT_SECONDS, else an SMS follows. */
  requiresAck: boolean;
  /** Also sent by e-mail when the recipient has an address (receipts and statements). */
  receipt: boolean;
}

/** A UUID named by its parts (version 5 layout over SHA-256). */
export function intentId(eventId: string, recipientId: string, kind: string): string {
  const bytes = createHash('sha256')
    .update(`notification-intent\u0000${eventId}\u0000${recipientId}\u0000${kind}`)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What an order's notifications need to know beyond the event (from the order's first event). */
export interface OrderFacts {
  orderId: string;
  customerId: string;
  ownerId: string;
  restaurantName: string;
  itemCount: number;
  totalMinor: number;
  trackingUrl: string;
}

/** The notified order event types: the reactor's filter. */
export const NOTIFIED_ORDER_EVENTS = [
  'OrderPaymentCaptured',
  'OrderPaymentFailed',
  'OrderPaymentExpired',
  'OrderAccepted',
  'OrderRejected',
  'OrderCancelled',
  'OrderReadyForPickup',
  'OrderPickedUp',
  'OrderDelivered',
  'OrderDeliveryFailed',
  'OrderDisputeResolved',
  // Staff hear of disputes; an order taking tracked stock may leave an item low (restaurant).
  'OrderDisputeOpened',
  'OrderCreated',
] as const satisfies readonly OrderEvent['type'][];

export const NOTIFIED_PAYMENT_EVENTS = ['PaymentSucceeded', 'PaymentFailed', 'PaymentExpired'] as const;

interface Source {
  eventId: string;
}

function draft(
  source: Source,
  recipientId: string,
  kind: string,
  fields: Partial<Omit<IntentDraft, 'id' | 'recipientId' | 'kind' | 'sourceEventId'>> & {
    params: IntentDraft['params'];
  },
): IntentDraft {
  return {
    id: intentId(source.eventId, recipientId, kind),
    recipientId,
    kind,
    category: fields.category ?? 'orders',
    priority: fields.priority ?? 'high',
    params: fields.params,
    orderId: fields.orderId ?? null,
    sourceEventId: source.eventId,
    requiresAck: fields.requiresAck ?? false,
    receipt: fields.receipt ?? false,
  };
}

/**
 * The marker an order's events carry in their metadata when a USSD session placed the order
 * (`channel: 'ussd'`, set by the ussd context). A capture appended with it was paid in the
 * placement itself (a wallet order), and the USSD session texts the order number and delivery PIN
 * to the calling phone right after: the customer's `order.placed` records this in its params
 * (`SMS_SENT_BY_PARAM`) and sends no SMS of its own (delivery.ts `smsSentElsewhere`).
 */
export const USSD_CHANNEL = 'ussd';
export const SMS_SENT_BY_PARAM = 'smsSentBy';

/**
 * The intents of one order event. `driverFirstName` is asked only for OrderPickedUp (the caller
 * looks the driver up).
 */
export function orderIntents(
  event: { id: string; metadata?: Readonly<Record<string, unknown>> } & OrderEvent,
  order: OrderFacts,
  driverFirstName?: string,
): IntentDraft[] {
  const source = { eventId: event.id };
  const customer = (kind: string, params: IntentDraft['params'] = {}, receipt = false) =>
    draft(source, order.customerId, `order.${kind}`, {
      params: { restaurant: order.restaurantName, ...params },
      orderId: order.orderId,
      receipt,
    });
  switch (event.type) {
    case 'OrderPaymentCaptured':
      return [
        customer(
          'placed',
          {
            count: order.itemCount,
            total: order.totalMinor,
            // Captured by a USSD placement: its own SMS (number and delivery PIN) is the one.
            ...(event.metadata?.channel === USSD_CHANNEL ? { [SMS_SENT_BY_PARAM]: USSD_CHANNEL } : {}),
          },
          true,
        ),
        draft(source, order.ownerId, 'restaurant.new_order', {
          params: { restaurant: order.restaurantName, count: order.itemCount, total: order.totalMinor },
          orderId: order.orderId,
          priority: 'critical',
          requiresAck: true,
        }),
      ];
    case 'OrderPaymentFailed':
    case 'OrderPaymentExpired':
      return [customer('payment_failed')];
    case 'OrderAccepted':
      return [customer('accepted', { count: event.data.preparationMinutes })];
    case 'OrderRejected':
      return [customer('rejected', { refund: event.data.refundMinor })];
    case 'OrderCancelled': {
      const drafts = [customer('cancelled', { refund: event.data.refundMinor })];
      // The restaurant hears of a cancellation it did not make, of an order it had been told of.
      if (event.data.by.role !== 'restaurant' && event.data.previousStatus !== 'PENDING_PAYMENT')
        drafts.push(
          draft(source, order.ownerId, 'restaurant.order_cancelled', {
            params: { total: order.totalMinor },
            orderId: order.orderId,
          }),
        );
      return drafts;
    }
    case 'OrderReadyForPickup':
      return [customer('ready')];
    case 'OrderPickedUp':
      return [customer('picked_up', { driver: driverFirstName ?? '', link: order.trackingUrl })];
    case 'OrderDelivered':
      return [customer('delivered')];
    case 'OrderDeliveryFailed':
      return [customer('delivery_failed')];
    case 'OrderDisputeResolved':
      return event.data.refundMinor > 0 ? [customer('refunded', { refund: event.data.refundMinor })] : [];
    default:
      return [];
  }
}

/** What a wallet top-up's notifications need from its first event (PaymentInitiated). */
export interface PaymentFacts {
  paymentId: string;
  userId: string;
  purpose: 'topup' | 'order';
  amountMinor: number;
}

/** The intents of a payment event: top-ups only (an order's payment is told through the order). */
export function paymentIntents(
  event: { id: string; type: string; data: unknown },
  payment: PaymentFacts,
): IntentDraft[] {
  if (payment.purpose !== 'topup') return [];
  const source = { eventId: event.id };
  switch (event.type) {
    case 'PaymentSucceeded': {
      const amount = (event.data as { amountMinor?: number }).amountMinor ?? payment.amountMinor;
      return [
        draft(source, payment.userId, 'wallet.topup_succeeded', {
          params: { amount },
          category: 'account',
          priority: 'normal',
          receipt: true,
        }),
      ];
    }
    case 'PaymentFailed':
    case 'PaymentExpired':
      return [
        draft(source, payment.userId, 'wallet.topup_failed', {
          params: { amount: payment.amountMinor },
          category: 'account',
          priority: 'normal',
        }),
      ];
    default:
      return [];
  }
}

/** The first name of a person's display name (a driver is told by first name only). */
export function firstNameOf(name: string | null | undefined): string {
  return (name ?? '').trim().split(/\s+/)[0] ?? '';
}

/** The payouts a ledger batch posted: ids of its `payout:<id>:post` transfers (payouts.ts names them). */
export function payoutsPostedIn(data: unknown): string[] {
  const batch = (data as { batch?: unknown } | null)?.batch;
  // Most batches move no payout: a text search skips them before any parse.
  if (typeof batch !== 'string' || !batch.includes('"payout:')) return [];
  const parsed = JSON.parse(batch) as { transfersAccepted?: { id?: unknown }[] };
  const posted: string[] = [];
  for (const transfer of parsed.transfersAccepted ?? []) {
    const match = typeof transfer.id === 'string' ? /^payout:([0-9a-f-]{36}):post$/.exec(transfer.id) : null;
    if (match !== null) posted.push(match[1]!);
  }
  return posted;
}

/** A payout that reached its payee's Mobile Money: the payee (a restaurant's owner) is told. */
export function payoutIntents(
  event: { id: string },
  payout: { payoutId: string; recipientId: string; amountMinor: number },
): IntentDraft[] {
  // One batch may post several payouts to one person: each is its own intent.
  const source = { eventId: `${event.id}/${payout.payoutId}` };
  return [
    draft(source, payout.recipientId, 'payout.sent', {
      params: { amount: payout.amountMinor },
      category: 'account',
      priority: 'normal',
      receipt: true,
    }),
  ];
}

// ---- staff alerts, low stock, driver offers

/** The staff roles an alert goes to: every active account with one of them. */
export type StaffRole = 'admin' | 'support';

/**
 * A staff alert to each staff member (ids and counts only: no customer data in the text). The
 * source names the fact (`dispute:<event id>`, `payout-review:<payout id>:<since>`, …), so a
 * sweep that finds the same fact again names the same intents.
 */
export function staffAlertIntents(
  source: string,
  staffIds: readonly string[],
  kind: 'staff.dispute_opened' | 'staff.payout_review' | 'staff.reconciliation_mismatch',
  params: IntentDraft['params'],
  orderId: string | null = null,
): IntentDraft[] {
  return staffIds.map((staffId) =>
    draft({ eventId: source }, staffId, kind, { params, orderId, category: 'account', priority: 'high' }),
  );
}

/** Who is told of an opened dispute: support answers them, administrators oversee. */
export const DISPUTE_ROLES: readonly StaffRole[] = ['support', 'admin'];
/** Who is told of money held for a decision (a payout in review, a reconciliation exception). */
export const FINANCE_ROLES: readonly StaffRole[] = ['admin'];

/** An order's dispute, told to staff (the order id, never the reason: a customer's words). */
export function disputeIntents(
  event: { id: string },
  order: Pick<OrderFacts, 'orderId' | 'restaurantName' | 'totalMinor'>,
  staffIds: readonly string[],
): IntentDraft[] {
  return staffAlertIntents(
    `dispute:${event.id}`,
    staffIds,
    'staff.dispute_opened',
    { restaurant: order.restaurantName, total: order.totalMinor, order: order.orderId.slice(0, 8) },
    order.orderId,
  );
}

/** A stock level a restaurant is told of: `low` at or under the threshold, `out` at zero. */
export type StockLevel = 'low' | 'out';

export function stockLevelOf(stock: number | null, threshold: number): StockLevel | undefined {
  if (stock === null) return undefined; // untracked: never short
  if (stock <= 0) return 'out';
  return stock <= threshold ? 'low' : undefined;
}

/**
 * The restaurant's low-stock alerts after an order took some of its tracked items: one per item
 * and level (`low`, `out`) per day in Douala, whatever the number of orders that day, so a dish
 * selling its last ten portions rings twice (low, then sold out), not ten times.
 */
export function lowStockIntents(
  ownerId: string,
  items: readonly { itemId: string; name: string; stock: number | null }[],
  threshold: number,
  day: string,
): IntentDraft[] {
  const drafts: IntentDraft[] = [];
  for (const item of items) {
    const level = stockLevelOf(item.stock, threshold);
    if (level === undefined) continue;
    drafts.push(
      draft(
        { eventId: `stock:${item.itemId}:${level}:${day}` },
        ownerId,
        level === 'out' ? 'restaurant.sold_out' : 'restaurant.low_stock',
        {
          params: { item: item.name, count: Math.max(0, item.stock ?? 0) },
          category: 'orders',
          priority: 'normal',
        },
      ),
    );
  }
  return drafts;
}

/** An offer of a delivery to a driver (the dispatch context makes offers; notify tells). */
export interface DriverOffer {
  /** The offer's own id: one intent per offer, however often dispatch asks. */
  offerId: string;
  driverId: string;
  orderId: string;
  restaurantName: string;
  /** What the driver earns for the delivery, in XAF. */
  earningsMinor: number;
  /** Distance from the driver to the restaurant, in metres. */
  pickupDistanceMetres: number;
  /** When the offer lapses: the push is not kept by FCM past it. */
  expiresAt: Date;
}

export function driverOfferIntent(offer: DriverOffer): IntentDraft {
  return draft({ eventId: `offer:${offer.offerId}` }, offer.driverId, 'driver.offer', {
    params: {
      restaurant: offer.restaurantName,
      earnings: offer.earningsMinor,
      distance: Math.round(offer.pickupDistanceMetres / 100) / 10,
    },
    orderId: offer.orderId,
    priority: 'high',
  });
}

/**
 * A driver reached a geofence of an order (the dispatch context decides, once per order and kind):
 * at the restaurant, its owner is told the driver is at the counter; near the drop point, the
 * customer is told to get ready. Named after the order and the kind: told once, whoever asks again.
 */
export interface DriverArrival {
  orderId: string;
  kind: 'restaurant' | 'customer';
  customerId: string;
  ownerId: string;
}

export function driverArrivalIntent(arrival: DriverArrival): IntentDraft {
  const source = { eventId: `arrival:${arrival.orderId}:${arrival.kind}` };
  return arrival.kind === 'restaurant'
    ? draft(source, arrival.ownerId, 'restaurant.driver_arrived', {
        params: { order: arrival.orderId.slice(0, 8) },
        orderId: arrival.orderId,
        priority: 'high',
      })
    : draft(source, arrival.customerId, 'order.driver_arriving', {
        params: {},
        orderId: arrival.orderId,
        priority: 'high',
      });
}

/**
 * A reminder to a driver (the dispatch context's daily round decides): a licence or insurance
 * ending in 30 or 7 days, or a vehicle's maintenance due (by date or by mileage). `key` names the
 * fact (the document, its expiry and the threshold; the due date or the due mileage), so the
 * rounds of every instance, and a rerun, record one intent per fact.
 */
export type DriverReminder =
  | { driverId: string; kind: 'licence' | 'insurance'; expiresOn: string; daysLeft: number }
  | { driverId: string; kind: 'maintenance_date'; dueOn: string; daysLeft: number }
  | { driverId: string; kind: 'maintenance_mileage'; dueKm: number; odometerKm: number };

export function driverReminderIntent(reminder: DriverReminder): IntentDraft {
  const fields = { category: 'account' as const, priority: 'normal' as const };
  switch (reminder.kind) {
    case 'licence':
    case 'insurance':
      return draft(
        {
          eventId: `document-expiry:${reminder.driverId}:${reminder.kind}:${reminder.expiresOn}:${reminder.daysLeft}`,
        },
        reminder.driverId,
        `driver.${reminder.kind}_expiring`,
        { ...fields, params: { date: reminder.expiresOn, days: reminder.daysLeft } },
      );
    case 'maintenance_date':
      return draft(
        { eventId: `maintenance-date:${reminder.driverId}:${reminder.dueOn}:${reminder.daysLeft}` },
        reminder.driverId,
        'driver.maintenance_due',
        { ...fields, params: { date: reminder.dueOn, days: reminder.daysLeft } },
      );
    case 'maintenance_mileage':
      return draft(
        { eventId: `maintenance-mileage:${reminder.driverId}:${reminder.dueKm}` },
        reminder.driverId,
        'driver.maintenance_mileage',
        { ...fields, params: { dueKm: reminder.dueKm, odometerKm: reminder.odometerKm } },
      );
    default: {
      const never: never = reminder;
      throw new Error(`unknown reminder ${JSON.stringify(never)}`);
    }
  }
}

/**
 * A customer's ETA moved by more than the threshold (the dispatch context decides): a push (SMS
 * fallback) for a phone that is not on the socket. Named after the order and the new arrival time
 * (to the minute): the same ETA told by two instances is recorded once.
 */
export interface OrderEtaMoved {
  orderId: string;
  customerId: string;
  estimatedArrivalAt: Date;
}

export function orderEtaIntent(moved: OrderEtaMoved): IntentDraft {
  const minute = new Date(Math.floor(moved.estimatedArrivalAt.getTime() / 60_000) * 60_000);
  // Douala is UTC+1 all year: the time the customer reads.
  const local = new Date(minute.getTime() + 3_600_000).toISOString().slice(11, 16);
  return draft(
    { eventId: `eta:${moved.orderId}:${minute.toISOString()}` },
    moved.customerId,
    'order.eta_changed',
    {
      params: { time: local },
      orderId: moved.orderId,
      priority: 'high',
    },
  );
}

/**
 * A driver drove faster than their vehicle's alert threshold while carrying an order (the dispatch
 * context stores the alert, at most one told per driver per few minutes): the driver's phone is
 * told off the socket. Named after the stored alert: told once, whichever instance asks.
 */
export interface DriverSpeedWarning {
  alertId: string;
  driverId: string;
  orderId: string;
  speedKmh: number;
  limitKmh: number;
}

export function driverSpeedWarningIntent(warning: DriverSpeedWarning): IntentDraft {
  return draft({ eventId: `speed-alert:${warning.alertId}` }, warning.driverId, 'driver.speed_warning', {
    params: { speed: warning.speedKmh, limit: warning.limitKmh },
    orderId: warning.orderId,
    priority: 'high',
  });
}

/**
 * A driver pressed the emergency button (the dispatch context's safety report): every support
 * agent and administrator is told, critical (never capped nor quiet; SMS when no device, or when
 * the push is not acknowledged in time), with the last position the report holds.
 */
export interface DriverEmergency {
  reportId: string;
  driverId: string;
  at: Date;
  position: { latitude: number; longitude: number } | null;
}

export function driverEmergencyIntents(alert: DriverEmergency, staffIds: readonly string[]): IntentDraft[] {
  const where =
    alert.position === null
      ? 'unknown'
      : `${alert.position.latitude.toFixed(5)},${alert.position.longitude.toFixed(5)}`;
  const time = new Date(alert.at.getTime() + 3_600_000).toISOString().slice(11, 16);
  return staffIds.map((staffId) =>
    draft({ eventId: `emergency:${alert.reportId}` }, staffId, 'staff.driver_emergency', {
      params: { report: alert.reportId.slice(0, 8), where, time },
      category: 'account',
      priority: 'critical',
      requiresAck: true,
    }),
  );
}

// ---- support (the support context calls these through notify's service)

/** A support reply's excerpt in a push or SMS (the rest is read in the app). */
export const SUPPORT_EXCERPT_CHARS = 140;

/** A staff reply on a ticket, told to its opener who is not connected (push, else SMS). */
export interface SupportReply {
  /** The message's id: one intent per reply, however often support asks. */
  messageId: string;
  ticketId: string;
  recipientId: string;
  /** The reply's text; cut to SUPPORT_EXCERPT_CHARS here. */
  text: string;
}

export function excerptOf(text: string, max = SUPPORT_EXCERPT_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export function supportReplyIntent(reply: SupportReply): IntentDraft {
  return draft({ eventId: `support-reply:${reply.messageId}` }, reply.recipientId, 'support.reply', {
    params: { ticket: reply.ticketId.slice(0, 8), excerpt: excerptOf(reply.text) },
    category: 'account',
    priority: 'high',
  });
}

/** The kind of a staff reply on a ticket that came in by e-mail: sent back by e-mail. */
export const SUPPORT_EMAIL_REPLY_KIND = 'support.email_reply';
/** The longest reply an e-mail carries (a support message is at most 5 000 characters). */
export const SUPPORT_EMAIL_REPLY_CHARS = 5_000;
/** The ticket's subject in the e-mail's subject (with `Re: ` and the reference, within 200). */
export const SUPPORT_EMAIL_SUBJECT_CHARS = 150;

/**
 * A staff reply on a ticket opened by e-mail, sent to its opener by e-mail: the subject carries
 * the ticket's reference (`[#T-1a2b3c4d]`), which the inbound webhook reads back to continue the
 * ticket; the body is the reply alone and a footer. Where the person allows no e-mail or has no
 * address, the usual push/SMS chain carries it (its SMS is the reply's excerpt).
 */
export interface SupportEmailReply extends SupportReply {
  /** The ticket's subject (the opener's own words: it goes only to them). */
  subject: string;
}

/** A ticket's short reference, `T-` and its id's first 8 hex digits (its SMS names the same 8). */
export function ticketReference(ticketId: string): string {
  return `T-${ticketId.slice(0, 8).toLowerCase()}`;
}

function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}

export function supportEmailReplyIntent(reply: SupportEmailReply): IntentDraft {
  const subject = cutText(reply.subject.replace(/\s+/g, ' ').trim(), SUPPORT_EMAIL_SUBJECT_CHARS);
  return draft({ eventId: `support-reply:${reply.messageId}` }, reply.recipientId, SUPPORT_EMAIL_REPLY_KIND, {
    params: {
      ticket: reply.ticketId.slice(0, 8),
      ticketId: reply.ticketId,
      messageId: reply.messageId,
      ref: ticketReference(reply.ticketId),
      subject: subject.length > 0 ? subject : 'Support',
      reply: cutText(reply.text.trim(), SUPPORT_EMAIL_REPLY_CHARS),
      excerpt: excerptOf(reply.text),
    },
    category: 'account',
    priority: 'high',
  });
}

/** An SLA breach of a ticket, told to supervisors (ids and priority only: no customer data). */
export interface SupportSlaBreach {
  ticketId: string;
  breach: 'first_response' | 'resolution';
  priority: string;
  /** The due time that passed: a ticket due again (reopened, escalated) is a new breach. */
  dueAt: Date;
  recipientIds: readonly string[];
}

export function supportSlaIntents(alert: SupportSlaBreach): IntentDraft[] {
  const kind =
    alert.breach === 'first_response' ? 'staff.support_first_response_late' : 'staff.support_resolution_late';
  return alert.recipientIds.map((recipientId) =>
    draft(
      { eventId: `support-sla:${alert.ticketId}:${alert.breach}:${alert.dueAt.toISOString()}` },
      recipientId,
      kind,
      {
        params: { ticket: alert.ticketId.slice(0, 8), priority: alert.priority },
        category: 'account',
        priority: 'high',
      },
    ),
  );
}

/** The kind of a newsletter's message: its texts are the campaign's, rendered by the admin context. */
export const NEWSLETTER_KIND = 'marketing.newsletter';
/** The channels a newsletter may use, in the intent's params (`channels`, comma-separated). */
export const NEWSLETTER_CHANNELS_PARAM = 'channels';

/**
 * One recipient's message of a newsletter campaign (the admin context renders the texts in the
 * recipient's language, with the unsubscribe link and the SMS STOP line). Named by the campaign
 * and the recipient: a batch sent twice (a crash, two instances) records one intent.
 */
export interface NewsletterMessage {
  campaignId: string;
  recipientId: string;
  channels: readonly ('push' | 'sms' | 'email')[];
  title: string;
  body: string;
  sms: string;
}

export function newsletterIntent(message: NewsletterMessage): IntentDraft {
  return draft({ eventId: `newsletter:${message.campaignId}` }, message.recipientId, NEWSLETTER_KIND, {
    params: {
      title: message.title,
      body: message.body,
      sms: message.sms,
      [NEWSLETTER_CHANNELS_PARAM]: [...new Set(message.channels)].sort().join(','),
    },
    category: 'promotions',
    priority: 'low',
  });
}

// ---- group carts and bulk orders (the community context calls these through notify's service)

/** A time as the people of Douala (UTC+1 all year) read it: `07/12 12:30`. */
export function doualaTime(at: Date): string {
  const local = new Date(at.getTime() + 3_600_000).toISOString();
  return `${local.slice(8, 10)}/${local.slice(5, 7)} ${local.slice(11, 16)}`;
}

/**
 * A fact of a group cart (issue #27, docs/community.md "Notices"), told to the recipients the
 * community context chose: a member joined (the host), the cart was locked and a share is due
 * (each member who owes one, with their amount), a share was paid (the host), the order was
 * placed, the cart ended and paid shares go back (everyone). Named after the cart, the fact and
 * its subject (the member who joined, the payer who paid): asked twice, from any instance, it
 * records one intent per recipient.
 */
export interface GroupCartNotice {
  cartId: string;
  /** The cart's code (what its members typed to join): the cart's name in the texts. */
  code: string;
  event: 'member_joined' | 'share_due' | 'share_paid' | 'placed' | 'expired' | 'failed' | 'abandoned';
  /** Whom the fact is about: the member who joined, the payer who paid (part of its name). */
  subjectId?: string;
  recipients: readonly { userId: string; amountMinor?: number }[];
  /** The cart's expiry (share_due: pay before it). */
  expiresAt?: Date;
  /** The placed order (placed). */
  orderId?: string;
}

export function groupCartIntents(notice: GroupCartNotice): IntentDraft[] {
  const source = {
    eventId: `group-cart:${notice.cartId}:${notice.event}${notice.subjectId === undefined ? '' : `:${notice.subjectId}`}`,
  };
  return notice.recipients.map((recipient) =>
    draft(source, recipient.userId, `group.${notice.event}`, {
      params: {
        code: notice.code,
        ...(recipient.amountMinor === undefined ? {} : { amount: recipient.amountMinor }),
        ...(notice.expiresAt === undefined ? {} : { time: doualaTime(notice.expiresAt) }),
      },
      orderId: notice.orderId ?? null,
      priority: 'high',
    }),
  );
}

/**
 * A fact of a bulk order (issue #27, docs/community.md "Notices"): a new request (the
 * restaurant's owner), the deposit held, the restaurant's answer (confirmed with the balance due,
 * another time proposed, refused), the balance received, the order placed, the request expired
 * unanswered (the customer). Named after the request, the fact and, for a proposal, the proposed
 * time (a second proposal is a new fact): asked twice, it records one intent.
 */
export interface BulkOrderNotice {
  bulkOrderId: string;
  event:
    | 'requested'
    | 'deposit_held'
    | 'confirmed'
    | 'proposed'
    | 'refused'
    | 'balance_paid'
    | 'placed'
    | 'expired';
  recipientId: string;
  /** The agreed (or, for a proposal, the proposed) time. */
  scheduledFor: Date;
  portions?: number;
  totalMinor?: number;
  /** The deposit (held, refunded) or the balance (due, paid). */
  amountMinor?: number;
  /** Answer before (requested, deposit_held, proposed); pay before (confirmed). */
  deadline?: Date;
  orderId?: string;
}

export function bulkOrderIntent(notice: BulkOrderNotice): IntentDraft {
  const suffix = notice.event === 'proposed' ? `:${notice.scheduledFor.toISOString()}` : '';
  const params: IntentDraft['params'] = { when: doualaTime(notice.scheduledFor) };
  if (notice.portions !== undefined) params.portions = notice.portions;
  if (notice.totalMinor !== undefined) params.total = notice.totalMinor;
  if (notice.amountMinor !== undefined) params.amount = notice.amountMinor;
  if (notice.deadline !== undefined) params.deadline = doualaTime(notice.deadline);
  return draft(
    { eventId: `bulk-order:${notice.bulkOrderId}:${notice.event}${suffix}` },
    notice.recipientId,
    `bulk.${notice.event}`,
    { params, orderId: notice.orderId ?? null, priority: 'high' },
  );
}
