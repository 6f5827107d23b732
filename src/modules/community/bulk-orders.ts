/**
 * Bulk orders (issue #27, docs/community.md "Bulk orders"): a customer asks one restaurant for a
 * large order at a time well ahead; the deposit goes into the request's own escrow on the ledger
 * with the request, so the restaurant only ever sees requests backed by money. The restaurant
 * confirms its capacity, refuses, or proposes another time, before a deadline; unanswered, the
 * request expires and the deposit goes back. Once confirmed the customer pays the balance before
 * its deadline; at the placement time the escrow is released to the customer's wallet and the
 * order is placed through the orders service (its id chosen with the request, so a second attempt
 * finds the first), paid from that wallet like any wallet order, as a scheduled order for the
 * agreed time. A cancellation gives the deposit back whole before confirmation or before the
 * free-cancellation cutoff, and the configured part after it (the rest is the restaurant's).
 *
 * Every status change runs under the request row's lock and every transfer's id is the request's,
 * so a retry, a second instance or the minute sweep moves each franc once.
 *
 * The deposit and the balance may also be paid directly by Mobile Money (docs/community.md,
 * "Paying by Mobile Money"): a collection through payments whose success payments captures into
 * this request's escrow and then asks `collections.collected`, which decides once per payment,
 * under the row's lock, whether the request keeps it (else payments sends it on to the wallet).
 */
import type { Logger } from 'pino';
import type { Transfer } from '../../../ledger/rules/index.js';
import { isDomainError, type DomainError } from '../../shared/errors.js';
import type { CatalogCommunityApi } from '../catalog/index.js';
import { CartError, normalizeCart, type PlaceOrderInput } from '../orders/index.js';
import {
  bulkTransferIds,
  cancellationRefund,
  depositOf,
  endingTransfers,
  ENDED,
  LIVE,
  paymentTransfer,
  releaseTransfer,
  type CancellationPolicy,
} from './bulk-rules.js';
import {
  decodeCursor,
  encodeCursor,
  type BulkOrderRow,
  type BulkOrdersRepository,
} from './bulk-repository.js';
import { communityErrors } from './errors.js';
import { safeNotices, type BulkOrderNoticeInput, type CommunityNotifier } from './notices.js';
import { PLACEMENT_CLAIM_SECONDS } from './group-rules.js';
import type { BulkOrderStatus, GroupLine } from './tables.js';

/** What bulk orders use of orders: its quote, an order's status, and its placement. */
export interface BulkOrdersPort {
  quote(input: PlaceOrderInput, customerId: string): Promise<{ totalMinor: number }>;
  status(orderId: string): Promise<string | undefined>;
  place(
    input: PlaceOrderInput,
    customerId: string,
    orderId: string,
    expectedTotalMinor: number,
  ): Promise<{ status: string }>;
}

/** A Mobile Money collection as bulk orders see it (payments' attempt). */
export interface BulkCollectionView {
  paymentId: string;
  status: 'NONE' | 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'EXPIRED';
  amountMinor: number;
  provider: string | null;
  ussdCode: string | null;
  failureReason: string | null;
  afterExpiry: boolean;
}

/** What bulk orders use of payments: a collection for a part, its id, its status, and its booking. */
export interface BulkPaymentsPort {
  paymentIdOf(userId: string, idempotencyKey: string): string;
  collect(input: {
    userId: string;
    bulkOrderId: string;
    part: 'deposit' | 'balance';
    amountMinor: bigint;
    phone: string;
    operator?: 'MTN' | 'ORANGE';
    idempotencyKey: string;
  }): Promise<BulkCollectionView>;
  view(paymentId: string): Promise<BulkCollectionView | undefined>;
  /** Re-reads the provider, applies and books what it says. */
  refresh(paymentId: string): Promise<unknown>;
  /** Books a success (again: idempotent), asking `collections.collected` once it is in escrow. */
  settle(paymentId: string): Promise<void>;
}

/** A Mobile Money payment of a part: the number to collect from, and the client's key. */
export interface BulkMobileMoney {
  phone: string;
  operator?: 'MTN' | 'ORANGE';
  idempotencyKey: string;
}

export interface BulkLedgerPort {
  submit(transfers: readonly Transfer[]): Promise<{ id: string; result: string; detail?: string }[]>;
}

export interface BulkPolicy extends CancellationPolicy {
  minLeadHours: number;
  maxDays: number;
  minItems: number;
  responseHours: number;
  depositPercent: number;
  balanceHoursBefore: number;
  placeMinutesBefore: number;
  /** Orders' least lead of a scheduled order: closer than this, the order is placed for now. */
  scheduleMinLeadMinutes: number;
}

export interface BulkAuditEntry {
  action: string;
  /** null: the sweep. */
  actorId: string | null;
  resource: string;
  newValue: Record<string, unknown>;
}

export interface BulkOrdersDependencies {
  repository: BulkOrdersRepository;
  catalog: Pick<CatalogCommunityApi, 'restaurantCards'> & {
    restaurantOwnerId(restaurantId: string): Promise<string | undefined>;
  };
  orders: () => BulkOrdersPort;
  wallets: () => { frozen(userId: string): Promise<boolean> };
  /** Absent: Mobile Money payments of bulk orders are refused (503). */
  payments?: () => BulkPaymentsPort;
  ledger: BulkLedgerPort;
  audit: (entry: BulkAuditEntry) => Promise<void>;
  logger: Logger;
  policy: BulkPolicy;
  now?: () => Date;
  /** notify's intents (docs/community.md "Notices"); none: nobody is told (the apps poll). */
  notifier?: CommunityNotifier;
}

export interface BulkRequestInput {
  restaurantId: string;
  items: GroupLine[];
  delivery: { latitude: number; longitude: number; text: string };
  scheduledFor: string;
  note: string | null;
}

/** Who acts: the customer, the restaurant's owner, or an administrator (as the restaurant). */
export interface BulkActor {
  userId: string;
  admin: boolean;
}

export interface BulkOrderView {
  id: string;
  restaurantId: string;
  customerId: string;
  status: BulkOrderStatus;
  items: GroupLine[];
  delivery: { latitude: number; longitude: number; text: string };
  note: string | null;
  scheduledFor: string;
  totalMinor: number;
  depositMinor: number;
  balanceMinor: number;
  balancePaid: boolean;
  /** False while a Mobile Money request waits for its deposit (`awaiting_deposit`). */
  depositPaid: boolean;
  /** The part a Mobile Money collection is paying now, if any. */
  collecting: 'deposit' | 'balance' | null;
  balanceDueBy: string;
  respondBy: string | null;
  proposal: { scheduledFor: string; note: string | null } | null;
  depositRefundMinor: number | null;
  orderId: string | null;
  failure: string | null;
  createdAt: string;
}

const errors = communityErrors;
const notFound = () =>
  errors.of('not_found', 'bulk_order_not_found', 'There is no such bulk order among yours.');
const accepted = (result: string | undefined) => result === 'ok' || result === 'exists';
const HOUR_MS = 3_600_000;

export function createBulkOrders(deps: BulkOrdersDependencies) {
  const { repository, logger, policy } = deps;
  const now = deps.now ?? (() => new Date());
  const balanceDueBy = (row: { scheduledFor: Date }) =>
    new Date(row.scheduledFor.getTime() - policy.balanceHoursBefore * HOUR_MS);
  const notices = safeNotices(deps.notifier, logger);

  /** Tells the customer of a fact of their request (the agreed time unless `fields` says). */
  function tellCustomer(row: BulkOrderRow, event: BulkOrderNoticeInput['event'], fields = {}) {
    return notices.bulk({
      bulkOrderId: row.id,
      event,
      recipientId: row.customerId,
      scheduledFor: row.scheduledFor,
      ...fields,
    });
  }

  /** A request backed by its deposit: the restaurant's owner hears of it, the customer of the deposit. */
  async function tellRequested(row: BulkOrderRow): Promise<void> {
    const ownerId = await deps.catalog.restaurantOwnerId(row.restaurantId);
    if (ownerId !== undefined)
      await notices.bulk({
        bulkOrderId: row.id,
        event: 'requested',
        recipientId: ownerId,
        scheduledFor: row.scheduledFor,
        portions: row.lines.reduce((sum, line) => sum + line.quantity, 0),
        totalMinor: Number(row.totalMinor),
        deadline: row.respondBy,
      });
    await tellCustomer(row, 'deposit_held', {
      amountMinor: Number(row.depositMinor),
      deadline: row.respondBy,
    });
  }

  function view(row: BulkOrderRow): BulkOrderView {
    return {
      id: row.id,
      restaurantId: row.restaurantId,
      customerId: row.customerId,
      status: row.status,
      items: row.lines,
      delivery: row.delivery,
      note: row.note,
      scheduledFor: row.scheduledFor.toISOString(),
      totalMinor: Number(row.totalMinor),
      depositMinor: Number(row.depositMinor),
      balanceMinor: Number(row.balanceMinor),
      balancePaid: row.balanceState === 'paid',
      depositPaid: row.depositState === 'paid',
      collecting:
        row.depositState === 'collecting' ? 'deposit' : row.balanceState === 'collecting' ? 'balance' : null,
      balanceDueBy: balanceDueBy(row).toISOString(),
      respondBy: ['requested', 'proposed', 'awaiting_deposit'].includes(row.status)
        ? row.respondBy.toISOString()
        : null,
      proposal:
        row.status === 'proposed' && row.proposedFor !== null
          ? { scheduledFor: row.proposedFor.toISOString(), note: row.proposalNote }
          : null,
      depositRefundMinor: row.depositRefundMinor === null ? null : Number(row.depositRefundMinor),
      orderId: row.status === 'placed' ? row.orderId : null,
      failure: row.failure,
      createdAt: row.createdAt.toISOString(),
    };
  }

  function mustBe(row: BulkOrderRow, statuses: readonly BulkOrderStatus[]): void {
    if (!statuses.includes(row.status))
      throw errors.of('conflict', 'bulk_order_state', `The bulk order is ${row.status}.`, {
        details: { bulkOrderStatus: row.status },
      });
  }

  async function audit(row: BulkOrderRow, action: string, actorId: string | null, extra = {}) {
    await deps
      .audit({
        action: `bulk_order.${action}`,
        actorId,
        resource: `bulk_order:${row.id}`,
        newValue: { restaurantId: row.restaurantId, ...extra },
      })
      .catch((error: unknown) =>
        logger.error({ err: error, bulkOrderId: row.id }, 'bulk order audit failed'),
      );
  }

  /** The time a request may be for: far enough ahead for the restaurant, within orders' window. */
  function checkTime(typed: string, earliestHours: number): Date {
    const at = new Date(typed);
    const lead = at.getTime() - now().getTime();
    if (Number.isNaN(lead) || lead < earliestHours * HOUR_MS || lead > policy.maxDays * 24 * HOUR_MS)
      throw errors.of(
        'unprocessable',
        'bulk_order_time',
        `A bulk order is for ${earliestHours} hours to ${policy.maxDays} days ahead.`,
        { details: { minLeadHours: earliestHours, maxDays: policy.maxDays } },
      );
    return at;
  }

  function checkLines(restaurantId: string, typed: GroupLine[]): GroupLine[] {
    let lines: GroupLine[];
    try {
      lines = normalizeCart({ restaurantId, items: typed }).items;
    } catch (error) {
      if (error instanceof CartError) throw errors.of('unprocessable', error.code, error.message);
      throw error;
    }
    const portions = (each: GroupLine[]) => each.reduce((sum, line) => sum + line.quantity, 0);
    // Orders' cart caps a merged line at 50 portions; a bulk order refuses rather than drop any.
    if (portions(lines) !== portions(typed))
      throw errors.of(
        'unprocessable',
        'cart_invalid',
        'A dish with the same options is at most 50 portions.',
      );
    if (portions(lines) < policy.minItems)
      throw errors.of(
        'unprocessable',
        'bulk_order_too_small',
        `A bulk order holds at least ${policy.minItems} portions.`,
        { details: { minItems: policy.minItems } },
      );
    return lines;
  }

  function placementInput(row: BulkOrderRow, scheduledFor?: Date): PlaceOrderInput {
    return {
      restaurantId: row.restaurantId,
      items: row.lines,
      delivery: row.delivery,
      payment: { kind: 'wallet' },
      tipMinor: 0,
      ...(scheduledFor === undefined ? {} : { scheduledFor: scheduledFor.toISOString() }),
    };
  }

  /**
   * A new request: checked, priced by orders' quote for its time, recorded `paying`, and its
   * deposit moved into escrow; then `requested`. `ids` come from the Idempotency-Key, so a retry
   * after a crash finds the same row and submits the same deposit transfer.
   */
  async function request(
    customerId: string,
    input: BulkRequestInput,
    ids: { id: string; orderId: string },
  ): Promise<BulkOrderView> {
    const existing = await repository.find(ids.id);
    if (existing !== undefined && existing.customerId === customerId)
      return view(existing.status === 'paying' ? await settleDeposit(existing) : existing);
    const row = await record(customerId, input, ids, false);
    return view(row.status === 'paying' ? await settleDeposit(row) : row);
  }

  /**
   * A new request whose deposit is paid by Mobile Money: recorded `awaiting_deposit` (seen by its
   * customer only), then the deposit's collection starts. A retry with the same key finds the
   * same request and the same collection.
   */
  async function requestByMobileMoney(
    customerId: string,
    input: BulkRequestInput,
    ids: { id: string; orderId: string },
    momo: BulkMobileMoney,
  ): Promise<{ bulkOrder: BulkOrderView; collection: BulkCollectionView }> {
    const existing = await repository.find(ids.id);
    if (existing === undefined || existing.customerId !== customerId)
      await record(customerId, input, ids, true);
    return collect(customerId, ids.id, 'deposit', momo);
  }

  /** Checks, prices and records a request (`paying`, or `awaiting_deposit` for Mobile Money). */
  async function record(
    customerId: string,
    input: BulkRequestInput,
    ids: { id: string; orderId: string },
    byMobileMoney: boolean,
  ): Promise<BulkOrderRow> {
    const scheduledFor = checkTime(input.scheduledFor, policy.minLeadHours);
    const lines = checkLines(input.restaurantId, input.items);
    const [restaurant] = await deps.catalog.restaurantCards([input.restaurantId]);
    if (restaurant === undefined || !restaurant.active)
      throw errors.of('not_found', 'restaurant_not_found', 'There is no such restaurant.');
    const draft = { restaurantId: input.restaurantId, lines, delivery: input.delivery } as BulkOrderRow;
    const quoted = await deps.orders().quote(placementInput(draft, scheduledFor), customerId);
    const totalMinor = BigInt(quoted.totalMinor);
    if (byMobileMoney) payments();
    else if (await deps.wallets().frozen(customerId))
      throw errors.of('unprocessable', 'wallet_frozen', 'This wallet is frozen; contact support.');
    const respondBy = new Date(
      Math.min(now().getTime() + policy.responseHours * HOUR_MS, balanceDueBy({ scheduledFor }).getTime()),
    );
    await repository.insert({
      id: ids.id,
      customerId,
      restaurantId: input.restaurantId,
      lines,
      delivery: input.delivery,
      note: input.note,
      scheduledFor,
      totalMinor,
      depositMinor: depositOf(totalMinor, policy.depositPercent),
      respondBy,
      orderId: ids.orderId,
      byMobileMoney,
    });
    const row = await repository.find(ids.id);
    if (row === undefined || row.customerId !== customerId) throw notFound();
    return row;
  }

  function payments(): BulkPaymentsPort {
    const port = deps.payments?.();
    if (port === undefined)
      throw errors.of(
        'unavailable',
        'payment_provider_unavailable',
        'No payment provider is reachable; try again later.',
      );
    return port;
  }

  /**
   * Starts (or, with the same key, finds again) the Mobile Money collection of a part: the part is
   * marked `collecting` by this payment under the row's lock (a second collection while one is in
   * flight is a 409), then payments is asked. A refusal or an unreachable provider leaves the part
   * `due` again, payable with a new key.
   */
  async function collect(
    customerId: string,
    id: string,
    part: 'deposit' | 'balance',
    momo: BulkMobileMoney,
  ): Promise<{ bulkOrder: BulkOrderView; collection: BulkCollectionView }> {
    const port = payments();
    const paymentKey = `bulk-${part}:${id}:${momo.idempotencyKey}`;
    const paymentId = port.paymentIdOf(customerId, paymentKey);
    const row = await repository.withRequest(id, async (current, transaction) => {
      if (current === undefined || current.customerId !== customerId || current.status === 'paying')
        throw notFound();
      const state = part === 'deposit' ? current.depositState : current.balanceState;
      const inFlight = part === 'deposit' ? current.depositPaymentId : current.balancePaymentId;
      if (state === 'paid') {
        if (inFlight === paymentId) return current; // this very collection landed: answer it again
        mustBe(current, []);
      }
      if (part === 'deposit') {
        mustBe(current, ['awaiting_deposit']);
        if (current.respondBy <= now())
          throw errors.of('conflict', 'bulk_order_deposit_late', 'The time to pay the deposit has passed.', {
            details: { respondBy: current.respondBy.toISOString() },
          });
      } else {
        mustBe(current, ['confirmed']);
        if (balanceDueBy(current) <= now())
          throw errors.of('conflict', 'bulk_order_balance_late', 'The time to pay the balance has passed.', {
            details: { balanceDueBy: balanceDueBy(current).toISOString() },
          });
      }
      if (!(await repository.startCollection(transaction, id, part, paymentId)))
        throw errors.of(
          'conflict',
          'bulk_order_collection_pending',
          'Another payment of this bulk order is in progress; wait for its outcome.',
          { details: { part } },
        );
      return current;
    });
    const amountMinor = part === 'deposit' ? row.depositMinor : row.balanceMinor;
    let collection: BulkCollectionView;
    try {
      collection = await port.collect({
        userId: customerId,
        bulkOrderId: id,
        part,
        amountMinor,
        phone: momo.phone,
        ...(momo.operator === undefined ? {} : { operator: momo.operator }),
        idempotencyKey: paymentKey,
      });
    } catch (error) {
      // Refused or unreachable: the attempt is failed (or was never made), the part payable again.
      // A provider that may still have acted books a late success into the wallet, never here.
      if (isDomainError(error)) await repository.dropCollection(id, part, paymentId);
      throw error;
    }
    if (collection.status === 'FAILED' || collection.status === 'EXPIRED')
      await repository.dropCollection(id, part, paymentId);
    return { bulkOrder: view((await repository.find(id))!), collection };
  }

  /**
   * A collection for one of our requests is in its escrow (payments captured it): the request
   * keeps it when that part is still being collected by this very payment for its exact amount
   * and the request still takes it; otherwise it is returned (payments sends it on to the
   * wallet). Decided once per payment, under the row's lock; every later ask answers the same.
   */
  async function collected(collection: {
    bulkOrderId: string;
    part: 'deposit' | 'balance';
    paymentId: string;
    amountMinor: bigint;
  }): Promise<boolean> {
    const { bulkOrderId: id, part, paymentId, amountMinor } = collection;
    const decided = await repository.withRequest(id, async (row, transaction) => {
      const known = await repository.collectionOutcome(transaction, paymentId);
      if (known !== undefined) return { outcome: known, row: undefined };
      const keep =
        row !== undefined &&
        (part === 'deposit'
          ? row.status === 'awaiting_deposit' &&
            row.depositState === 'collecting' &&
            row.depositPaymentId === paymentId &&
            amountMinor === row.depositMinor
          : row.status === 'confirmed' &&
            row.balanceState === 'collecting' &&
            row.balancePaymentId === paymentId &&
            amountMinor === row.balanceMinor);
      const outcome = keep ? ('kept' as const) : ('returned' as const);
      await repository.recordCollection(transaction, {
        paymentId,
        bulkOrderId: id,
        part,
        amountMinor,
        outcome,
      });
      if (keep && part === 'deposit') {
        // The restaurant's time to answer starts now that the request is backed by money.
        const respondBy = new Date(
          Math.min(now().getTime() + policy.responseHours * HOUR_MS, balanceDueBy(row).getTime()),
        );
        await repository.update(transaction, id, ['awaiting_deposit'], {
          status: 'requested',
          deposit_state: 'paid',
          respond_by: respondBy,
        });
      } else if (keep) {
        await repository.update(transaction, id, ['confirmed'], { balance_state: 'paid' });
      }
      return { outcome, row: keep ? row : undefined };
    });
    if (decided.row !== undefined)
      await audit(decided.row, part === 'deposit' ? 'requested' : 'balance_paid', decided.row.customerId, {
        amountMinor: Number(amountMinor),
        method: 'mobile_money',
        paymentId,
      });
    return decided.outcome === 'kept';
  }

  /** A collection that will not land (failed, or less than asked): its part is payable again. */
  async function collectionFailed(collection: {
    bulkOrderId: string;
    part: 'deposit' | 'balance';
    paymentId: string;
  }): Promise<void> {
    await repository.dropCollection(collection.bulkOrderId, collection.part, collection.paymentId);
  }

  /**
   * The sweep's look at a collection still marked in flight: re-read (and book) a pending one,
   * book a success again (payments then asks `collected`), free the part when the attempt
   * failed, expired, succeeded too late for the escrow (it went to the wallet), or was never
   * recorded (a crash before payments wrote it, two minutes on).
   */
  async function resolveCollection(row: BulkOrderRow, part: 'deposit' | 'balance', at: Date): Promise<void> {
    const paymentId = part === 'deposit' ? row.depositPaymentId : row.balancePaymentId;
    const port = deps.payments?.();
    if (paymentId === null || port === undefined) return;
    const found = await port.view(paymentId);
    if (found === undefined) {
      if (row.updatedAt.getTime() <= at.getTime() - 120_000)
        await repository.dropCollection(row.id, part, paymentId);
    } else if (found.status === 'PENDING') {
      await port.refresh(paymentId);
    } else if (found.status === 'SUCCEEDED' && !found.afterExpiry) {
      await port.settle(paymentId);
    } else {
      await repository.dropCollection(row.id, part, paymentId);
    }
  }

  /**
   * Submits a `paying` request's deposit (again) and records the ledger's answer: landed, the
   * request goes to the restaurant; refused, the request is dropped as if never made.
   */
  async function settleDeposit(row: BulkOrderRow): Promise<BulkOrderRow> {
    const [outcome] = await deps.ledger.submit([
      paymentTransfer(row.id, row.customerId, 'deposit', row.depositMinor),
    ]);
    if (accepted(outcome?.result)) {
      if (await repository.update(repository.db, row.id, ['paying'], { status: 'requested' })) {
        await audit(row, 'requested', row.customerId, { totalMinor: Number(row.totalMinor) });
        await tellRequested(row);
      }
      return (await repository.find(row.id))!;
    }
    if (outcome?.result === 'exceeds_credits') {
      await repository.dropUnpaid(row.id);
      throw errors.of(
        'unprocessable',
        'insufficient_funds',
        'The wallet balance is too low for the deposit.',
        { details: { amountMinor: Number(row.depositMinor) } },
      );
    }
    throw new Error(`ledger refused bulk deposit ${row.id}: ${outcome?.result ?? 'no outcome'}`);
  }

  /** The request when the caller is its customer; 404 otherwise. */
  async function ownRequest(customerId: string, id: string): Promise<BulkOrderRow> {
    const row = await repository.find(id);
    if (row === undefined || row.customerId !== customerId || row.status === 'paying') throw notFound();
    return row;
  }

  /** The request when the caller owns its restaurant (or is an administrator); 404 otherwise. */
  async function restaurantRequest(actor: BulkActor, id: string): Promise<BulkOrderRow> {
    const row = await repository.find(id);
    // A request still waiting for its Mobile Money deposit is not the restaurant's to see.
    if (row === undefined || row.status === 'paying' || row.status === 'awaiting_deposit') throw notFound();
    if (!actor.admin && (await deps.catalog.restaurantOwnerId(row.restaurantId)) !== actor.userId)
      throw notFound();
    return row;
  }

  async function read(actor: BulkActor, id: string): Promise<BulkOrderView> {
    const row = await repository.find(id);
    if (row !== undefined && row.customerId === actor.userId && row.status !== 'paying') return view(row);
    return view(await restaurantRequest(actor, id));
  }

  async function page(rows: BulkOrderRow[], limit: number) {
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(view),
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
    };
  }

  function cursorOf(cursor: string | undefined) {
    if (cursor === undefined) return null;
    const decoded = decodeCursor(cursor);
    if (decoded === null)
      throw errors.of('validation', 'invalid_cursor', 'The page cursor is not one this API issued.');
    return decoded;
  }

  async function listOwn(customerId: string, options: { cursor?: string; limit: number }) {
    return page(
      await repository.list({ customerId }, cursorOf(options.cursor), options.limit),
      options.limit,
    );
  }

  async function listForRestaurant(
    actor: BulkActor,
    restaurantId: string,
    options: { cursor?: string; limit: number; statuses?: BulkOrderStatus[] },
  ) {
    const cursor = cursorOf(options.cursor);
    if (!actor.admin && (await deps.catalog.restaurantOwnerId(restaurantId)) !== actor.userId)
      throw errors.of('not_found', 'restaurant_not_found', 'There is no such restaurant among yours.');
    return page(
      await repository.list({ restaurantId }, cursor, options.limit, options.statuses),
      options.limit,
    );
  }

  /** The restaurant confirms its capacity; confirming twice is confirming once. */
  async function confirm(actor: BulkActor, id: string): Promise<BulkOrderView> {
    await restaurantRequest(actor, id);
    const changed = await repository.withRequest(id, async (row, transaction) => {
      if (row === undefined) throw notFound();
      if (row.status === 'confirmed') return undefined;
      mustBe(row, ['requested']);
      if (row.respondBy <= now()) throw lateAnswer(row);
      await repository.update(transaction, id, ['requested'], { status: 'confirmed' });
      return row;
    });
    if (changed !== undefined) {
      await audit(changed, 'confirmed', actor.userId);
      await tellCustomer(changed, 'confirmed', {
        amountMinor: Number(changed.balanceMinor),
        deadline: balanceDueBy(changed),
      });
    }
    return view((await repository.find(id))!);
  }

  function lateAnswer(row: BulkOrderRow): DomainError {
    return errors.of('conflict', 'bulk_order_answer_late', 'The time to answer this bulk order has passed.', {
      details: { respondBy: row.respondBy.toISOString() },
    });
  }

  /** The restaurant proposes another time; the customer accepts it or cancels (deposit back). */
  async function propose(
    actor: BulkActor,
    id: string,
    proposal: { scheduledFor: string; note: string | null },
  ): Promise<BulkOrderView> {
    await restaurantRequest(actor, id);
    const scheduledFor = checkTime(proposal.scheduledFor, policy.balanceHoursBefore + 1);
    const changed = await repository.withRequest(id, async (row, transaction) => {
      if (row === undefined) throw notFound();
      mustBe(row, ['requested']);
      if (row.respondBy <= now()) throw lateAnswer(row);
      const respondBy = new Date(
        Math.min(now().getTime() + policy.responseHours * HOUR_MS, balanceDueBy({ scheduledFor }).getTime()),
      );
      await repository.update(transaction, id, ['requested'], {
        status: 'proposed',
        proposed_for: scheduledFor,
        proposal_note: proposal.note,
        respond_by: respondBy,
      });
      return row;
    });
    await audit(changed, 'proposed', actor.userId, { scheduledFor: scheduledFor.toISOString() });
    const proposed = (await repository.find(id))!;
    await tellCustomer(proposed, 'proposed', { scheduledFor, deadline: proposed.respondBy });
    return view(proposed);
  }

  /** The customer accepts the restaurant's proposal: confirmed for the proposed time. */
  async function accept(customerId: string, id: string): Promise<BulkOrderView> {
    await ownRequest(customerId, id);
    const changed = await repository.withRequest(id, async (row, transaction) => {
      if (row === undefined) throw notFound();
      if (row.status === 'confirmed') return undefined;
      mustBe(row, ['proposed']);
      if (row.respondBy <= now() || row.proposedFor === null) throw lateAnswer(row);
      await repository.update(transaction, id, ['proposed'], {
        status: 'confirmed',
        scheduled_for: row.proposedFor,
      });
      return row;
    });
    if (changed !== undefined) await audit(changed, 'accepted', customerId);
    return view((await repository.find(id))!);
  }

  /** The restaurant refuses: the request ends and its deposit goes back whole. */
  async function refuse(actor: BulkActor, id: string, reason: string | null): Promise<BulkOrderView> {
    await restaurantRequest(actor, id);
    const known = (await repository.find(id))!;
    if (known.status !== 'refused') {
      mustBe(known, ['requested', 'proposed']);
      const ended = await end(id, 'refused', ['requested', 'proposed'], () => known.depositMinor, reason);
      if (!ended) mustBe((await repository.find(id))!, ['refused']);
      else {
        await audit(known, 'refused', actor.userId);
        await tellCustomer(known, 'refused', { amountMinor: Number(known.depositMinor) });
      }
    }
    return view((await repository.find(id))!);
  }

  /** The customer cancels: the deposit back whole or in part (the rules above), a paid balance whole. */
  async function cancel(customerId: string, id: string): Promise<BulkOrderView> {
    const known = await ownRequest(customerId, id);
    const cancellable: BulkOrderStatus[] = ['awaiting_deposit', ...LIVE];
    if (known.status !== 'cancelled') {
      mustBe(known, cancellable);
      const ended = await end(id, 'cancelled', cancellable, (row) => cancellationRefund(row, now(), policy));
      if (!ended) mustBe((await repository.find(id))!, ['cancelled']);
      else await audit(known, 'cancelled', customerId);
    }
    return view((await repository.find(id))!);
  }

  /**
   * Ends a request that is in one of `from`, with the part of the deposit that goes back (decided
   * under the lock, from the row as it is then), and gives the money back. False when it was not
   * in `from` (someone ended or moved it first).
   */
  async function end(
    id: string,
    to: BulkOrderStatus,
    from: readonly BulkOrderStatus[],
    refundOf: (row: BulkOrderRow) => bigint,
    failure: string | null = null,
  ): Promise<boolean> {
    const ended = await repository.withRequest(id, async (row, transaction) => {
      if (row === undefined || !from.includes(row.status)) return false;
      // The sweep waits for a Mobile Money collection in flight (at most its 15 minutes) before it
      // expires a request or cancels one for its balance; the customer's own cancellation does not.
      const collecting = row.depositState === 'collecting' || row.balanceState === 'collecting';
      if (collecting && (to === 'expired' || failure === 'balance_unpaid')) return false;
      return repository.update(transaction, id, from, {
        status: to,
        // A deposit that never landed (Mobile Money) has nothing to give back or keep.
        deposit_refund_minor: row.depositState === 'paid' ? refundOf(row) : 0n,
        failure,
      });
    });
    if (ended) await refundEnded(id);
    return ended;
  }

  /**
   * An ended request's escrow emptied once: a balance still `paying` is settled first (its
   * transfer submitted again: it lands or not), then the deposit's refund, the restaurant's part
   * and a paid balance, each by its own id. After a release the money is already in the wallet.
   */
  async function refundEnded(id: string): Promise<void> {
    let row = await repository.find(id);
    if (row === undefined || !ENDED.includes(row.status) || row.refundsDone) return;
    if (row.released) {
      await repository.update(repository.db, id, ENDED, { refunds_done: true });
      return;
    }
    if (row.balanceState === 'paying') {
      const [landed] = await deps.ledger.submit([
        paymentTransfer(id, row.customerId, 'balance', row.balanceMinor),
      ]);
      await repository.moveBalance(id, 'paying', accepted(landed?.result) ? 'paid' : 'due');
      row = (await repository.find(id))!;
    }
    const heldDeposit = row.depositState === 'paid' ? row.depositMinor : 0n;
    const transfers = endingTransfers({
      id,
      customerId: row.customerId,
      restaurantId: row.restaurantId,
      depositMinor: heldDeposit,
      depositRefundMinor: row.depositRefundMinor ?? heldDeposit,
      balanceMinor: row.balanceMinor,
      balancePaid: row.balanceState === 'paid',
    });
    const outcomes = transfers.length === 0 ? [] : await deps.ledger.submit(transfers);
    if (outcomes.some((outcome) => !accepted(outcome.result))) {
      logger.error({ bulkOrderId: id, outcomes }, 'bulk order refund refused');
      return;
    }
    await repository.update(repository.db, id, ENDED, { refunds_done: true });
  }

  /** The customer pays the balance of a confirmed request from their wallet. */
  async function payBalance(customerId: string, id: string): Promise<BulkOrderView> {
    await ownRequest(customerId, id);
    if (await deps.wallets().frozen(customerId))
      throw errors.of('unprocessable', 'wallet_frozen', 'This wallet is frozen; contact support.');
    const row = await repository.withRequest(id, async (current, transaction) => {
      if (current === undefined) throw notFound();
      if (current.balanceState === 'paid') return undefined;
      mustBe(current, ['confirmed']);
      if (current.balanceState === 'collecting')
        throw errors.of(
          'conflict',
          'bulk_order_collection_pending',
          'Another payment of this bulk order is in progress; wait for its outcome.',
          { details: { part: 'balance' } },
        );
      if (balanceDueBy(current) <= now())
        throw errors.of('conflict', 'bulk_order_balance_late', 'The time to pay the balance has passed.', {
          details: { balanceDueBy: balanceDueBy(current).toISOString() },
        });
      await repository.update(transaction, id, ['confirmed'], { balance_state: 'paying' });
      return current;
    });
    if (row !== undefined) await settleBalance(row);
    await placeWhenDue(id);
    return view((await repository.find(id))!);
  }

  /** Submits a `paying` balance (again) and records the ledger's answer. */
  async function settleBalance(row: BulkOrderRow): Promise<void> {
    const [outcome] = await deps.ledger.submit([
      paymentTransfer(row.id, row.customerId, 'balance', row.balanceMinor),
    ]);
    if (accepted(outcome?.result)) {
      if (await repository.moveBalance(row.id, 'paying', 'paid')) {
        await audit(row, 'balance_paid', row.customerId, { amountMinor: Number(row.balanceMinor) });
        await tellCustomer(row, 'balance_paid', { amountMinor: Number(row.balanceMinor) });
        return;
      }
      // The request ended meanwhile and its refund saw no balance: give this one back by its own id.
      const current = (await repository.find(row.id))!;
      if (current.balanceState !== 'paid') await giveBalanceBack(current);
      return;
    }
    await repository.moveBalance(row.id, 'paying', 'due');
    if (outcome?.result === 'exceeds_credits')
      throw errors.of(
        'unprocessable',
        'insufficient_funds',
        'The wallet balance is too low for the balance.',
        { details: { amountMinor: Number(row.balanceMinor) } },
      );
    throw new Error(`ledger refused bulk balance ${row.id}: ${outcome?.result ?? 'no outcome'}`);
  }

  async function giveBalanceBack(row: BulkOrderRow): Promise<void> {
    const [refund] = endingTransfers({
      id: row.id,
      customerId: row.customerId,
      restaurantId: row.restaurantId,
      depositMinor: 0n,
      depositRefundMinor: 0n,
      balanceMinor: row.balanceMinor,
      balancePaid: true,
    });
    const [outcome] = await deps.ledger.submit([refund!]);
    if (!accepted(outcome?.result))
      logger.error({ bulkOrderId: row.id, result: outcome?.result }, 'late bulk balance refund refused');
    throw errors.of('conflict', 'bulk_order_state', `The bulk order is ${row.status}.`, {
      details: { bulkOrderStatus: row.status },
    });
  }

  /** A confirmed, paid request whose placement time has come goes `placing`, then is placed. */
  async function placeWhenDue(id: string, at: Date = now()): Promise<void> {
    const ready = await repository.withRequest(id, async (row, transaction) => {
      if (row === undefined) return false;
      if (row.status === 'placing') return true;
      if (row.status !== 'confirmed' || row.balanceState !== 'paid') return false;
      if (row.scheduledFor.getTime() - policy.placeMinutesBefore * 60_000 > at.getTime()) return false;
      return repository.update(transaction, id, ['confirmed'], { status: 'placing' });
    });
    if (ready) await place(id);
  }

  /**
   * The request is `placing`: release the escrow to the customer's wallet, place the order (its
   * id was chosen with the request, so a second attempt finds the first) for the agreed time at
   * the agreed total, and mark it placed. A refusal ends the request `failed`; the money is then
   * in the customer's wallet already.
   */
  async function place(id: string): Promise<void> {
    // One placer at a time (the group carts' 500, docs/community.md "Why the last share answered
    // 500"): orders.place must not run twice at once for one order id.
    if (!(await repository.claimPlacement(id, PLACEMENT_CLAIM_SECONDS))) return;
    try {
      await placeClaimed(id);
    } finally {
      await repository.releasePlacement(id);
    }
  }

  async function placeClaimed(id: string): Promise<void> {
    const row = await repository.find(id);
    if (row === undefined || row.status !== 'placing') return;
    if (!row.released) {
      const [outcome] = await deps.ledger.submit([releaseTransfer(id, row.customerId, row.totalMinor)]);
      if (!accepted(outcome?.result))
        throw new Error(`bulk order ${id}: release refused (${outcome?.result})`);
      await repository.update(repository.db, id, ['placing'], { released: true });
    }
    let status = await deps.orders().status(row.orderId);
    if (status === undefined) {
      const lead = row.scheduledFor.getTime() - now().getTime();
      const scheduled = lead > (policy.scheduleMinLeadMinutes + 5) * 60_000 ? row.scheduledFor : undefined;
      try {
        status = (
          await deps
            .orders()
            .place(placementInput(row, scheduled), row.customerId, row.orderId, Number(row.totalMinor))
        ).status;
      } catch (error) {
        if (!isRefusal(error)) throw error;
        await failPlacement(row, error.code);
        return;
      }
    }
    if (status === 'PAYMENT_FAILED') return failPlacement(row, 'payment_failed');
    if (await repository.update(repository.db, id, ['placing'], { status: 'placed', refunds_done: true })) {
      await audit(row, 'placed', null, { orderId: row.orderId });
      await tellCustomer(row, 'placed', { orderId: row.orderId });
    }
  }

  async function failPlacement(row: BulkOrderRow, failure: string): Promise<void> {
    await end(row.id, 'failed', ['placing'], () => row.depositMinor, failure);
    await audit(row, 'failed', null, { failure });
  }

  /**
   * Every minute on every instance: deposits and balances a stopped process left `paying`,
   * unanswered requests (expired, deposit back), balances unpaid at their deadline (cancelled
   * late), placements due or left half done, ended requests not yet refunded. Bounded per run.
   */
  async function sweep(at: Date = now()) {
    const counts = { expired: 0, cancelled: 0, placed: 0, refunded: 0 };
    const settleBefore = new Date(at.getTime() - 60_000);
    const due = await repository.needingWork(at, settleBefore, policy, 100);
    for (const id of due) {
      try {
        await sweepOne(id, at, settleBefore, counts);
      } catch (error) {
        if (!isDomainError(error))
          logger.warn({ err: error, bulkOrderId: id }, 'bulk order sweep step failed');
      }
    }
    return counts;
  }

  async function sweepOne(
    id: string,
    at: Date,
    settleBefore: Date,
    counts: { expired: number; cancelled: number; placed: number; refunded: number },
  ): Promise<void> {
    const row = await repository.find(id);
    if (row === undefined) return;
    if (row.status === 'paying') {
      if (row.updatedAt <= settleBefore) await settleDeposit(row);
    } else if (row.status === 'awaiting_deposit') {
      if (row.depositState === 'collecting' && row.updatedAt <= settleBefore)
        await resolveCollection(row, 'deposit', at);
      const current = (await repository.find(id))!;
      if (current.status === 'awaiting_deposit' && current.respondBy <= at) {
        if (await end(id, 'expired', ['awaiting_deposit'], () => 0n, 'deposit_unpaid')) {
          counts.expired += 1;
          await audit(row, 'expired', null, { failure: 'deposit_unpaid' });
        }
      }
    } else if ((row.status === 'requested' || row.status === 'proposed') && row.respondBy <= at) {
      if (await end(id, 'expired', ['requested', 'proposed'], (current) => current.depositMinor)) {
        counts.expired += 1;
        await audit(row, 'expired', null);
        await tellCustomer(row, 'expired', { amountMinor: Number(row.depositMinor) });
      }
    } else if (row.status === 'confirmed') {
      if (row.balanceState === 'paying' && row.updatedAt <= settleBefore) await settleBalance(row);
      if (row.balanceState === 'collecting' && row.updatedAt <= settleBefore)
        await resolveCollection(row, 'balance', at);
      const current = (await repository.find(id))!;
      if (current.balanceState !== 'paid' && balanceDueBy(current) <= at) {
        const refund = (each: BulkOrderRow) => cancellationRefund(each, at, policy);
        if (await end(id, 'cancelled', ['confirmed'], refund, 'balance_unpaid')) {
          counts.cancelled += 1;
          await audit(row, 'cancelled', null, { failure: 'balance_unpaid' });
        }
      } else if (current.balanceState === 'paid') {
        await placeWhenDue(id, at);
        if ((await repository.find(id))?.status === 'placed') counts.placed += 1;
      }
    } else if (row.status === 'placing') {
      await place(id);
      counts.placed += 1;
    } else if (ENDED.includes(row.status) && !row.refundsDone) {
      await refundEnded(id);
      counts.refunded += 1;
    }
  }

  return {
    request,
    requestByMobileMoney,
    /** The deposit of a request waiting for it, or the balance, by Mobile Money. */
    payByMobileMoney: collect,
    /** Payments' hook: a bulk order's Mobile Money collection landed in its escrow, or failed. */
    collections: { collected, failed: collectionFailed },
    read,
    listOwn,
    listForRestaurant,
    confirm,
    propose,
    accept,
    refuse,
    cancel,
    payBalance,
    sweep,
    place,
    transferIds: bulkTransferIds,
  };
}

function isRefusal(error: unknown): error is DomainError {
  return isDomainError(error) && !['unavailable', 'bad_gateway', 'rate_limited'].includes(error.kind);
}

export type BulkOrders = ReturnType<typeof createBulkOrders>;
