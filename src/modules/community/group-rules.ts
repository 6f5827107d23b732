/**
 * Group orders' pure rules (docs/community.md, "Group orders"): the join code, the limits, who
 * pays what, and the ids of every transfer a cart makes. Ids are derived from the cart, the payer
 * and the kind of share alone, so a retry, a second instance or the sweep books each one once.
 */
import { randomInt } from 'node:crypto';
import { allocate, customerWalletId, groupCartEscrowId, type Transfer } from '../../../ledger/rules/index.js';
import type { GroupCartStatus, GroupLine, GroupPaymentMode, GroupShareKind } from './tables.js';

/** A cart has at most this many members (host included), this many lines in all, and per member. */
export const GROUP_MAX_MEMBERS = 10;
export const GROUP_MAX_LINES = 50;
export const GROUP_MAX_LINES_PER_MEMBER = 20;
/** The code friends type: unambiguous letters and digits (no 0/O, 1/I/L). */
export const GROUP_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const GROUP_CODE_LENGTH = 8;

export function groupCode(): string {
  let code = '';
  for (let index = 0; index < GROUP_CODE_LENGTH; index += 1)
    code += GROUP_CODE_ALPHABET[randomInt(GROUP_CODE_ALPHABET.length)];
  return code;
}

/** A code as typed (any case, spaces or dashes) in its stored form; null when it cannot be one. */
export function normalizedCode(typed: string): string | null {
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== GROUP_CODE_LENGTH) return null;
  for (const letter of code) if (!GROUP_CODE_ALPHABET.includes(letter)) return null;
  return code;
}

/** The statuses in which shares may still be refunded by ending the cart. */
/**
 * How long a group cart's or a bulk order's placement claim holds when its holder dies without
 * letting go (a placement takes a few seconds; the ledger gives up after 10).
 */
export const PLACEMENT_CLAIM_SECONDS = 120;

export const ENDABLE: readonly GroupCartStatus[] = ['open', 'locked'];
export const FINAL: readonly GroupCartStatus[] = ['placed', 'abandoned', 'expired', 'failed'];

export interface MemberWeight {
  userId: string;
  /** The member's lines at the catalog's unit prices (options aside): their part of the food. */
  weightMinor: bigint;
}

/**
 * Who owes what of the order's total: the host all of it, or each member in proportion to their
 * lines (exactly: the parts sum to the total, to the franc). A member without lines owes nothing;
 * when nobody has a weight the host owes the whole.
 */
export function shareAmounts(
  totalMinor: bigint,
  hostId: string,
  mode: GroupPaymentMode,
  members: readonly MemberWeight[],
): { payerId: string; amountMinor: bigint }[] {
  if (totalMinor <= 0n) throw new RangeError(`a group order's total is positive, not ${totalMinor}`);
  const weighted = members.filter((member) => member.weightMinor > 0n);
  if (mode === 'host' || weighted.length === 0) return [{ payerId: hostId, amountMinor: totalMinor }];
  const parts = allocate(
    totalMinor,
    weighted.map((member) => member.weightMinor),
  );
  const shares = weighted
    .map((member, index) => ({ payerId: member.userId, amountMinor: parts[index]! }))
    .filter((share) => share.amountMinor > 0n);
  const sum = shares.reduce((total, share) => total + share.amountMinor, 0n);
  if (sum !== totalMinor) throw new Error(`shares ${sum} do not make the total ${totalMinor}`);
  return shares;
}

/** Merges every member's lines into the order's (members' order, then their lines' order). */
export function orderLines(members: readonly { lines: readonly GroupLine[] }[]): GroupLine[] {
  return members.flatMap((member) => member.lines.map((line) => ({ ...line })));
}

const XAF = 'XAF' as const;

export const shareTransferId = (cartId: string, payerId: string, kind: GroupShareKind) =>
  `group-share:${cartId}:${payerId}:${kind}`;
export const refundTransferId = (cartId: string, payerId: string, kind: GroupShareKind) =>
  `group-refund:${cartId}:${payerId}:${kind}`;
export const releaseTransferId = (cartId: string) => `group-release:${cartId}`;

/** A share paid from the payer's wallet into the cart's escrow. */
export function shareTransfer(
  cartId: string,
  payerId: string,
  kind: GroupShareKind,
  amountMinor: bigint,
): Transfer {
  return {
    id: shareTransferId(cartId, payerId, kind),
    debitAccountId: customerWalletId(payerId, XAF),
    creditAccountId: groupCartEscrowId(cartId, XAF),
    amountMinor,
    currency: XAF,
    code: 'payment_capture',
    flags: {},
    userData: { groupCartId: cartId, userId: payerId, share: kind },
  };
}

/**
 * A paid share given back to its payer's wallet: from the cart's escrow, or from the host's
 * wallet when the escrow had already been released to it for the order that then failed.
 */
export function refundTransfer(
  cart: { id: string; hostId: string; released: boolean },
  payerId: string,
  kind: GroupShareKind,
  amountMinor: bigint,
): Transfer {
  return {
    id: refundTransferId(cart.id, payerId, kind),
    debitAccountId: cart.released ? customerWalletId(cart.hostId, XAF) : groupCartEscrowId(cart.id, XAF),
    creditAccountId: customerWalletId(payerId, XAF),
    amountMinor,
    currency: XAF,
    code: 'refund',
    flags: {},
    userData: { groupCartId: cart.id, userId: payerId, share: kind },
  };
}

/** Everything the shares put in escrow, to the host's wallet, which then pays the order. */
export function releaseTransfer(cartId: string, hostId: string, amountMinor: bigint): Transfer {
  return {
    id: releaseTransferId(cartId),
    debitAccountId: groupCartEscrowId(cartId, XAF),
    creditAccountId: customerWalletId(hostId, XAF),
    amountMinor,
    currency: XAF,
    code: 'escrow_release',
    flags: {},
    userData: { groupCartId: cartId, userId: hostId },
  };
}
