/**
 * Delivery of intents: one dispatch job per intent decides the channels (preferences, devices,
 * quiet hours), then one job per channel sends through the notifications port. Every send is
 * claimed first (`notification_deliveries`, key `<intentId>:<channel>`), so a job that runs twice
 * sends once; a send given up after its last retry lands in the dead letters and falls back to
 * the next channel of the chain: push → SMS (when push fails, no device is registered, or a
 * critical message is not acknowledged in time); e-mail besides, for receipts.
 */
import type { Logger } from 'pino';
import type { EnqueueOptions, JobContext, JobDefinition, JobQueue } from '../../jobs/index.js';
import type { NotificationPreferences } from '../identity/index.js';
import type { ChannelResult, OutboundMessage } from '../notifications/index.js';
import type { NotifyMetrics } from './metrics.js';
import {
  hourlyAllowance,
  type DeliveryChannel,
  type IntentRow,
  type NotifyRepository,
} from './repository.js';
import {
  NEWSLETTER_CHANNELS_PARAM,
  NEWSLETTER_KIND,
  SMS_SENT_BY_PARAM,
  SUPPORT_EMAIL_REPLY_KIND,
  USSD_CHANNEL,
} from './intents.js';
import type { Language, Templates } from './templates.js';

export const QUEUES = {
  dispatch: 'notify-dispatch',
  push: 'notify-push',
  sms: 'notify-sms',
  email: 'notify-email',
  ackCheck: 'notify-ack-check',
} as const;

/** Tries per send before the dead letters (back-off doubles from CHANNEL_BACKOFF_MS). */
export const CHANNEL_ATTEMPTS = 5;
export const CHANNEL_BACKOFF_MS = 2_000;
export const DEFAULT_CONCURRENCY = 16;

/** What delivery knows of a person (identity's account, read when the intent is dispatched). */
export interface Recipient {
  phone: string | null;
  email: string | null;
  language: Language;
  preferences: NotificationPreferences;
}

export interface RecipientDirectory {
  /** Undefined when the account is gone (erased): nothing is sent. */
  recipient(userId: string): Promise<Recipient | undefined>;
}

/** The slice of the notifications port delivery sends through. */
export interface Sender {
  deliver(message: OutboundMessage): Promise<ChannelResult & { transport: string }>;
}

export interface ChannelJob {
  intentId: string;
  channel: DeliveryChannel;
  /** The next channel of the chain when this one gives up (push → sms). */
  fallback?: DeliveryChannel;
}

export interface DeliveryOptions {
  repository: NotifyRepository;
  queue: Pick<JobQueue, 'enqueue' | 'enqueueMany'>;
  sender: Sender;
  recipients: RecipientDirectory;
  templates: Templates;
  metrics: NotifyMetrics;
  logger: Logger;
  hourlyCap: number;
  ackTimeoutSeconds: number;
  costXaf: Record<DeliveryChannel, number>;
  /** Jobs each notify queue runs at once per process (NOTIFY_QUEUE_CONCURRENCY; default 16). */
  concurrency?: number;
  now?: () => Date;
}

/** A transient fault: the queue retries with its back-off. */
class TryLater extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'TryLater';
  }
}

type Flags = { push: boolean; sms: boolean; email: boolean };

/** The channels the recipient allows for this intent (critical ones ignore the switches). */
export function channelFlags(
  intent: Pick<IntentRow, 'kind' | 'priority'>,
  preferences: NotificationPreferences,
): Flags {
  if (intent.priority === 'critical') return { push: true, sms: true, email: true };
  const [area] = intent.kind.split('.');
  switch (area) {
    case 'order':
    case 'restaurant':
    case 'driver':
    case 'staff':
    case 'support':
      // Work in progress: a restaurant's orders and stock, a driver's offers, staff alerts, the
      // answer to a support ticket the person opened.
      return preferences.order_updates;
    case 'wallet':
    case 'payout':
      return preferences.wallet;
    case 'security':
      // Security messages ignore marketing opt-outs and the switches: they always go out.
      return { push: true, sms: true, email: true };
    default:
      return preferences.promotions;
  }
}

/**
 * When the quiet hours that hold at `now` end, or undefined when none hold. Only normal and low
 * priorities wait: order messages for an order in progress and critical ones never do.
 */
export function quietUntil(
  intent: Pick<IntentRow, 'priority'>,
  preferences: NotificationPreferences,
  now: Date,
): Date | undefined {
  const quiet = preferences.quietHours;
  if (quiet === null || intent.priority === 'critical' || intent.priority === 'high') return undefined;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: quiet.timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const field = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  const minuteOfDay = field('hour') * 60 + field('minute');
  const minutes = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
  const start = minutes(quiet.start);
  const end = minutes(quiet.end);
  const inside =
    start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
  if (!inside) return undefined;
  const wait = (end - minuteOfDay + 24 * 60) % (24 * 60);
  return new Date(now.getTime() + wait * 60_000 - now.getUTCSeconds() * 1_000 - now.getUTCMilliseconds());
}

/** How long an intent with an expiry (a driver's offer) has left, or undefined when it has none. */
export function expiresInMs(intent: Pick<IntentRow, 'paramsClear'>, at: Date): number | undefined {
  const expiresAt = intent.paramsClear.expiresAt;
  if (typeof expiresAt !== 'string') return undefined;
  const time = Date.parse(expiresAt);
  return Number.isNaN(time) ? undefined : time - at.getTime();
}

/**
 * Kinds sent by SMS as well as by push, whatever the push does (acknowledged or not): a driver's
 * emergency reaches the staff's phones even when the app is open on a desk in an empty office.
 */
export const SMS_ALWAYS_KINDS: ReadonlySet<string> = new Set(['staff.driver_emergency']);

/** What dispatching an intent needs of it (its params: whether its SMS went another way). */
export type DispatchableIntent = Pick<
  IntentRow,
  'id' | 'recipient_id' | 'kind' | 'priority' | 'requires_ack' | 'receipt'
> &
  Partial<Pick<IntentRow, 'paramsClear'>>;

/**
 * An intent whose SMS another context already sent to the person: the `order.placed` of an order
 * a USSD session placed and paid in one step (the session texts its number and delivery PIN to
 * the calling phone; intents.ts `SMS_SENT_BY_PARAM`). Its push and e-mail are unchanged; it sends
 * no SMS, neither directly nor as the push's fallback, so the customer gets one SMS, not two.
 */
export function smsSentElsewhere(intent: Pick<DispatchableIntent, 'kind' | 'paramsClear'>): boolean {
  return intent.kind === 'order.placed' && intent.paramsClear?.[SMS_SENT_BY_PARAM] === USSD_CHANNEL;
}

/**
 * A newsletter goes only on the channels its campaign chose, and only where the person allows
 * marketing (the switches already applied); without its params (a listing), on none.
 */
function newsletterChannels(intent: Pick<DispatchableIntent, 'kind' | 'paramsClear'>, flags: Flags): Flags {
  if (intent.kind !== NEWSLETTER_KIND) return flags;
  const chosen = String(intent.paramsClear?.[NEWSLETTER_CHANNELS_PARAM] ?? '').split(',');
  return {
    push: flags.push && chosen.includes('push'),
    sms: flags.sms && chosen.includes('sms'),
    email: flags.email && chosen.includes('email'),
  };
}

/**
 * The channels of one intent, or how long it waits for the end of quiet hours (pure): push where
 * a device is registered and allowed (SMS its fallback), else SMS; e-mail besides for receipts.
 * (The acknowledgement of a critical push is checked `ackTimeoutSeconds` after the push is sent.)
 */
export function planDispatch(
  intent: DispatchableIntent,
  recipient: Pick<Recipient, 'phone' | 'email' | 'preferences'>,
  hasDevice: boolean,
  at: Date,
): { quietForMs?: number; channels: ChannelJob[] } {
  const until = quietUntil(intent, recipient.preferences, at);
  if (until !== undefined) return { quietForMs: until.getTime() - at.getTime(), channels: [] };
  const flags = newsletterChannels(intent, channelFlags(intent, recipient.preferences));
  // A reply to a ticket opened by e-mail is the answer in the thread the person started from
  // their address: it goes back by e-mail alone while they accept news of their tickets at all
  // (any `order_updates` channel on; all off: the in-app centre only, as for `support.reply`).
  // Without an address (changed or removed since), it takes the push/SMS chain below.
  if (
    intent.kind === SUPPORT_EMAIL_REPLY_KIND &&
    (flags.push || flags.sms || flags.email) &&
    recipient.email !== null
  )
    return { channels: [{ intentId: intent.id, channel: 'email' }] };
  const canSms = flags.sms && recipient.phone !== null && !smsSentElsewhere(intent);
  const smsAlways = canSms && SMS_ALWAYS_KINDS.has(intent.kind);
  const channels: ChannelJob[] = [];
  const push = flags.push && hasDevice;
  if (push)
    channels.push({
      intentId: intent.id,
      channel: 'push',
      ...(canSms && !smsAlways ? { fallback: 'sms' as const } : {}),
    });
  if (smsAlways || (!push && canSms)) channels.push({ intentId: intent.id, channel: 'sms' });
  if ((intent.receipt || intent.kind === NEWSLETTER_KIND) && flags.email && recipient.email !== null)
    channels.push({ intentId: intent.id, channel: 'email' });
  // Without any channel the intent lives in the in-app centre alone.
  return { channels };
}

/**
 * The threading of a support reply's e-mail: its own Message-ID named after the message, in reply
 * to the ticket's thread (the same root for every reply of a ticket, so mail clients group them).
 */
export function emailThread(
  intent: Pick<IntentRow, 'kind' | 'paramsClear'>,
): Pick<OutboundMessage, 'thread'> {
  const { ticketId, messageId } = intent.paramsClear;
  if (
    intent.kind !== SUPPORT_EMAIL_REPLY_KIND ||
    typeof ticketId !== 'string' ||
    typeof messageId !== 'string'
  )
    return {};
  return { thread: { messageId: `support-reply.${messageId}`, inReplyTo: `support-ticket.${ticketId}` } };
}

export function createDelivery(options: DeliveryOptions) {
  const { repository, queue, sender, recipients, templates, metrics, logger } = options;
  const now = options.now ?? (() => new Date());

  const enqueueChannel = (job: ChannelJob) =>
    queue.enqueue(QUEUES[job.channel], job, { jobId: `${job.intentId}-${job.channel}` });

  /** Decides the channels of one intent and enqueues their sends. Safe to run twice. */
  async function dispatch(intentId: string): Promise<void> {
    const intent = await repository.intent(intentId);
    if (intent === undefined || intent.status !== 'pending') return;
    await dispatchMany([intent]);
  }

  /**
   * Decides the channels of pending intents and enqueues their sends: each recipient (and their
   * devices) read once, one bulk enqueue per queue, one status update per status. The reactor
   * calls it with the intents it has just recorded, saving each its own dispatch job; a replay
   * goes through `dispatch`, which skips intents no longer pending.
   */
  async function dispatchMany(
    intents: readonly DispatchableIntent[],
    recipientOf: (recipientId: string) => Promise<Recipient | undefined> = (recipientId) =>
      recipients.recipient(recipientId),
  ): Promise<void> {
    if (intents.length === 0) return;
    const people = new Map<string, Promise<[Recipient | undefined, { length: number }]>>();
    for (const intent of intents)
      if (!people.has(intent.recipient_id))
        people.set(
          intent.recipient_id,
          Promise.all([recipientOf(intent.recipient_id), repository.devices(intent.recipient_id)]),
        );
    const at = now();
    const jobs = new Map<string, ({ data: unknown } & EnqueueOptions)[]>();
    const add = (queueName: string, data: unknown, jobId: string, delayMs?: number) => {
      const list = jobs.get(queueName) ?? [];
      list.push({ data, jobId, ...(delayMs === undefined ? {} : { delayMs }) });
      jobs.set(queueName, list);
    };
    const statuses = new Map<'dispatched' | 'muted', string[]>();
    const erased: string[] = [];
    for (const intent of intents) {
      const [recipient, devices] = await people.get(intent.recipient_id)!;
      if (recipient === undefined) {
        // The account was erased: nothing of the person is kept (an event after the erasure).
        erased.push(intent.id);
        continue;
      }
      const plan = planDispatch(intent, recipient, devices.length > 0, at);
      if (plan.quietForMs !== undefined) {
        add(QUEUES.dispatch, { intentId: intent.id }, `${intent.id}-quiet`, plan.quietForMs);
        continue;
      }
      for (const job of plan.channels) add(QUEUES[job.channel], job, `${intent.id}-${job.channel}`);
      const status = plan.channels.length > 0 ? 'dispatched' : 'muted';
      statuses.set(status, [...(statuses.get(status) ?? []), intent.id]);
    }
    // The sends first, then the status: an intent marked dispatched has its jobs queued.
    await Promise.all([...jobs].map(([queueName, list]) => queue.enqueueMany(queueName, list)));
    await Promise.all([
      ...[...statuses].map(([status, ids]) => repository.setIntentsStatus(ids, status)),
      ...(erased.length === 0 ? [] : [repository.deleteIntents(erased)]),
    ]);
  }

  /** The message of one channel, or undefined when the recipient cannot be reached on it now. */
  async function messagesFor(intent: IntentRow, recipient: Recipient, channel: DeliveryChannel) {
    const text = templates.render(intent.kind, recipient.language, intent.paramsClear);
    const metadata = { intentId: intent.id, kind: intent.kind, orderId: intent.order_id };
    switch (channel) {
      case 'push': {
        const devices = await repository.devices(intent.recipient_id);
        return devices.map((device) => ({
          channel,
          to: device.token,
          subject: text.title,
          body: text.body,
          metadata: {
            ...metadata,
            platform: device.platform,
            // Android channel and sound: the restaurant's new order rings differently.
            sound: intent.priority === 'critical' ? 'new_order' : 'default',
            collapseKey: intent.order_id ?? intent.id,
            // An offer is worth nothing once it lapses: FCM and APNs drop it then.
            ...(expiresInMs(intent, now()) === undefined
              ? {}
              : { ttlSeconds: Math.max(1, Math.ceil(expiresInMs(intent, now())! / 1_000)) }),
          },
        })) satisfies OutboundMessage[];
      }
      case 'sms':
        return recipient.phone === null ? [] : [{ channel, to: recipient.phone, body: text.sms, metadata }];
      case 'email':
        return recipient.email === null
          ? []
          : [
              {
                channel,
                to: recipient.email,
                subject: text.title,
                body: text.body,
                metadata,
                ...emailThread(intent),
              },
            ];
      default: {
        const unknown: never = channel;
        throw new RangeError(`unknown channel ${String(unknown)}`);
      }
    }
  }

  /** Sends to every message of the channel (push: each device); sent when one is. */
  async function sendAll(messages: OutboundMessage[]): Promise<ChannelResult & { transport?: string }> {
    if (messages.length === 0) return { status: 'failed', reason: 'no_address', permanent: true };
    let last: ChannelResult & { transport?: string } = {
      status: 'failed',
      reason: 'no_address',
      permanent: true,
    };
    let transient: unknown;
    for (const message of messages) {
      try {
        const result = await sender.deliver(message);
        if (result.unregisteredToken === true) await repository.forgetToken(message.to);
        if (result.status === 'sent') return result;
        last = result;
      } catch (error) {
        transient = error;
      }
    }
    if (transient !== undefined) throw transient;
    return last;
  }

  async function giveUp(intent: IntentRow, job: ChannelJob, reason: string, attempts: number): Promise<void> {
    await repository.finishDelivery(intent.id, job.channel, { status: 'failed', reason }, now());
    await repository.deadLetter({
      intentId: intent.id,
      channel: job.channel,
      queue: QUEUES[job.channel],
      reason,
      attempts,
    });
    metrics.messages.inc({ channel: job.channel, outcome: 'dead_lettered' });
    logger.warn({ intentId: intent.id, channel: job.channel, reason }, 'notification send given up');
    if (job.fallback !== undefined) await enqueueChannel({ intentId: intent.id, channel: job.fallback });
    else await repository.setIntentStatus(intent.id, 'failed');
  }

  /** Sends one intent on one channel, once. */
  async function send(job: ChannelJob, context: JobContext): Promise<void> {
    const intent = await repository.intent(job.intentId);
    if (intent === undefined) return;
    // A critical message acknowledged meanwhile needs no SMS any more (unless it always has one).
    if (
      job.channel === 'sms' &&
      intent.requires_ack &&
      intent.acknowledged_at !== null &&
      !SMS_ALWAYS_KINDS.has(intent.kind)
    )
      return;
    // Its SMS went another way (a USSD order's number and PIN): an SMS job for it, however it
    // came to be queued, sends nothing.
    if (job.channel === 'sms' && smsSentElsewhere(intent)) return;
    const left = expiresInMs(intent, now());
    if (left !== undefined && left <= 0) {
      // A lapsed offer: nothing is sent on any channel (the centre still lists it).
      metrics.messages.inc({ channel: job.channel, outcome: 'expired' });
      return;
    }
    const recipient = await recipients.recipient(intent.recipient_id);
    if (recipient === undefined) return;
    const claim = await repository.claimDelivery({
      intentId: intent.id,
      recipientId: intent.recipient_id,
      channel: job.channel,
      priority: intent.priority,
      allowance: hourlyAllowance(intent.priority, options.hourlyCap),
      now: now(),
    });
    if (claim === 'done') return;
    if (claim === 'busy') throw new TryLater(`intent ${intent.id} is being sent on ${job.channel}`);
    if (claim === 'capped') {
      metrics.messages.inc({ channel: job.channel, outcome: 'capped' });
      if (intent.status === 'dispatched') await repository.setIntentStatus(intent.id, 'capped');
      return;
    }
    const last = context.attempt >= context.maxAttempts;
    let result: ChannelResult & { transport?: string };
    try {
      result = await sendAll(await messagesFor(intent, recipient, job.channel));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (last) return giveUp(intent, job, reason, context.attempt);
      await repository.finishDelivery(intent.id, job.channel, { status: 'failed', reason }, now());
      metrics.messages.inc({ channel: job.channel, outcome: 'retried' });
      throw error;
    }
    if (result.status === 'sent') {
      await repository.finishSent(
        intent.id,
        job.channel,
        {
          transport: result.transport,
          providerId: result.providerId,
          ...(result.costXaf === undefined ? {} : { costXaf: result.costXaf }),
        },
        now(),
      );
      // A critical push must be acknowledged within the timeout from now, else its SMS follows.
      if (job.channel === 'push' && intent.requires_ack && job.fallback === 'sms')
        await queue.enqueue(
          QUEUES.ackCheck,
          { intentId: intent.id },
          { jobId: `${intent.id}-ack`, delayMs: options.ackTimeoutSeconds * 1_000 },
        );
      metrics.messages.inc({ channel: job.channel, outcome: 'sent' });
      metrics.costXaf.inc({ channel: job.channel }, result.costXaf ?? options.costXaf[job.channel]);
      return;
    }
    const reason = result.reason ?? 'failed';
    if (result.permanent === true || last) return giveUp(intent, job, reason, context.attempt);
    await repository.finishDelivery(intent.id, job.channel, { status: 'failed', reason }, now());
    metrics.messages.inc({ channel: job.channel, outcome: 'retried' });
    throw new TryLater(`${job.channel} send failed: ${reason}`);
  }

  /** The acknowledgement deadline of a critical push passed: an SMS unless it was acknowledged. */
  async function checkAcknowledged(intentId: string): Promise<void> {
    const intent = await repository.intent(intentId);
    if (intent === undefined || intent.acknowledged_at !== null) return;
    await enqueueChannel({ intentId, channel: 'sms' });
  }

  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const definitions: JobDefinition<never>[] = [
    {
      queue: QUEUES.dispatch,
      attempts: 10,
      backoffMs: 1_000,
      concurrency,
      handler: (data: { intentId: string }) => dispatch(data.intentId),
    } as JobDefinition<{ intentId: string }> as JobDefinition<never>,
    ...(['push', 'sms', 'email'] as const).map(
      (channel) =>
        ({
          queue: QUEUES[channel],
          attempts: CHANNEL_ATTEMPTS,
          backoffMs: CHANNEL_BACKOFF_MS,
          concurrency,
          handler: (data: ChannelJob, context: JobContext) => send({ ...data, channel }, context),
        }) as JobDefinition<ChannelJob> as JobDefinition<never>,
    ),
    {
      queue: QUEUES.ackCheck,
      attempts: 5,
      backoffMs: 1_000,
      handler: (data: { intentId: string }) => checkAcknowledged(data.intentId),
    } as JobDefinition<{ intentId: string }> as JobDefinition<never>,
  ];

  return { dispatch, dispatchMany, send, checkAcknowledged, definitions };
}

export type Delivery = ReturnType<typeof createDelivery>;
