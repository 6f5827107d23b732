/**
 * Group orders (issue #27, docs/community.md "Group orders"): a host opens a shared cart, friends
 * join it by its code and add their own lines, the host locks it (delivery, tip, who pays), the
 * shares are paid into the cart's escrow on the ledger, and once everything owed is paid (or the
 * host covers the rest) the order is placed through the orders service, paid from the host's
 * wallet into which the escrow is released. A cart that ends unplaced (abandoned, expired, or its
 * order refused) gives every paid share back to its payer's wallet, once: each transfer's id is
 * the cart's, the payer's and the share's, and each share's status moves under the cart's lock.
 *
 * Pricing and payment are the orders and payments contexts' own: the total is orders' quote, the
 * order is orders' placement, a Mobile Money share is payments' wallet top-up of that amount.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Transfer } from '../../../ledger/rules/index.js';
import { isDomainError } from '../../shared/errors.js';
import type { CatalogCommunityApi } from '../catalog/index.js';
import { CartError, normalizeCart, type PlaceOrderInput } from '../orders/index.js';
import { communityErrors } from './errors.js';
import { safeNotices, type CommunityNotifier, type GroupNoticeEvent } from './notices.js';
import {
  ENDABLE,
  FINAL,
  GROUP_MAX_LINES,
  GROUP_MAX_LINES_PER_MEMBER,
  GROUP_MAX_MEMBERS,
  groupCode,
  PLACEMENT_CLAIM_SECONDS,
  normalizedCode,
  orderLines,
  refundTransfer,
  releaseTransfer,
  shareAmounts,
  shareTransfer,
} from './group-rules.js';
import type {
  GroupCartRow,
  GroupCartsRepository,
  GroupMemberRow,
  GroupShareRow,
} from './group-repository.js';
import type { GroupCartStatus, GroupLine, GroupPaymentMode, GroupShareKind } from './tables.js';

/** What group orders use of orders: its quote and its placement (with an order id chosen here). */
export interface GroupOrdersPort {
  quote(input: PlaceOrderInput, customerId: string): Promise<{ totalMinor: number }>;
  /** The order, when it exists: its status. */
  status(orderId: string): Promise<string | undefined>;
  place(input: PlaceOrderInput, customerId: string, orderId: string): Promise<{ status: string }>;
}

/** What group orders use of payments: a wallet's state and a Mobile Money top-up of it. */
export interface GroupWalletsPort {
  frozen(userId: string): Promise<boolean>;
  topUp(
    userId: string,
    amountMinor: bigint,
    phone: string,
    idempotencyKey: string,
  ): Promise<{ paymentId: string; ussdCode: string | null }>;
}

export interface GroupLedgerPort {
  submit(transfers: readonly Transfer[]): Promise<{ id: string; result: string; detail?: string }[]>;
}

export interface GroupCartsDependencies {
  repository: GroupCartsRepository;
  catalog: Pick<CatalogCommunityApi, 'restaurantCards' | 'dishCards'>;
  orders: () => GroupOrdersPort;
  wallets: () => GroupWalletsPort;
  ledger: GroupLedgerPort;
  logger: Logger;
  ttlMinutes: number;
  publicBaseUrl: string;
  maxOpenPerHost?: number;
  now?: () => Date;
  /** notify's intents (docs/community.md "Notices"); none: nobody is told (the apps poll). */
  notifier?: CommunityNotifier;
}

export type ShareMethod = { kind: 'wallet' } | { kind: 'mobile_money'; phone: string };

export interface GroupCartView {
  id: string;
  code: string;
  link: string;
  restaurantId: string;
  hostId: string;
  youAreHost: boolean;
  status: GroupCartStatus;
  paymentMode: GroupPaymentMode | null;
  totalMinor: number | null;
  orderId: string | null;
  failure: string | null;
  expiresAt: string;
  members: { userId: string; you: boolean; lines: GroupLine[] }[];
  shares: { payerId: string; kind: GroupShareKind; amountMinor: number; status: string }[];
}

const errors = communityErrors;
const ENDED_NOTICES: readonly GroupCartStatus[] = ['expired', 'failed', 'abandoned'];
const notFound = () =>
  errors.of('not_found', 'group_cart_not_found', 'There is no such group cart among yours.');
const accepted = (result: string) => result === 'ok' || result === 'exists';

export function createGroupCarts(deps: GroupCartsDependencies) {
  const { repository, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const maxOpenPerHost = deps.maxOpenPerHost ?? 5;
  const notices = safeNotices(deps.notifier, logger);

  /** Everyone in the cart (but `except`), for a notice to all. */
  async function everyone(cartId: string, except?: string) {
    return (await repository.members(cartId))
      .filter((member) => member.userId !== except)
      .map((member) => ({ userId: member.userId }));
  }

  async function view(cart: GroupCartRow, userId: string): Promise<GroupCartView> {
    const [members, shares] = await Promise.all([repository.members(cart.id), repository.shares(cart.id)]);
    return {
      id: cart.id,
      code: cart.code,
      link: `${deps.publicBaseUrl.replace(/\/$/, '')}/g/${cart.code}`,
      restaurantId: cart.restaurantId,
      hostId: cart.hostId,
      youAreHost: cart.hostId === userId,
      status: cart.status,
      paymentMode: cart.paymentMode,
      totalMinor: cart.totalMinor === null ? null : Number(cart.totalMinor),
      orderId: cart.status === 'placed' ? cart.orderId : null,
      failure: cart.failure,
      expiresAt: cart.expiresAt.toISOString(),
      members: members.map((member) => ({
        userId: member.userId,
        you: member.userId === userId,
        lines: member.lines,
      })),
      shares: shares.map((share) => ({
        payerId: share.payerId,
        kind: share.kind,
        amountMinor: Number(share.amountMinor),
        status: share.status,
      })),
    };
  }

  /** The cart when the caller is one of its members; 404 otherwise (a stranger learns nothing). */
  async function memberCart(userId: string, cartId: string): Promise<GroupCartRow> {
    const cart = await repository.find(cartId);
    if (cart === undefined || !(await repository.isMember(cartId, userId))) throw notFound();
    return cart;
  }

  function mustBeHost(cart: GroupCartRow | undefined, userId: string): GroupCartRow {
    if (cart === undefined) throw notFound();
    if (cart.hostId !== userId)
      throw errors.of('forbidden', 'group_cart_host_only', 'Only the host may do this.');
    return cart;
  }

  function mustBe(cart: GroupCartRow, statuses: readonly GroupCartStatus[]): void {
    if (!statuses.includes(cart.status))
      throw errors.of('conflict', 'group_cart_state', `The group cart is ${cart.status}.`, {
        details: { cartStatus: cart.status },
      });
  }

  async function open(hostId: string, restaurantId: string): Promise<GroupCartView> {
    const [restaurant] = await deps.catalog.restaurantCards([restaurantId]);
    if (restaurant === undefined || !restaurant.active)
      throw errors.of('not_found', 'restaurant_not_found', 'There is no such restaurant.');
    const id = randomUUID();
    const expiresAt = new Date(now().getTime() + deps.ttlMinutes * 60_000);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const outcome = await repository.create(
        { id, code: groupCode(), hostId, restaurantId, orderId: randomUUID(), expiresAt },
        maxOpenPerHost,
      );
      if (outcome === 'too_many')
        throw errors.of(
          'unprocessable',
          'group_carts_too_many',
          `You host at most ${maxOpenPerHost} group carts at once.`,
          { details: { limit: maxOpenPerHost } },
        );
      if (outcome === 'created') return view((await repository.find(id))!, hostId);
    }
    throw new Error('no free group cart code after 5 draws');
  }

  async function join(userId: string, typedCode: string): Promise<GroupCartView> {
    const code = normalizedCode(typedCode);
    const found = code === null ? undefined : await repository.findByCode(code);
    if (found === undefined)
      throw errors.of('not_found', 'group_cart_not_found', 'No group cart has this code.');
    const joined = await repository.withCart(found.id, async (cart, transaction) => {
      if (cart === undefined) throw notFound();
      const members = await repository.members(cart.id, transaction);
      if (members.some((member) => member.userId === userId)) return false; // joining twice is joining once
      mustBe(cart, ['open']);
      if (members.length >= GROUP_MAX_MEMBERS)
        throw errors.of(
          'unprocessable',
          'group_cart_full',
          `A group cart has at most ${GROUP_MAX_MEMBERS} members.`,
          {
            details: { limit: GROUP_MAX_MEMBERS },
          },
        );
      await repository.addMember(transaction, cart.id, userId);
      return true;
    });
    if (joined)
      await notices.group({
        cartId: found.id,
        code: found.code,
        event: 'member_joined',
        subjectId: userId,
        recipients: [{ userId: found.hostId }],
      });
    return view((await repository.find(found.id))!, userId);
  }

  async function read(userId: string, cartId: string): Promise<GroupCartView> {
    return view(await memberCart(userId, cartId), userId);
  }

  /** Checks a member's lines against orders' cart rules and the restaurant's menu. */
  async function checkedLines(restaurantId: string, typed: GroupLine[]): Promise<GroupLine[]> {
    let lines: GroupLine[];
    try {
      lines = normalizeCart({ restaurantId, items: typed }).items;
    } catch (error) {
      if (error instanceof CartError) throw errors.of('unprocessable', error.code, error.message);
      throw error;
    }
    if (lines.length > GROUP_MAX_LINES_PER_MEMBER)
      throw errors.of(
        'unprocessable',
        'group_lines_too_many',
        `At most ${GROUP_MAX_LINES_PER_MEMBER} lines each.`,
        {
          details: { limit: GROUP_MAX_LINES_PER_MEMBER },
        },
      );
    const cards = await deps.catalog.dishCards(lines.map((line) => line.itemId));
    for (const line of lines) {
      const card = cards.find((each) => each.id === line.itemId);
      if (card === undefined || card.restaurantId !== restaurantId || !card.listed)
        throw errors.of('not_found', 'menu_item_not_found', "A dish is not on this restaurant's menu.", {
          details: { itemId: line.itemId },
        });
      if (!card.orderable)
        throw errors.of('conflict', 'group_item_unavailable', 'A dish cannot be ordered now.', {
          details: { itemId: line.itemId },
        });
    }
    return lines;
  }

  async function setLines(userId: string, cartId: string, typed: GroupLine[]): Promise<GroupCartView> {
    const known = await memberCart(userId, cartId);
    const lines = await checkedLines(known.restaurantId, typed);
    await repository.withCart(cartId, async (cart, transaction) => {
      if (cart === undefined) throw notFound();
      mustBe(cart, ['open']);
      const members = await repository.members(cart.id, transaction);
      const others = members.filter((member) => member.userId !== userId);
      const total = others.reduce((sum, member) => sum + member.lines.length, 0) + lines.length;
      if (total > GROUP_MAX_LINES)
        throw errors.of(
          'unprocessable',
          'group_lines_too_many',
          `A group cart holds at most ${GROUP_MAX_LINES} lines.`,
          {
            details: { limit: GROUP_MAX_LINES },
          },
        );
      await repository.setLines(transaction, cart.id, userId, lines);
    });
    return view((await repository.find(cartId))!, userId);
  }

  function placementInput(cart: GroupCartRow, members: readonly GroupMemberRow[]): PlaceOrderInput {
    if (cart.delivery === null) throw new Error(`group cart ${cart.id} has no delivery address`);
    return {
      restaurantId: cart.restaurantId,
      items: orderLines(members),
      delivery: cart.delivery,
      payment: { kind: 'wallet' },
      tipMinor: Number(cart.tipMinor),
    };
  }

  /** Each member's part of the food at the menu's unit prices: the weights of a split. */
  async function weights(members: readonly GroupMemberRow[]) {
    const ids = [...new Set(members.flatMap((member) => member.lines.map((line) => line.itemId)))];
    const cards = await deps.catalog.dishCards(ids);
    const price = new Map(cards.map((card) => [card.id, BigInt(card.discountPriceMinor ?? card.priceMinor)]));
    return members.map((member) => ({
      userId: member.userId,
      weightMinor: member.lines.reduce(
        (sum, line) => sum + (price.get(line.itemId) ?? 0n) * BigInt(line.quantity),
        0n,
      ),
    }));
  }

  async function lock(
    hostId: string,
    cartId: string,
    input: {
      delivery: NonNullable<GroupCartRow['delivery']>;
      tipMinor: number;
      paymentMode: GroupPaymentMode;
    },
  ): Promise<GroupCartView> {
    const known = mustBeHost(await memberCartOrUndefined(hostId, cartId), hostId);
    if (known.status === 'locked' && known.paymentMode === input.paymentMode) return view(known, hostId); // a retry
    mustBe(known, ['open']);
    const members = await repository.members(cartId);
    if (members.every((member) => member.lines.length === 0))
      throw errors.of('unprocessable', 'group_cart_empty', 'Nobody has added anything yet.');
    const draft = { ...known, delivery: input.delivery, tipMinor: BigInt(input.tipMinor) };
    const quoted = await deps.orders().quote(placementInput(draft, members), hostId);
    const totalMinor = BigInt(quoted.totalMinor);
    const owed = shareAmounts(totalMinor, hostId, input.paymentMode, await weights(members));
    await repository.withCart(cartId, async (cart, transaction) => {
      if (cart === undefined) throw notFound();
      mustBe(cart, ['open']);
      const current = await repository.members(cartId, transaction);
      if (JSON.stringify(current) !== JSON.stringify(members))
        throw errors.of(
          'conflict',
          'group_cart_changed',
          'A member changed their lines meanwhile; lock again.',
        );
      await repository.lock(
        transaction,
        cartId,
        {
          paymentMode: input.paymentMode,
          delivery: input.delivery,
          tipMinor: BigInt(input.tipMinor),
          totalMinor,
        },
        owed,
      );
    });
    await notices.group({
      cartId,
      code: known.code,
      event: 'share_due',
      recipients: owed
        .filter((share) => share.payerId !== hostId)
        .map((share) => ({ userId: share.payerId, amountMinor: Number(share.amountMinor) })),
      expiresAt: known.expiresAt,
    });
    return view((await repository.find(cartId))!, hostId);
  }

  async function memberCartOrUndefined(userId: string, cartId: string) {
    const cart = await repository.find(cartId);
    if (cart === undefined || !(await repository.isMember(cartId, userId))) return undefined;
    return cart;
  }

  /**
   * Marks the share `paying` under the cart's lock (refused unless the cart is locked), then moves
   * its money on the ledger, then marks it paid. Should the process stop between, the sweep
   * submits the same transfer again: it lands once, whoever gets there first.
   */
  async function payFromWallet(
    cartId: string,
    payerId: string,
    kind: GroupShareKind,
  ): Promise<GroupShareRow> {
    if (await deps.wallets().frozen(payerId))
      throw errors.of('unprocessable', 'wallet_frozen', 'This wallet is frozen; contact support.');
    const share = await repository.withCart(cartId, async (cart, transaction) => {
      if (cart === undefined) throw notFound();
      const owned = (await repository.shares(cartId, transaction)).find(
        (each) => each.payerId === payerId && each.kind === kind,
      );
      if (owned === undefined)
        throw errors.of('conflict', 'group_share_none', 'You owe nothing towards this group cart.');
      if (owned.status === 'paid' || owned.status === 'waived') return owned;
      mustBe(cart, ['locked']);
      if (owned.status === 'refunded')
        throw errors.of('conflict', 'group_cart_state', 'This share was refunded.');
      await repository.moveShare(
        transaction,
        cartId,
        payerId,
        kind,
        ['due', 'collecting', 'paying'],
        'paying',
      );
      return { ...owned, before: owned.status === 'collecting' ? ('collecting' as const) : ('due' as const) };
    });
    if (!('before' in share)) return share;
    return settlePaying(cartId, { ...share, status: 'paying' }, share.before);
  }

  /** Submits a `paying` share's transfer (again) and records what the ledger answered. */
  async function settlePaying(
    cartId: string,
    share: GroupShareRow,
    backTo: 'due' | 'collecting' = 'due',
  ): Promise<GroupShareRow> {
    const [outcome] = await deps.ledger.submit([
      shareTransfer(cartId, share.payerId, share.kind, share.amountMinor),
    ]);
    if (outcome !== undefined && accepted(outcome.result)) {
      if (await repository.moveShare(repository.db, cartId, share.payerId, share.kind, ['paying'], 'paid')) {
        await tellSharePaid(cartId, share);
        return { ...share, status: 'paid' };
      }
      // The sweep settled it first: paid, or already given back because the cart ended meanwhile.
      const now = (await repository.shares(cartId)).find(
        (each) => each.payerId === share.payerId && each.kind === share.kind,
      );
      if (now?.status === 'paid' || now?.status === 'waived') return now;
      throw errors.of(
        'conflict',
        'group_cart_state',
        'The group cart ended; your share went back to your wallet.',
        {
          details: { shareStatus: now?.status ?? 'unknown' },
        },
      );
    }
    await repository.moveShare(repository.db, cartId, share.payerId, share.kind, ['paying'], backTo);
    if (outcome?.result === 'exceeds_credits')
      throw errors.of(
        'unprocessable',
        'insufficient_funds',
        'The wallet balance is too low for this share.',
        {
          details: { amountMinor: Number(share.amountMinor) },
        },
      );
    // Any other refusal with the cart ended meanwhile is the cart's end, told as such; with the
    // cart still waiting for this share it is a fault of ours (logged, 500), not the member's.
    const cart = await repository.find(cartId);
    if (cart !== undefined && cart.status !== 'locked')
      throw errors.of('conflict', 'group_cart_state', `The group cart is ${cart.status}.`, {
        details: { cartStatus: cart.status },
      });
    throw new Error(`ledger refused share ${cartId}/${share.payerId}: ${outcome?.result ?? 'no outcome'}`);
  }

  /** The host hears of each member's share paid (not of their own, nor of their cover). */
  async function tellSharePaid(cartId: string, share: GroupShareRow): Promise<void> {
    const cart = await repository.find(cartId);
    if (cart === undefined || share.payerId === cart.hostId) return;
    await notices.group({
      cartId,
      code: cart.code,
      event: 'share_paid',
      subjectId: share.payerId,
      recipients: [{ userId: cart.hostId, amountMinor: Number(share.amountMinor) }],
    });
  }

  async function pay(userId: string, cartId: string, method: ShareMethod, key: string) {
    await memberCart(userId, cartId);
    if (method.kind === 'mobile_money') return collect(userId, cartId, method.phone, key);
    const share = await payFromWallet(cartId, userId, 'share');
    await placeWhenPaid(cartId);
    return { share, cart: await read(userId, cartId), collection: null };
  }

  /** A Mobile Money share: a top-up of the member's wallet by the share; the sweep (or a wallet pay) then takes it. */
  async function collect(userId: string, cartId: string, phone: string, key: string) {
    const share = await repository.withCart(cartId, async (cart, transaction) => {
      if (cart === undefined) throw notFound();
      mustBe(cart, ['locked']);
      const owned = (await repository.shares(cartId, transaction)).find(
        (each) => each.payerId === userId && each.kind === 'share',
      );
      if (owned === undefined)
        throw errors.of('conflict', 'group_share_none', 'You owe nothing towards this group cart.');
      if (owned.status !== 'due' && owned.status !== 'collecting')
        throw errors.of('conflict', 'group_cart_state', `This share is ${owned.status}.`, {
          details: { shareStatus: owned.status },
        });
      return owned;
    });
    const started = await deps
      .wallets()
      .topUp(userId, share.amountMinor, phone, `group-share:${cartId}:${key}`);
    await repository.moveShare(
      repository.db,
      cartId,
      userId,
      'share',
      ['due', 'collecting'],
      'collecting',
      started.paymentId,
    );
    return {
      share: { ...share, status: 'collecting' as const },
      cart: await read(userId, cartId),
      collection: { paymentId: started.paymentId, ussdCode: started.ussdCode },
    };
  }

  /** The host pays what is still due (their wallet), the others' unpaid shares waived; then the order. */
  async function cover(hostId: string, cartId: string): Promise<GroupCartView> {
    const known = mustBeHost(await memberCartOrUndefined(hostId, cartId), hostId);
    mustBe(known, ['locked', 'placing', 'placed']);
    await repository.withCart(cartId, async (cart, transaction) => {
      if (cart === undefined) throw notFound();
      const shares = await repository.shares(cartId, transaction);
      if (shares.some((share) => share.kind === 'cover') || cart.status !== 'locked') return;
      if (shares.some((share) => share.status === 'paying' || share.status === 'collecting'))
        throw errors.of(
          'conflict',
          'group_share_in_progress',
          'A share is being paid; try again in a moment.',
        );
      const due = shares
        .filter((share) => share.status === 'due')
        .reduce((sum, share) => sum + share.amountMinor, 0n);
      if (due > 0n) await repository.addCover(transaction, cartId, hostId, due);
    });
    const cover = (await repository.shares(cartId)).find((share) => share.kind === 'cover');
    if (cover !== undefined && cover.status !== 'paid') await payFromWallet(cartId, hostId, 'cover');
    await placeWhenPaid(cartId);
    return read(hostId, cartId);
  }

  /** Places the order once every share is paid or waived: locked → placing, then `place`. */
  async function placeWhenPaid(cartId: string): Promise<void> {
    const ready = await repository.withCart(cartId, async (cart, transaction) => {
      if (cart === undefined || cart.status !== 'locked') return cart?.status === 'placing';
      const shares = await repository.shares(cartId, transaction);
      if (!shares.every((share) => share.status === 'paid' || share.status === 'waived')) return false;
      await repository.setStatus(transaction, cartId, 'placing');
      return true;
    });
    if (ready) await place(cartId);
  }

  /**
   * The cart is `placing`: whoever holds its placement claim places the order; any other caller
   * (the member whose share completed the cart, a sweep on any instance) leaves it to them. Two
   * placements at once ran orders.place twice at once for one order id, and the loser's stock
   * reservation failed on the order's primary key before the winner had stored the order: the 500
   * on the last share (docs/community.md, "Why the last share answered 500"). A claim whose holder
   * died passes after PLACEMENT_CLAIM_SECONDS; one whose holder failed is let go at once.
   */
  async function place(cartId: string): Promise<void> {
    if (!(await repository.claimPlacement(cartId, PLACEMENT_CLAIM_SECONDS))) return;
    try {
      await placeClaimed(cartId);
    } finally {
      await repository.releasePlacement(cartId);
    }
  }

  /**
   * Under the claim: release the escrow to the host's wallet, place the order (its id was chosen
   * at opening, so a second attempt finds the first), and mark the cart placed. A refusal (a dish
   * sold out, the restaurant closed, the price changed) ends the cart and refunds.
   */
  async function placeClaimed(cartId: string): Promise<void> {
    const cart = await repository.find(cartId);
    if (cart === undefined || cart.status !== 'placing') return;
    const members = await repository.members(cartId);
    const input = placementInput(cart, members);
    // The escrow goes to the host's wallet first, whatever follows: from here on a refusal refunds
    // from there, so a stop between the release and its mark can never refund from an empty escrow.
    if (!cart.released) {
      const paid = (await repository.shares(cartId)).filter((share) => share.status === 'paid');
      const collected = paid.reduce((sum, share) => sum + share.amountMinor, 0n);
      const [outcome] = await deps.ledger.submit([releaseTransfer(cartId, cart.hostId, collected)]);
      if (outcome === undefined || !accepted(outcome.result))
        throw new Error(`group cart ${cartId}: release refused (${outcome?.result})`);
      await repository.markReleased(cartId);
    }
    const existing = await deps.orders().status(cart.orderId);
    if (existing === undefined) {
      const refusal = await priceRefusal(cart, input);
      if (refusal !== undefined) return end(cartId, 'failed', ['placing'], refusal);
    }
    let status = existing;
    if (status === undefined) {
      try {
        status = (await deps.orders().place(input, cart.hostId, cart.orderId)).status;
      } catch (error) {
        // A claim that passed while its holder still worked (a placement slower than the claim):
        // the order may be there, then this attempt is done.
        const placed = await deps.orders().status(cart.orderId);
        if (placed !== undefined) status = placed;
        else if (isRefusal(error)) return end(cartId, 'failed', ['placing'], error.code);
        else throw error;
      }
    }
    if (status === 'PAYMENT_FAILED') return end(cartId, 'failed', ['placing'], 'payment_failed');
    if (await repository.markPlaced(cartId))
      await notices.group({
        cartId,
        code: cart.code,
        event: 'placed',
        recipients: await everyone(cartId),
        orderId: cart.orderId,
      });
  }

  async function priceRefusal(cart: GroupCartRow, input: PlaceOrderInput): Promise<string | undefined> {
    try {
      const quoted = await deps.orders().quote(input, cart.hostId);
      return BigInt(quoted.totalMinor) === cart.totalMinor ? undefined : 'price_changed';
    } catch (error) {
      if (isRefusal(error)) return error.code;
      throw error;
    }
  }

  /**
   * Ends the cart (from one of `from`) and gives every paid share back, once each: a `paying`
   * share is first settled (its transfer submitted again: it lands or it does not), then every
   * paid one is refunded by its own transfer id and marked refunded. A collection still running
   * stays in the member's wallet (it is a top-up of their wallet).
   */
  async function end(
    cartId: string,
    to: GroupCartStatus,
    from: readonly GroupCartStatus[],
    failure?: string,
  ) {
    const ended = await repository.withCart(cartId, async (cart, transaction) => {
      if (cart === undefined || !from.includes(cart.status)) return undefined;
      await repository.setStatus(transaction, cartId, to, failure === undefined ? {} : { failure });
      return cart;
    });
    await refundEnded(cartId);
    if (ended !== undefined && ENDED_NOTICES.includes(to))
      await notices.group({
        cartId,
        code: ended.code,
        event: to as GroupNoticeEvent,
        // The host who abandoned it knows.
        recipients: await everyone(cartId, to === 'abandoned' ? ended.hostId : undefined),
      });
  }

  async function refundEnded(cartId: string): Promise<void> {
    const cart = await repository.find(cartId);
    if (cart === undefined || !['abandoned', 'expired', 'failed'].includes(cart.status)) return;
    for (const share of await repository.shares(cartId)) {
      if (share.status === 'collecting')
        await repository.moveShare(repository.db, cartId, share.payerId, share.kind, ['collecting'], 'due');
      if (share.status !== 'paying' && share.status !== 'paid') continue;
      if (share.status === 'paying') {
        const [landed] = await deps.ledger.submit([
          shareTransfer(cartId, share.payerId, share.kind, share.amountMinor),
        ]);
        const moved = await repository.moveShare(
          repository.db,
          cartId,
          share.payerId,
          share.kind,
          ['paying'],
          accepted(landed?.result ?? '') ? 'paid' : 'due',
        );
        if (!moved || !accepted(landed?.result ?? '')) continue;
      }
      const [outcome] = await deps.ledger.submit([
        refundTransfer(
          { id: cartId, hostId: cart.hostId, released: cart.released },
          share.payerId,
          share.kind,
          share.amountMinor,
        ),
      ]);
      if (outcome === undefined || !accepted(outcome.result)) {
        logger.error(
          { cartId, payerId: share.payerId, result: outcome?.result },
          'group share refund refused',
        );
        continue;
      }
      await repository.moveShare(repository.db, cartId, share.payerId, share.kind, ['paid'], 'refunded');
    }
  }

  async function abandon(hostId: string, cartId: string): Promise<GroupCartView> {
    const known = mustBeHost(await memberCartOrUndefined(hostId, cartId), hostId);
    if (known.status !== 'abandoned') {
      mustBe(known, ENDABLE);
      await end(cartId, 'abandoned', ENDABLE);
    }
    return read(hostId, cartId);
  }

  /**
   * Every minute: carts past their time expire (and refund), carts left `placing` or fully paid
   * by a stopped process are placed, paid shares of ended carts are refunded, and Mobile Money
   * shares whose top-up has reached the wallet are taken. Bounded per run; safe on every instance.
   */
  async function sweep(at: Date = now()): Promise<{ expired: number; placed: number; refunded: number }> {
    const counts = { expired: 0, placed: 0, refunded: 0 };
    const settleBefore = new Date(at.getTime() - 60_000);
    for (const cartId of await repository.needingWork(at, settleBefore, 100)) {
      try {
        const cart = (await repository.find(cartId))!;
        if (ENDABLE.includes(cart.status) && cart.expiresAt <= at) {
          await end(cartId, 'expired', ENDABLE);
          counts.expired += 1;
        } else if (cart.status === 'locked') {
          await takeCollected(cartId);
          await placeWhenPaid(cartId);
        } else if (cart.status === 'placing') {
          await place(cartId);
          counts.placed += 1;
        } else if (FINAL.includes(cart.status)) {
          await refundEnded(cartId);
          counts.refunded += 1;
        }
      } catch (error) {
        logger.warn({ err: error, cartId }, 'group cart sweep step failed');
      }
    }
    return counts;
  }

  /** Mobile Money shares: once the top-up reached the wallet, the share is taken from it. */
  async function takeCollected(cartId: string): Promise<void> {
    for (const share of await repository.shares(cartId)) {
      if (share.status !== 'collecting' && share.status !== 'paying') continue;
      try {
        if (share.status === 'paying') await settlePaying(cartId, share);
        else await payFromWallet(cartId, share.payerId, share.kind);
      } catch (error) {
        if (!isDomainError(error)) throw error; // not yet in the wallet: the next sweep looks again
      }
    }
  }

  return { open, join, read, setLines, lock, pay, cover, abandon, sweep, place, placeWhenPaid };
}

function isRefusal(error: unknown): error is import('../../shared/errors.js').DomainError {
  return isDomainError(error) && !['unavailable', 'bad_gateway', 'rate_limited'].includes(error.kind);
}

export type GroupCarts = ReturnType<typeof createGroupCarts>;
