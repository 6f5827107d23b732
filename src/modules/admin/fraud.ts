import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { EventStore, RecordedEvent } from '../../eventstore/index.js';
import { createReactor } from '../../eventstore/reactor.js';
import { audiences, type RealtimeBus } from '../../realtime/index.js';
import type { Actor, AuditFunction } from '../identity/index.js';
import { adminErrors } from './errors.js';
import {
  decideCase,
  deliveryPointKey,
  DISTINCT_ACCOUNT_RULES,
  holdsPayouts,
  isLongRule,
  isRateRule,
  longVerdict,
  rateVerdict,
  velocityVerdict,
  type CaseDecision,
  type FraudRule,
  type FraudThresholds,
} from './fraud-rules.js';
import type { AdminDb, AdminTables, CaseStatus } from './tables.js';
import { newestFirstPage } from './cursor.js';

/**
 * Fraud detection over events (docs/admin.md): a checkpointed reactor follows payments' failures,
 * records a signal per (rule, event), and opens a case for review when a subject's signals in the
 * window reach the rule's threshold; admins dismiss or confirm it (audited). An opened case is
 * published to the `admin` audience (`/ws/admin`, type `fraud-case`).
 */
export const FRAUD_REACTOR = 'admin-fraud';
const PAYMENT_STREAM_PREFIX = 'payment-';
const ORDER_STREAM_PREFIX = 'order-';
export const CASES_PAGE_MAX = 100;
const USER_SUBJECT = 'user:';
const PHONE_SUBJECT = 'phone:';
/** Subjects a signal lists in `subjects`: one coupon from one phone or place; a driver with a customer. */
const COUPON_SUBJECT = 'coupon:';
const PAIR_SUBJECT = 'pair:';
/** Referral abuse: one referrer with one device, payment phone or delivery point (a keyed hash of both). */
const REFERRAL_SUBJECT = 'referral:';
/** Accounts per device: one device (a keyed hash of identity's keyed hash of its install id). */
const DEVICE_SUBJECT = 'device:';
const isListedSubject = (subject: string) =>
  subject.startsWith(COUPON_SUBJECT) ||
  subject.startsWith(PAIR_SUBJECT) ||
  subject.startsWith(REFERRAL_SUBJECT) ||
  subject.startsWith(DEVICE_SUBJECT);
/** A referee's devices counted per referral: identity answers the most recent first. */
const REFERRAL_DEVICES_MAX = 10;
/** A customer's devices an order counts against (orders per device): the most recent ones. */
const ORDER_DEVICES_MAX = 10;
/** An order's stream is read whole to find its customer and driver; it is never this long. */
const ORDER_STREAM_READ_MAX = 500;

/** What a signal is recorded from: an event, or another context's report (a dispatch flag). */
interface SignalSource {
  /** Unique per source: a redelivered one is recorded once. */
  id: string;
  createdAt: Date;
}

/**
 * A rule that fired on an event, about its subject (`user:<id>`, `phone:<keyed index>`,
 * `coupon:<id>:phone|address:<keyed index>` or `pair:<keyed index>`). `userId` is the person a case
 * names (and holds); `relatedUserId` the second person of a pair (collusion: the customer).
 */
interface Firing {
  rule: FraudRule;
  subject: string;
  userId: string | null;
  relatedUserId?: string | null;
}

const byAccount = (rule: FraudRule, userId: string): Firing => ({
  rule,
  subject: `${USER_SUBJECT}${userId}`,
  userId,
});

export interface FraudCaseView {
  id: string;
  rule: string;
  subject: string;
  userId: string | null;
  relatedUserId: string | null;
  score: number;
  signals: number;
  reason: string;
  status: CaseStatus;
  openedAt: string;
  updatedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
}

type CaseRow = {
  id: string;
  rule: string;
  subject: string;
  user_id: string | null;
  related_user_id: string | null;
  score: number;
  signals: number;
  reason: string;
  status: CaseStatus;
  opened_at: Date;
  updated_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  decision_note: string | null;
};

function caseView(row: CaseRow): FraudCaseView {
  return {
    id: row.id,
    rule: row.rule,
    subject: row.subject,
    userId: row.user_id,
    relatedUserId: row.related_user_id,
    score: row.score,
    signals: row.signals,
    reason: row.reason,
    status: row.status,
    openedAt: row.opened_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    decidedBy: row.decided_by,
    decidedAt: row.decided_at?.toISOString() ?? null,
    decisionNote: row.decision_note,
  };
}

/** What loyalty reports of a referral it rewarded (docs/admin.md, "Referral abuse"). */
export interface ReferralCredited {
  referrerId: string;
  refereeId: string;
  /** Identity's keyed hashes of the install ids the referee signed in on (most recent first). */
  refereeDevices: readonly string[];
  /** The rewarding order's Mobile Money phone (E.164), or null (wallet, erased). */
  paymentPhone: string | null;
  /** The rewarding order's delivery point (`{ latitude, longitude }`), as its `OrderCreated` holds it. */
  delivery: unknown;
  at: Date;
}

export function createFraudDetection(deps: {
  db: AdminDb;
  eventStore: EventStore;
  bus: RealtimeBus;
  audit: AuditFunction;
  thresholds: FraudThresholds;
  /** The keyed blind index of a phone: cases name a phone without storing it. */
  phoneIndex: (phone: string) => string;
  /** The keyed blind index of a delivery point or a driver-customer pair (never stored in clear). */
  subjectIndex: (kind: 'address' | 'pair' | 'referral' | 'device', value: string) => string;
  /** A case scoring at least this holds its person's payouts (0: never). */
  holdScore?: number;
  /**
   * Identity's keyed hashes of the devices an account signed in on, newest first, at most `limit`
   * (orders per device). Without it, orders count against no device.
   */
  devicesOf?: (userId: string, limit: number) => Promise<readonly string[]>;
  logger: Logger;
}) {
  const holdScore = deps.holdScore ?? 0;
  const { db, eventStore, thresholds, logger } = deps;

  /**
   * The events in (since, until] on which `rule` fired about `subject` (`user:<id>` by account,
   * `phone:<index>` by payment phone): a count, or the distinct accounts.
   */
  async function countSignals(rule: FraudRule, subject: string, since: Date, until: Date): Promise<number> {
    let select = db
      .selectFrom('admin_fraud_signals')
      .select(
        DISTINCT_ACCOUNT_RULES.has(rule)
          ? sql<string>`count(DISTINCT user_id)`.as('count')
          : sql<string>`count(*)`.as('count'),
      )
      .where(sql<boolean>`${rule} = ANY(rules)`)
      .where('at', '>', since)
      .where('at', '<=', until);
    if (subject.startsWith(PHONE_SUBJECT)) select = select.where('phone_subject', '=', subject);
    else if (isListedSubject(subject))
      select = select.where(sql<boolean>`subjects @> ARRAY[${subject}]::text[]`);
    else if (subject.startsWith(USER_SUBJECT))
      select = select.where('user_id', '=', subject.slice(USER_SUBJECT.length));
    else return 0;
    const { count } = await select.executeTakeFirstOrThrow();
    return Number(count);
  }

  /** The rule's verdict on its subject at the event: a velocity count, or a share of orders. */
  async function verdictOf(rule: FraudRule, subject: string, at: Date) {
    if (isLongRule(rule)) {
      const threshold = thresholds[rule];
      const since = new Date(at.getTime() - threshold.windowDays * 86_400_000);
      const count = await countSignals(rule, subject, since, at);
      return { count, verdict: longVerdict(rule, count, threshold) };
    }
    if (isRateRule(rule)) {
      const threshold = thresholds[rule];
      const since = new Date(at.getTime() - threshold.windowDays * 86_400_000);
      const count = await countSignals(rule, subject, since, at);
      // The denominator: the account's orders, as the orders rule recorded them.
      const orders = await countSignals('orders_per_account', subject, since, at);
      return { count, verdict: rateVerdict(rule, count, orders, threshold) };
    }
    const threshold = thresholds[rule];
    const since = new Date(at.getTime() - threshold.windowMinutes * 60_000);
    const count = await countSignals(rule, subject, since, at);
    return { count, verdict: velocityVerdict(rule, count, threshold) };
  }

  /**
   * One evaluation of an event: one signal row holding the rules that fired on it (a redelivered
   * event is recorded once), then each fired rule's count in its window, and the case it opens or
   * raises.
   */
  async function evaluate(event: SignalSource, firings: readonly Firing[]): Promise<void> {
    if (firings.length === 0) return;
    await db
      .insertInto('admin_fraud_signals')
      .values({
        source_id: event.id,
        user_id: firings.find((firing) => firing.userId !== null)?.userId ?? null,
        phone_subject: firings.find((firing) => firing.subject.startsWith(PHONE_SUBJECT))?.subject ?? null,
        rules: [...new Set(firings.map((firing) => firing.rule))],
        subjects: [...new Set(firings.map((firing) => firing.subject).filter(isListedSubject))],
        at: event.createdAt,
      })
      .onConflict((conflict) => conflict.column('source_id').doNothing())
      .execute();
    for (const firing of firings) await judge(firing, event);
  }

  /** A fired rule's verdict on its subject at the event: the case it opens or raises. */
  async function judge({ rule, subject, userId, relatedUserId }: Firing, event: SignalSource): Promise<void> {
    const { count, verdict } = await verdictOf(rule, subject, event.createdAt);
    if (!verdict.trips) return;
    const row = await db
      .insertInto('admin_fraud_cases')
      .values({
        id: randomUUID(),
        rule,
        subject,
        user_id: userId,
        related_user_id: relatedUserId ?? null,
        score: verdict.score,
        signals: count,
        reason: verdict.reason,
        status: 'open',
      })
      .onConflict((conflict) =>
        conflict
          .columns(['rule', 'subject'])
          .where('status', '=', 'open')
          .doUpdateSet({
            score: sql<number>`greatest(admin_fraud_cases.score, excluded.score)`,
            signals: sql<number>`greatest(admin_fraud_cases.signals, excluded.signals)`,
            reason: sql<string>`excluded.reason`,
            updated_at: sql<Date>`now()`,
          }),
      )
      .returning(['id', 'score', 'user_id', 'reason', sql<boolean>`xmax = 0`.as('inserted')])
      .executeTakeFirstOrThrow();
    if (holdsPayouts(row.score, holdScore) && row.user_id !== null) await placeHold(row);
    if (!row.inserted) return;
    logger.info({ caseId: row.id, rule, score: row.score }, 'fraud case opened');
    await deps.bus.publish([
      {
        audiences: [audiences.admin],
        message: {
          channel: 'system-alerts',
          type: 'fraud-case',
          at: new Date().toISOString(),
          data: { caseId: row.id, rule, score: row.score, reason: verdict.reason },
        },
      },
    ]);
  }

  /** A hold on the case's person's payouts, once per case; alerted like a case. */
  async function placeHold(row: { id: string; score: number; user_id: string | null; reason: string }) {
    const placed = await db
      .insertInto('admin_payout_holds')
      .values({ case_id: row.id, user_id: row.user_id, score: row.score, reason: row.reason })
      .onConflict((conflict) => conflict.column('case_id').doNothing())
      .returning('case_id')
      .executeTakeFirst();
    if (placed === undefined) return;
    logger.info({ caseId: row.id, score: row.score }, 'fraud case holds payouts');
    await deps.audit({
      action: 'admin.payout_hold_placed',
      actor: { kind: 'system' },
      subjectUserId: row.user_id,
      resource: `fraud_case:${row.id}`,
      newValue: { score: row.score, threshold: holdScore },
    });
    await deps.bus.publish([
      {
        audiences: [audiences.admin],
        message: {
          channel: 'system-alerts',
          type: 'payout-hold',
          at: new Date().toISOString(),
          data: { caseId: row.id, score: row.score },
        },
      },
    ]);
  }

  /** A payment started: top-up velocity, and the accounts behind its payment phone. */
  function onPaymentInitiated(event: RecordedEvent): Firing[] {
    const data = event.data as { userId?: unknown; phone?: unknown; purpose?: { kind?: unknown } };
    const userId = typeof data.userId === 'string' ? data.userId : null;
    if (userId === null) return [];
    const firings: Firing[] = [];
    if (data.purpose?.kind === 'topup') firings.push(byAccount('topups_per_account', userId));
    if (typeof data.phone === 'string' && data.phone.startsWith('+'))
      firings.push({ rule: 'accounts_per_phone', subject: phoneSubject(data.phone), userId });
    return firings;
  }

  /** One device, as both device rules name it: a keyed hash of identity's keyed hash of its install id. */
  const deviceSubject = (deviceHash: string) => `${DEVICE_SUBJECT}${deps.subjectIndex('device', deviceHash)}`;

  /**
   * Orders per device: an order by a signed-in customer counts against each device (at most
   * ORDER_DEVICES_MAX, the most recent) the customer signed in on, so the orders of every account
   * behind one handset add up. The case names the account whose order tripped it.
   */
  async function ordersPerDevice(userId: string): Promise<Firing[]> {
    if (deps.devicesOf === undefined) return [];
    const devices = [...new Set(await deps.devicesOf(userId, ORDER_DEVICES_MAX))].slice(0, ORDER_DEVICES_MAX);
    return devices.map((device) => ({ rule: 'orders_per_device', subject: deviceSubject(device), userId }));
  }

  /** Order velocity per account, and cancel loops (orders cancelled by their own customer). */
  async function onOrderEvent(event: RecordedEvent): Promise<Firing[]> {
    if (event.type === 'OrderDisputeOpened' || event.type === 'OrderDisputeResolved') return onDispute(event);
    if (event.type === 'OrderDeliveryFailed') return collusionOf(event);
    if (event.type === 'OrderCreated') return onOrderCreated(event);
    const by = (event.data as { by?: { role?: unknown; id?: unknown } }).by;
    return by?.role === 'customer' && typeof by.id === 'string'
      ? [byAccount('cancels_per_account', by.id)]
      : [];
  }

  /**
   * Order velocity per account and per device; and promotion abuse: an order with a coupon counts
   * its account behind that coupon from its payment phone (Mobile Money) and from its delivery point.
   */
  async function onOrderCreated(event: RecordedEvent): Promise<Firing[]> {
    const data = event.data as {
      customer?: { kind?: unknown; id?: unknown };
      coupon?: { id?: unknown };
      paymentMethod?: { kind?: unknown; phone?: unknown };
      delivery?: unknown;
    };
    const customer = data.customer;
    if (customer?.kind !== 'user' || typeof customer.id !== 'string') return [];
    // The account's own firing first: the signal's account is the customer's.
    const firings = [byAccount('orders_per_account', customer.id), ...(await ordersPerDevice(customer.id))];
    const couponId = data.coupon?.id;
    if (typeof couponId !== 'string') return firings;
    const phone = data.paymentMethod?.phone;
    // An erased customer's phone and address read as redaction markers: nothing to match on.
    if (typeof phone === 'string' && phone.startsWith('+'))
      firings.push({
        rule: 'coupon_accounts_per_phone',
        subject: `${COUPON_SUBJECT}${couponId}:phone:${deps.phoneIndex(phone)}`,
        userId: customer.id,
      });
    const point = deliveryPointKey(data.delivery);
    if (point !== undefined)
      firings.push({
        rule: 'coupon_accounts_per_address',
        subject: `${COUPON_SUBJECT}${couponId}:address:${deps.subjectIndex('address', point)}`,
        userId: customer.id,
      });
    return firings;
  }

  /**
   * Collusion: an order disputed by its customer, or whose delivery failed, counts against the
   * pair of its driver and its customer (a keyed hash of both). The case names the driver (whose
   * payouts it may hold) and the customer beside. An order with no driver or a guest counts nothing.
   */
  async function collusionOf(event: RecordedEvent): Promise<Firing[]> {
    const history = await eventStore.readStream(event.stream, { maxCount: ORDER_STREAM_READ_MAX });
    const created = history.find((each) => each.type === 'OrderCreated');
    const customer = (created?.data as { customer?: { kind?: unknown; id?: unknown } } | undefined)?.customer;
    const claimed = history.filter((each) => each.type === 'OrderDriverClaimed').at(-1);
    const driverId = (claimed?.data as { driverId?: unknown } | undefined)?.driverId;
    if (customer?.kind !== 'user' || typeof customer.id !== 'string' || typeof driverId !== 'string')
      return [];
    return [
      {
        rule: 'driver_customer_collusion',
        subject: `${PAIR_SUBJECT}${deps.subjectIndex('pair', `${driverId}:${customer.id}`)}`,
        userId: driverId,
        relatedUserId: customer.id,
      },
    ];
  }

  /** Refund and dispute abuse: a customer's disputes, and the disputes resolved with a refund. */
  async function onDispute(event: RecordedEvent): Promise<Firing[]> {
    if (event.type === 'OrderDisputeOpened') {
      const by = (event.data as { by?: { role?: unknown; id?: unknown } }).by;
      if (by?.role !== 'customer' || typeof by.id !== 'string') return [];
      // The customer's own firing first: the signal's account is the customer's.
      return [byAccount('dispute_rate', by.id), ...(await collusionOf(event))];
    }
    const refundMinor = (event.data as { refundMinor?: unknown }).refundMinor;
    if (typeof refundMinor !== 'number' || refundMinor <= 0) return [];
    // The resolution names the staff who resolved it: the customer is in the order's first event.
    const [created] = await eventStore.readStream(event.stream, { maxCount: 1 });
    const customer = (created?.data as { customer?: { kind?: unknown; id?: unknown } } | undefined)?.customer;
    return created?.type === 'OrderCreated' && customer?.kind === 'user' && typeof customer.id === 'string'
      ? [byAccount('refund_rate', customer.id)]
      : [];
  }

  async function firingsOf(event: RecordedEvent): Promise<Firing[]> {
    if (event.type === 'PaymentFailed') return onPaymentFailed(event);
    if (event.type === 'PaymentInitiated') return onPaymentInitiated(event);
    if (event.stream.startsWith(ORDER_STREAM_PREFIX)) return onOrderEvent(event);
    return [];
  }

  async function onEvent(event: RecordedEvent): Promise<void> {
    await evaluate(event, await firingsOf(event));
  }

  async function onPaymentFailed(event: RecordedEvent): Promise<Firing[]> {
    const [initiated] = await eventStore.readStream(event.stream, { maxCount: 1 });
    if (initiated?.type !== 'PaymentInitiated') return [];
    const data = initiated.data as { userId?: unknown; phone?: unknown };
    const userId = typeof data.userId === 'string' ? data.userId : null;
    const firings: Firing[] = [];
    if (userId !== null) firings.push(byAccount('failed_payments_per_account', userId));
    // An erased payer's phone reads as a redaction marker: nothing to match on.
    if (typeof data.phone === 'string' && data.phone.startsWith('+'))
      firings.push({ rule: 'failed_payments_per_phone', subject: phoneSubject(data.phone), userId });
    return firings;
  }

  const phoneSubject = (phone: string) => `${PHONE_SUBJECT}${deps.phoneIndex(phone)}`;

  const reactor = createReactor({
    name: FRAUD_REACTOR,
    db,
    checkpointTable: 'admin_reactor_checkpoints',
    eventStore,
    filter: {
      streamPrefixes: [PAYMENT_STREAM_PREFIX, ORDER_STREAM_PREFIX],
      eventTypes: [
        'PaymentFailed',
        'PaymentInitiated',
        'OrderCreated',
        'OrderCancelled',
        'OrderDisputeOpened',
        'OrderDisputeResolved',
        'OrderDeliveryFailed',
      ],
    },
    logger,
    // Rules judge recent behaviour: history before the first deployment opens no cases.
    firstStart: 'end',
    handle: onEvent,
  });

  async function releaseHoldIn(
    trx: Transaction<AdminTables>,
    caseId: string,
    userId: string | null,
    note: string,
    actor: Actor,
  ): Promise<boolean> {
    const released = await trx
      .updateTable('admin_payout_holds')
      .set({ released_at: sql<Date>`now()`, released_by: actor.userId ?? null, release_note: note })
      .where('case_id', '=', caseId)
      .where('released_at', 'is', null)
      .returning('case_id')
      .executeTakeFirst();
    if (released === undefined) return false;
    await deps.audit(
      {
        action: 'admin.payout_hold_released',
        actor,
        subjectUserId: userId,
        resource: `fraud_case:${caseId}`,
        oldValue: { held: true },
        newValue: { held: false, note },
      },
      trx,
    );
    return true;
  }

  return {
    reactor: {
      name: FRAUD_REACTOR,
      start: () => reactor.start(),
      stop: () => reactor.stop(),
      /** What the reactor does with one event: at least once, so a redelivery must change nothing. */
      handle: onEvent,
    },

    /**
     * Dispatch's report of a position fix flagged for an impossible speed (its flag already
     * recorded): one `impossible_movement` signal about the driver, judged like any velocity rule.
     * A repeated report of one flag is recorded once.
     */
    async driverMovementFlagged(flag: { flagId: string; driverId: string; at: Date }): Promise<void> {
      await evaluate({ id: `dispatch-flag:${flag.flagId}`, createdAt: flag.at }, [
        byAccount('impossible_movement', flag.driverId),
      ]);
    },

    /**
     * Loyalty's report of a referral it rewarded (the referee's first completed order; decided and
     * booked already): one signal per referee (source `referral:<refereeId>`, so a replayed report
     * is recorded once), about the referrer with each of the referee's devices, the order's payment
     * phone and its delivery point. Each subject is a keyed hash of the referrer and the device,
     * phone or point: no id, number or coordinate is stored in it. The case names the referrer
     * (whose payouts a high score holds) and the referee whose referral tripped it.
     */
    async referralCredited(report: ReferralCredited): Promise<void> {
      const { referrerId, refereeId } = report;
      const firing = (rule: FraudRule, kind: string, value: string): Firing => ({
        rule,
        subject: `${REFERRAL_SUBJECT}${kind}:${deps.subjectIndex('referral', `${referrerId}:${kind}:${value}`)}`,
        userId: referrerId,
        relatedUserId: refereeId,
      });
      const firings = [...new Set(report.refereeDevices)]
        .slice(0, REFERRAL_DEVICES_MAX)
        .map((device) => firing('referrals_per_device', 'device', device));
      // An erased customer's phone and address read as redaction markers: nothing to match on.
      if (typeof report.paymentPhone === 'string' && report.paymentPhone.startsWith('+'))
        firings.push(firing('referrals_per_phone', 'phone', deps.phoneIndex(report.paymentPhone)));
      const point = deliveryPointKey(report.delivery);
      if (point !== undefined) firings.push(firing('referrals_per_address', 'address', point));
      await evaluate({ id: `referral:${refereeId}`, createdAt: report.at }, firings);
    },

    /**
     * Many accounts per device: identity tells each session started on a device the apps named
     * (its keyed hash). One signal per account, device and UTC day (a second sign-in that day is
     * recorded once); the rule counts the distinct accounts behind the device in its window. The
     * case names the account whose sign-in tripped it (whose payouts a high score holds).
     */
    async deviceSignedIn(session: { userId: string; deviceHash: string; at: Date }): Promise<void> {
      const subject = deviceSubject(session.deviceHash);
      const day = session.at.toISOString().slice(0, 10);
      await evaluate(
        {
          id: `device:${session.userId}:${subject.slice(DEVICE_SUBJECT.length)}:${day}`,
          createdAt: session.at,
        },
        [{ rule: 'accounts_per_device', subject, userId: session.userId }],
      );
    },

    async list(query: {
      status?: CaseStatus | undefined;
      cursor?: string | undefined;
      limit?: number | undefined;
    }) {
      let select = db.selectFrom('admin_fraud_cases').selectAll();
      if (query.status !== undefined) select = select.where('status', '=', query.status);
      const { rows, nextCursor } = await newestFirstPage(select, 'opened_at', (row) => row.opened_at, {
        cursor: query.cursor,
        limit: Math.min(query.limit ?? 20, CASES_PAGE_MAX),
      });
      return { items: rows.map(caseView), nextCursor };
    },

    /**
     * A person's share (issue #15): the cases about them are exported (the outcome of profiling
     * is theirs to see); erasure unlinks them from every signal and case. The counts, the rules'
     * outcomes and the keyed phone hash stay: fraud prevention keeps its record, no longer
     * naming the person. Idempotent.
     */
    personalData: {
      async export(subjectId: string) {
        const rows = await db
          .selectFrom('admin_fraud_cases')
          .select(['rule', 'status', 'reason', 'opened_at', 'decided_at'])
          .where((eb) => eb.or([eb('user_id', '=', subjectId), eb('related_user_id', '=', subjectId)]))
          .orderBy('opened_at')
          .limit(1_000)
          .execute();
        return {
          fraudCases: rows.map((row) => ({
            rule: row.rule,
            status: row.status,
            reason: row.reason,
            openedAt: row.opened_at.toISOString(),
            decidedAt: row.decided_at?.toISOString() ?? null,
          })),
        };
      },
      async erase(subjectId: string) {
        return db.transaction().execute(async (trx) => {
          const signals = await trx
            .updateTable('admin_fraud_signals')
            .set({ user_id: null })
            .where('user_id', '=', subjectId)
            .executeTakeFirst();
          const cases = await trx
            .updateTable('admin_fraud_cases')
            .set({
              user_id: null,
              // Distinct per case: the open-case index is unique per (rule, subject).
              subject: sql<string>`CASE WHEN subject LIKE 'user:%' THEN 'erased:' || id ELSE subject END`,
            })
            .where('user_id', '=', subjectId)
            .executeTakeFirst();
          // A collusion case about them as the customer keeps its driver and its keyed pair hash.
          const related = await trx
            .updateTable('admin_fraud_cases')
            .set({ related_user_id: null })
            .where('related_user_id', '=', subjectId)
            .executeTakeFirst();
          await trx
            .updateTable('admin_payout_holds')
            .set({ user_id: null })
            .where('user_id', '=', subjectId)
            .execute();
          return {
            signalsUnlinked: Number(signals.numUpdatedRows),
            casesUnlinked: Number(cases.numUpdatedRows) + Number(related.numUpdatedRows),
          };
        });
      },
    },

    /** For payments: whether a fraud case holds this person's payouts now. */
    payoutHolds: {
      async isHeld(userId: string): Promise<boolean> {
        const row = await db
          .selectFrom('admin_payout_holds')
          .select('case_id')
          .where('user_id', '=', userId)
          .where('released_at', 'is', null)
          .limit(1)
          .executeTakeFirst();
        return row !== undefined;
      },
    },

    /** Releases the payout hold of a decided (confirmed) case: an admin's decision, audited. */
    async releaseHold(caseId: string, input: { note: string }, actor: Actor) {
      const note = input.note.trim();
      if (note.length < 3)
        throw adminErrors.of('validation', 'note_required', 'Say why, in at least 3 characters.');
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('admin_fraud_cases')
          .selectAll()
          .where('id', '=', caseId)
          .forUpdate()
          .executeTakeFirst();
        if (row === undefined) throw adminErrors.notFound('No such fraud case.');
        if (row.status === 'open')
          throw adminErrors.of(
            'conflict',
            'case_not_decided',
            'Decide the case first (dismissing releases its hold).',
          );
        const hold = await trx
          .selectFrom('admin_payout_holds')
          .select(['released_at'])
          .where('case_id', '=', caseId)
          .executeTakeFirst();
        if (hold === undefined) throw adminErrors.notFound('This case holds no payouts.');
        // Released already: nothing changes (a retry answers the same).
        await releaseHoldIn(trx, caseId, row.user_id, note, actor);
        return { caseId, held: false };
      });
    },

    async decide(caseId: string, input: { decision: CaseDecision; note: string }, actor: Actor) {
      const note = input.note.trim();
      if (note.length < 3)
        throw adminErrors.of('validation', 'note_required', 'Say why, in at least 3 characters.');
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('admin_fraud_cases')
          .selectAll()
          .where('id', '=', caseId)
          .forUpdate()
          .executeTakeFirst();
        if (row === undefined) throw adminErrors.notFound('No such fraud case.');
        const outcome = decideCase(row.status, input.decision);
        if (!outcome.ok)
          throw adminErrors.of('conflict', outcome.code, 'The case was already decided.', {
            details: { caseStatus: row.status },
          });
        const updated = await trx
          .updateTable('admin_fraud_cases')
          .set({
            status: outcome.status,
            decided_by: actor.userId ?? null,
            decided_at: sql<Date>`now()`,
            decision_note: note,
            updated_at: sql<Date>`now()`,
          })
          .where('id', '=', caseId)
          .returningAll()
          .executeTakeFirstOrThrow();
        // Dismissed, a false alarm: its hold on payouts is released with the decision. Confirmed,
        // the hold stays until an admin releases it (releaseHold).
        if (outcome.status === 'dismissed') await releaseHoldIn(trx, row.id, row.user_id, note, actor);
        await deps.audit(
          {
            action: 'admin.fraud_case_decided',
            actor,
            subjectUserId: row.user_id,
            resource: `fraud_case:${caseId}`,
            oldValue: { status: row.status },
            newValue: { status: outcome.status, rule: row.rule, score: row.score },
          },
          trx,
        );
        return caseView(updated);
      });
    },
  };
}

export type FraudDetection = ReturnType<typeof createFraudDetection>;
