/**
 * Referrals (issue #21, docs/loyalty.md "Referrals"). Each customer has a code; a new customer
 * enters one before their first completed order; that order (`OrderCompleted`: settled, the
 * dispute window closed) rewards both, once:
 *   decide   in one transaction, the referral row locked and the referrer's code row locked (so
 *            the monthly cap counts under concurrency): refused when the order was paid from the
 *            referrer's own phone or when both signed in on one device (identity's keyed hashes of
 *            the apps' `X-Device-Id`), else rewarded, the referrer's part 0 beyond the monthly cap;
 *   book     the recorded decision as ledger transfers, idempotent by referee:
 *            `referral:<refereeId>:referee` and `referral:<refereeId>:referrer`, points from the
 *            points issuance (PTS) or wallet credit from the promotions expense (XAF).
 * A replay or a crash between the decision and the booking books the recorded decision again;
 * the ledger answers `exists`.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { sql } from 'kysely';
import {
  customerPointsId,
  customerWalletId,
  pointsIssuanceId,
  promotionsExpenseId,
  type Transfer,
} from '../../../ledger/rules/index.js';
import { normalizePhone } from '../../shared/phone.js';
import { loyaltyErrors } from './errors.js';
import type { LoyaltyLedger } from './service.js';
import type { LoyaltyDb, ReferralsTable } from './tables.js';

export const REFERRAL_REASON = 'referral';
/** Unambiguous characters (no 0/O, 1/I/L): codes are read aloud and typed on phones. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 8;
export const REFERRAL_CODE_PATTERN = '^[A-Za-z0-9]{8}$';
export const MAX_REFERRALS_PAGE = 100;

export interface ReferralRewards {
  kind: 'points' | 'wallet';
  referrer: bigint;
  referee: bigint;
  monthlyCap: number;
}

export interface ReferralsOptions {
  db: LoyaltyDb;
  ledger: Pick<LoyaltyLedger, 'submit'>;
  logger: Pick<Logger, 'error' | 'warn'>;
  rewards: ReferralRewards;
  /** The customer's account phone (identity), E.164, or null (erased, none). */
  phoneOf(userId: string): Promise<string | null>;
  /** The devices (identity's keyed hashes of `X-Device-Id`) the customer signed in on; none: []. */
  devicesOf(userId: string): Promise<readonly string[]>;
  /** Where a shared link lands: `<base>/r/<code>`. */
  publicBaseUrl: string;
  /**
   * Told of every rewarded referral once booked (fraud detection's referral abuse rules), again on
   * a replay: it must be idempotent. A failure fails the completion, which its reactor retries.
   */
  reportCredited?(report: {
    referrerId: string;
    refereeId: string;
    refereeDevices: readonly string[];
    paymentPhone: string | null;
    delivery: unknown;
    at: Date;
  }): Promise<void>;
}

export type ReferralOutcome = 'no_referral' | 'booked' | 'exists' | 'refused';
type Decided = Pick<
  ReferralsTable,
  'referee_id' | 'referrer_id' | 'status' | 'order_id' | 'reward_kind' | 'referee_reward' | 'referrer_reward'
>;

export const referralTransferId = (refereeId: string, role: 'referee' | 'referrer'): string =>
  `referral:${refereeId}:${role}`;
const monthOf = (at: Date): string => at.toISOString().slice(0, 7);

function newCode(): string {
  let code = '';
  for (let index = 0; index < CODE_LENGTH; index += 1) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** `at`: the row's created_at in microseconds since the epoch (PostgreSQL's precision). */
interface ReferralCursor {
  at: string;
  id: string;
}
const encodeCursor = (value: ReferralCursor) => Buffer.from(JSON.stringify(value)).toString('base64url');
function decodeCursor(cursor: string): ReferralCursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<ReferralCursor>;
    if (
      typeof value.at === 'string' &&
      typeof value.id === 'string' &&
      /^[1-9][0-9]{0,17}$/.test(value.at) &&
      /^[0-9a-f-]{36}$/.test(value.id)
    )
      return { at: value.at, id: value.id };
  } catch {
    // a forged cursor: refused below
  }
  return undefined;
}

export function createReferrals(options: ReferralsOptions) {
  const { db, ledger, logger, rewards } = options;

  /** The customer's code, made at the first reading (a collision draws again). */
  async function codeOf(userId: string): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const existing = await db
        .selectFrom('referral_codes')
        .select('code')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (existing !== undefined) return existing.code;
      await db
        .insertInto('referral_codes')
        .values({ user_id: userId, code: newCode() })
        .onConflict((c) => c.doNothing())
        .execute();
    }
    throw new Error('no referral code could be drawn');
  }

  /** `GET /v1/loyalty/referral`: the code, the link to share, and how the referrals stand. */
  async function summary(userId: string, at = new Date()) {
    const code = await codeOf(userId);
    const counts = await db
      .selectFrom('referrals')
      .select([
        sql<string>`count(*) FILTER (WHERE status = 'pending')::text`.as('pending'),
        sql<string>`count(*) FILTER (WHERE status = 'rewarded')::text`.as('rewarded'),
        sql<string>`count(*) FILTER (WHERE status = 'refused')::text`.as('refused'),
        sql<string>`count(*) FILTER (WHERE month = ${monthOf(at)} AND referrer_reward > 0)::text`.as(
          'rewardedThisMonth',
        ),
      ])
      .where('referrer_id', '=', userId)
      .executeTakeFirstOrThrow();
    const referredBy = await db
      .selectFrom('referrals')
      .select(['status'])
      .where('referee_id', '=', userId)
      .executeTakeFirst();
    return {
      code,
      link: `${options.publicBaseUrl.replace(/\/+$/, '')}/r/${code}`,
      reward: {
        kind: rewards.kind,
        referrer: Number(rewards.referrer),
        referee: Number(rewards.referee),
        monthlyCap: rewards.monthlyCap,
      },
      referrals: {
        pending: Number(counts.pending),
        rewarded: Number(counts.rewarded),
        refused: Number(counts.refused),
        rewardedThisMonth: Number(counts.rewardedThisMonth),
      },
      referredStatus: referredBy?.status ?? null,
    };
  }

  /**
   * The referee enters a code. Once per customer (the same code again answers the same referral),
   * never their own, never after a completed order (loyalty's award decisions record every one).
   */
  async function claim(refereeId: string, rawCode: string): Promise<{ created: boolean; status: string }> {
    const code = rawCode.trim().toUpperCase();
    const owner = await db
      .selectFrom('referral_codes')
      .select('user_id')
      .where('code', '=', code)
      .executeTakeFirst();
    if (owner === undefined)
      throw loyaltyErrors.of('unprocessable', 'referral_code_unknown', 'No customer has this referral code.');
    if (owner.user_id === refereeId)
      throw loyaltyErrors.of('unprocessable', 'referral_self', 'A customer cannot use their own code.');
    const existing = await db
      .selectFrom('referrals')
      .select(['referrer_id', 'status'])
      .where('referee_id', '=', refereeId)
      .executeTakeFirst();
    if (existing !== undefined) return answerExisting(existing, owner.user_id);
    const completed = await db
      .selectFrom('loyalty_awards')
      .select('order_id')
      .where('user_id', '=', refereeId)
      .limit(1)
      .executeTakeFirst();
    if (completed !== undefined)
      throw loyaltyErrors.of(
        'unprocessable',
        'referral_not_first_order',
        'A referral rewards a first order; this customer already completed one.',
      );
    const inserted = await db
      .insertInto('referrals')
      .values({
        referee_id: refereeId,
        referrer_id: owner.user_id,
        status: 'pending',
        reason: null,
        order_id: null,
        reward_kind: null,
        referee_reward: null,
        referrer_reward: null,
        month: null,
        decided_at: null,
      })
      .onConflict((c) => c.column('referee_id').doNothing())
      .returning('status')
      .executeTakeFirst();
    if (inserted !== undefined) return { created: true, status: inserted.status };
    // A concurrent claim won: the same code is the same referral, another is a conflict.
    const winner = await db
      .selectFrom('referrals')
      .select(['referrer_id', 'status'])
      .where('referee_id', '=', refereeId)
      .executeTakeFirstOrThrow();
    return answerExisting(winner, owner.user_id);
  }

  function answerExisting(existing: { referrer_id: string; status: string }, referrerId: string) {
    if (existing.referrer_id !== referrerId)
      throw loyaltyErrors.of(
        'conflict',
        'referral_already_claimed',
        'This customer was already referred with another code.',
      );
    return { created: false, status: existing.status };
  }

  /**
   * The decision, once: the pending referral of this referee is locked; the referrer's code row is
   * locked too, so two referees completing at once count the referrer's month one after the other.
   * Answers the decision standing (a decided referral is answered as recorded).
   */
  async function decide(input: {
    orderId: string;
    refereeId: string;
    paymentPhone: string | null;
    at: Date;
  }): Promise<Decided | undefined> {
    const pending = await db
      .selectFrom('referrals')
      .select(['referrer_id', 'status'])
      .where('referee_id', '=', input.refereeId)
      .executeTakeFirst();
    if (pending === undefined) return undefined;
    // Read outside the transaction: identity's phone of the referrer (decrypted by identity) and
    // the devices each of them signed in on.
    const open = pending.status === 'pending';
    const referrerPhone = open ? await options.phoneOf(pending.referrer_id) : null;
    const referrerDevices = new Set(open ? await options.devicesOf(pending.referrer_id) : []);
    const sameDevice =
      referrerDevices.size > 0 &&
      (await options.devicesOf(input.refereeId)).some((device) => referrerDevices.has(device));
    return db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('referrals')
        .selectAll()
        .where('referee_id', '=', input.refereeId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (row.status !== 'pending') return row;
      const month = monthOf(input.at);
      const samePhone =
        input.paymentPhone !== null &&
        referrerPhone !== null &&
        normalizePhone(input.paymentPhone) === normalizePhone(referrerPhone);
      if (samePhone || sameDevice)
        return trx
          .updateTable('referrals')
          .set({
            status: 'refused',
            reason: samePhone ? 'same_payment_phone' : 'same_device',
            order_id: input.orderId,
            month,
            decided_at: input.at,
          })
          .where('referee_id', '=', input.refereeId)
          .returningAll()
          .executeTakeFirstOrThrow();
      await trx
        .selectFrom('referral_codes')
        .select('user_id')
        .where('user_id', '=', row.referrer_id)
        .forUpdate()
        .execute();
      const [{ rewarded }] = [
        await trx
          .selectFrom('referrals')
          .select(sql<string>`count(*)::text`.as('rewarded'))
          .where('referrer_id', '=', row.referrer_id)
          .where('month', '=', month)
          .where('referrer_reward', '>', 0n)
          .executeTakeFirstOrThrow(),
      ];
      const capped = Number(rewarded) >= rewards.monthlyCap;
      return trx
        .updateTable('referrals')
        .set({
          status: 'rewarded',
          reason: capped ? 'referrer_monthly_cap' : null,
          order_id: input.orderId,
          reward_kind: rewards.kind,
          referee_reward: rewards.referee,
          referrer_reward: capped ? 0n : rewards.referrer,
          month,
          decided_at: input.at,
        })
        .where('referee_id', '=', input.refereeId)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  function transferOf(decided: Decided, role: 'referee' | 'referrer', amount: bigint): Transfer {
    const userId = role === 'referee' ? decided.referee_id : decided.referrer_id;
    const userData = {
      reason: REFERRAL_REASON,
      role,
      refereeId: decided.referee_id,
      ...(decided.order_id === null ? {} : { orderId: decided.order_id }),
    };
    return decided.reward_kind === 'wallet'
      ? {
          id: referralTransferId(decided.referee_id, role),
          debitAccountId: promotionsExpenseId('XAF'),
          creditAccountId: customerWalletId(userId, 'XAF'),
          amountMinor: amount,
          currency: 'XAF',
          code: 'promotion',
          flags: {},
          userData,
        }
      : {
          id: referralTransferId(decided.referee_id, role),
          debitAccountId: pointsIssuanceId(),
          creditAccountId: customerPointsId(userId),
          amountMinor: amount,
          currency: 'PTS',
          code: 'adjustment',
          flags: {},
          userData,
        };
  }

  /** Books a recorded decision; every transfer's replay answers `exists`. */
  async function book(decided: Decided): Promise<ReferralOutcome> {
    if (decided.status === 'refused') return 'refused';
    if (decided.status !== 'rewarded') return 'no_referral';
    const transfers: Transfer[] = [];
    if ((decided.referee_reward ?? 0n) > 0n)
      transfers.push(transferOf(decided, 'referee', BigInt(decided.referee_reward!)));
    if ((decided.referrer_reward ?? 0n) > 0n)
      transfers.push(transferOf(decided, 'referrer', BigInt(decided.referrer_reward!)));
    if (transfers.length === 0) return 'exists';
    const outcomes = await ledger.submit(transfers);
    let booked = false;
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.result === 'ok') booked = true;
      else if (outcome.result === 'exists_with_different_fields')
        logger.error(
          { transferId: transfers[index]!.id, detail: outcome.detail },
          'referral reward exists with other figures',
        );
      else if (outcome.result !== 'exists')
        // Issuance and the promotions expense can always pay: a refusal is a fault, retried.
        throw new Error(`referral reward ${transfers[index]!.id} refused: ${outcome.result}`);
    }
    return booked ? 'booked' : 'exists';
  }

  /** The referee's completed order: decide once, then book the decision (both idempotent). */
  async function onOrderCompleted(input: {
    orderId: string;
    refereeId: string;
    paymentPhone: string | null;
    /** The order's delivery point (referral abuse); absent: not compared. */
    delivery?: unknown;
    at: Date;
  }): Promise<ReferralOutcome> {
    const decided = await decide(input);
    if (decided === undefined) return 'no_referral';
    // Only the order that decided it books: a later completed order of the referee changes nothing.
    if (decided.order_id !== input.orderId) return decided.status === 'pending' ? 'no_referral' : 'exists';
    const outcome = await book(decided);
    // After the booking, so a crash in between reports on the retry (the report is idempotent).
    if (decided.status === 'rewarded' && options.reportCredited !== undefined)
      await options.reportCredited({
        referrerId: decided.referrer_id,
        refereeId: decided.referee_id,
        refereeDevices: await options.devicesOf(decided.referee_id),
        paymentPhone: input.paymentPhone,
        delivery: input.delivery,
        at: input.at,
      });
    return outcome;
  }

  /** The referrer's referrals, newest first; no referee identity (ids and amounts only). */
  async function list(referrerId: string, query: { cursor?: string; limit?: number }) {
    const limit = Math.min(Math.max(query.limit ?? 20, 1), MAX_REFERRALS_PAGE);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && after === undefined)
      throw loyaltyErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API gave.');
    let select = db
      .selectFrom('referrals')
      .select([
        'referee_id',
        'status',
        'reason',
        'reward_kind',
        'referrer_reward',
        'created_at',
        'decided_at',
        sql<string>`(extract(epoch FROM created_at) * 1000000)::int8::text`.as('at_us'),
      ])
      .where('referrer_id', '=', referrerId);
    if (after !== undefined)
      select = select.where(({ eb, refTuple, tuple }) =>
        eb(
          refTuple('created_at', 'referee_id'),
          '<',
          tuple(
            sql<Date>`timestamptz 'epoch' + ${after.at}::int8 * interval '1 microsecond'`,
            sql<string>`${after.id}::uuid`,
          ),
        ),
      );
    const rows = await select
      .orderBy('created_at', 'desc')
      .orderBy('referee_id', 'desc')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({
        status: row.status,
        reason: row.reason,
        reward:
          row.status === 'rewarded' && row.reward_kind !== null
            ? { kind: row.reward_kind, amount: Number(row.referrer_reward ?? 0n) }
            : null,
        referredAt: row.created_at.toISOString(),
        decidedAt: row.decided_at?.toISOString() ?? null,
      })),
      nextCursor:
        rows.length > limit && last !== undefined
          ? encodeCursor({ at: last.at_us, id: last.referee_id })
          : null,
    };
  }

  /**
   * The person's share: their code, whether they were referred, and what their referrals earned
   * (counts and amounts, never who the referees are). Erasure deletes the code (it stops working)
   * and refuses every referral of theirs still pending, as referee or referrer, so nothing is paid
   * to or because of an erased account; decided referrals stay as money records under the
   * pseudonymous ids, like orders.
   */
  const personalData = {
    async export(userId: string) {
      const code = await db
        .selectFrom('referral_codes')
        .select(['code', 'created_at'])
        .where('user_id', '=', userId)
        .executeTakeFirst();
      const referred = await db
        .selectFrom('referrals')
        .select(['status', 'reason', 'reward_kind', 'referee_reward', 'created_at', 'decided_at'])
        .where('referee_id', '=', userId)
        .executeTakeFirst();
      const made = await db
        .selectFrom('referrals')
        .select(['status', 'reward_kind'])
        .select((eb) => [
          eb.fn.countAll<string>().as('count'),
          eb.fn.coalesce(eb.fn.sum<string>('referrer_reward'), sql<string>`0`).as('earned'),
        ])
        .where('referrer_id', '=', userId)
        .groupBy(['status', 'reward_kind'])
        .orderBy('status')
        .execute();
      return {
        code: code === undefined ? null : { code: code.code, createdAt: code.created_at.toISOString() },
        referredBy:
          referred === undefined
            ? null
            : {
                status: referred.status,
                reason: referred.reason,
                reward:
                  referred.reward_kind === null
                    ? null
                    : { kind: referred.reward_kind, amount: Number(referred.referee_reward ?? 0n) },
                referredAt: referred.created_at.toISOString(),
                decidedAt: referred.decided_at?.toISOString() ?? null,
              },
        referralsMade: made.map((row) => ({
          status: row.status,
          rewardKind: row.reward_kind,
          count: Number(row.count),
          earned: Number(row.earned),
        })),
      };
    },
    async erase(userId: string) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('referral_codes').where('user_id', '=', userId).execute();
        await trx
          .updateTable('referrals')
          .set({ status: 'refused', reason: 'erased', decided_at: sql<Date>`now()` })
          .where('status', '=', 'pending')
          .where((eb) => eb.or([eb('referee_id', '=', userId), eb('referrer_id', '=', userId)]))
          .execute();
      });
    },
  };

  return { codeOf, summary, claim, decide, book, onOrderCompleted, list, personalData };
}

export type Referrals = ReturnType<typeof createReferrals>;
