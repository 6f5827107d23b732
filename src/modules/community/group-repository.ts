/**
 * Group carts' rows (docs/community.md, "Group orders"). Every change of a cart's status or of a
 * share's runs under the cart row's lock (`FOR UPDATE`), so a share being paid and the cart
 * expiring are ordered: either the share was marked `paying` first (and the expiry settles it
 * before refunding), or the expiry came first (and the share is refused before any money moves).
 */
import { placementClaims } from './placement-claim.js';
import { sql, type Transaction } from 'kysely';
import type {
  CommunityDb,
  CommunityTables,
  GroupCartStatus,
  GroupLine,
  GroupPaymentMode,
  GroupShareKind,
  GroupShareStatus,
} from './tables.js';

export interface GroupCartRow {
  id: string;
  code: string;
  hostId: string;
  restaurantId: string;
  status: GroupCartStatus;
  paymentMode: GroupPaymentMode | null;
  delivery: { latitude: number; longitude: number; text: string } | null;
  tipMinor: bigint;
  totalMinor: bigint | null;
  orderId: string;
  released: boolean;
  failure: string | null;
  expiresAt: Date;
  createdAt: Date;
}

export interface GroupMemberRow {
  userId: string;
  lines: GroupLine[];
  joinedAt: Date;
}

export interface GroupShareRow {
  payerId: string;
  kind: GroupShareKind;
  amountMinor: bigint;
  status: GroupShareStatus;
  paymentId: string | null;
}

type Tx = Transaction<CommunityTables>;

const cartColumns = [
  'id',
  'code',
  'host_id',
  'restaurant_id',
  'status',
  'payment_mode',
  'delivery',
  'tip_minor',
  'total_minor',
  'order_id',
  'released',
  'failure',
  'expires_at',
  'created_at',
] as const;

function cartOf(row: {
  id: string;
  code: string;
  host_id: string;
  restaurant_id: string;
  status: GroupCartStatus;
  payment_mode: GroupPaymentMode | null;
  delivery: GroupCartRow['delivery'];
  tip_minor: bigint;
  total_minor: bigint | null;
  order_id: string;
  released: boolean;
  failure: string | null;
  expires_at: Date;
  created_at: Date;
}): GroupCartRow {
  return {
    id: row.id,
    code: row.code,
    hostId: row.host_id,
    restaurantId: row.restaurant_id,
    status: row.status,
    paymentMode: row.payment_mode,
    delivery: row.delivery,
    tipMinor: BigInt(row.tip_minor),
    totalMinor: row.total_minor === null ? null : BigInt(row.total_minor),
    orderId: row.order_id,
    released: row.released,
    failure: row.failure,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}

const shareOf = (row: {
  payer_id: string;
  kind: GroupShareKind;
  amount_minor: bigint;
  status: GroupShareStatus;
  payment_id: string | null;
}): GroupShareRow => ({
  payerId: row.payer_id,
  kind: row.kind,
  amountMinor: BigInt(row.amount_minor),
  status: row.status,
  paymentId: row.payment_id,
});

export function createGroupCartsRepository(db: CommunityDb) {
  const claims = placementClaims(db, 'group_carts');
  async function lockedCart(transaction: Tx, cartId: string): Promise<GroupCartRow | undefined> {
    const row = await transaction
      .selectFrom('group_carts')
      .select(cartColumns)
      .where('id', '=', cartId)
      .forUpdate()
      .executeTakeFirst();
    return row === undefined ? undefined : cartOf(row);
  }

  async function shares(cartId: string, transaction: CommunityDb | Tx = db): Promise<GroupShareRow[]> {
    const rows = await transaction
      .selectFrom('group_cart_shares')
      .select(['payer_id', 'kind', 'amount_minor', 'status', 'payment_id'])
      .where('cart_id', '=', cartId)
      .orderBy('kind')
      .orderBy('payer_id')
      .execute();
    return rows.map(shareOf);
  }

  return {
    db,
    lockedCart,
    shares,
    /** Within a transaction holding the cart's lock (every change below takes it). */
    withCart<T>(cartId: string, work: (cart: GroupCartRow | undefined, transaction: Tx) => Promise<T>) {
      return db
        .transaction()
        .execute(async (transaction) => work(await lockedCart(transaction, cartId), transaction));
    },

    /** Opens a cart with its host as first member; false when the code is taken (draw another). */
    async create(
      cart: {
        id: string;
        code: string;
        hostId: string;
        restaurantId: string;
        orderId: string;
        expiresAt: Date;
      },
      maxOpenPerHost: number,
    ): Promise<'created' | 'code_taken' | 'too_many'> {
      return db.transaction().execute(async (transaction) => {
        await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`group-carts:${cart.hostId}`}, 0))`.execute(
          transaction,
        );
        const open = await transaction
          .selectFrom('group_carts')
          .select(({ fn }) => fn.countAll<string>().as('count'))
          .where('host_id', '=', cart.hostId)
          .where('status', 'in', ['open', 'locked', 'placing'])
          .executeTakeFirstOrThrow();
        if (Number(open.count) >= maxOpenPerHost) return 'too_many';
        const inserted = await transaction
          .insertInto('group_carts')
          .values({
            id: cart.id,
            code: cart.code,
            host_id: cart.hostId,
            restaurant_id: cart.restaurantId,
            order_id: cart.orderId,
            expires_at: cart.expiresAt,
          })
          .onConflict((conflict) => conflict.column('code').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted === undefined) return 'code_taken';
        await transaction
          .insertInto('group_cart_members')
          .values({ cart_id: cart.id, user_id: cart.hostId, lines: sql`'[]'::jsonb` as never })
          .execute();
        return 'created';
      });
    },

    async find(cartId: string): Promise<GroupCartRow | undefined> {
      const row = await db
        .selectFrom('group_carts')
        .select(cartColumns)
        .where('id', '=', cartId)
        .executeTakeFirst();
      return row === undefined ? undefined : cartOf(row);
    },

    async findByCode(code: string): Promise<GroupCartRow | undefined> {
      const row = await db
        .selectFrom('group_carts')
        .select(cartColumns)
        .where('code', '=', code)
        .executeTakeFirst();
      return row === undefined ? undefined : cartOf(row);
    },

    async members(cartId: string, transaction: CommunityDb | Tx = db): Promise<GroupMemberRow[]> {
      const rows = await transaction
        .selectFrom('group_cart_members')
        .select(['user_id', 'lines', 'joined_at'])
        .where('cart_id', '=', cartId)
        .orderBy('joined_at')
        .orderBy('user_id')
        .execute();
      return rows.map((row) => ({ userId: row.user_id, lines: row.lines, joinedAt: row.joined_at }));
    },

    async isMember(cartId: string, userId: string): Promise<boolean> {
      const row = await db
        .selectFrom('group_cart_members')
        .select('user_id')
        .where('cart_id', '=', cartId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row !== undefined;
    },

    async addMember(transaction: Tx, cartId: string, userId: string): Promise<void> {
      await transaction
        .insertInto('group_cart_members')
        .values({ cart_id: cartId, user_id: userId, lines: sql`'[]'::jsonb` as never })
        .onConflict((conflict) => conflict.columns(['cart_id', 'user_id']).doNothing())
        .execute();
    },

    async setLines(transaction: Tx, cartId: string, userId: string, lines: GroupLine[]): Promise<void> {
      await transaction
        .updateTable('group_cart_members')
        .set({ lines: sql`${JSON.stringify(lines)}::jsonb` as never })
        .where('cart_id', '=', cartId)
        .where('user_id', '=', userId)
        .execute();
    },

    async lock(
      transaction: Tx,
      cartId: string,
      fields: {
        paymentMode: GroupPaymentMode;
        delivery: NonNullable<GroupCartRow['delivery']>;
        tipMinor: bigint;
        totalMinor: bigint;
      },
      owed: { payerId: string; amountMinor: bigint }[],
    ): Promise<void> {
      await transaction
        .updateTable('group_carts')
        .set({
          status: 'locked',
          payment_mode: fields.paymentMode,
          delivery: sql`${JSON.stringify(fields.delivery)}::jsonb` as never,
          tip_minor: fields.tipMinor,
          total_minor: fields.totalMinor,
          updated_at: sql`now()`,
        })
        .where('id', '=', cartId)
        .execute();
      await transaction
        .insertInto('group_cart_shares')
        .values(
          owed.map((share) => ({
            cart_id: cartId,
            payer_id: share.payerId,
            kind: 'share' as const,
            amount_minor: share.amountMinor,
          })),
        )
        .execute();
    },

    async setStatus(
      transaction: Tx | CommunityDb,
      cartId: string,
      status: GroupCartStatus,
      extra: { failure?: string; released?: boolean } = {},
    ): Promise<void> {
      await transaction
        .updateTable('group_carts')
        .set({
          status,
          ...(extra.failure === undefined ? {} : { failure: extra.failure }),
          ...(extra.released === undefined ? {} : { released: extra.released }),
          updated_at: sql`now()`,
        })
        .where('id', '=', cartId)
        .execute();
    },

    /** The placement claim (placement-claim.ts): one caller places the order. */
    claimPlacement: claims.claim,
    releasePlacement: claims.release,

    /** placing → placed; false when the cart was no longer placing. */
    async markPlaced(cartId: string): Promise<boolean> {
      const result = await db
        .updateTable('group_carts')
        .set({ status: 'placed', placement_claimed_until: null, updated_at: sql`now()` })
        .where('id', '=', cartId)
        .where('status', '=', 'placing')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async markReleased(cartId: string): Promise<void> {
      await db.updateTable('group_carts').set({ released: true }).where('id', '=', cartId).execute();
    },

    /** Moves a share from one of `from` to `to`; false when it was in none of them (someone else moved it). */
    async moveShare(
      transaction: Tx | CommunityDb,
      cartId: string,
      payerId: string,
      kind: GroupShareKind,
      from: readonly GroupShareStatus[],
      to: GroupShareStatus,
      paymentId?: string,
    ): Promise<boolean> {
      const result = await transaction
        .updateTable('group_cart_shares')
        .set({
          status: to,
          ...(to === 'paid' ? { paid_at: sql`now()` as never } : {}),
          ...(to === 'refunded' ? { refunded_at: sql`now()` as never } : {}),
          ...(paymentId === undefined ? {} : { payment_id: paymentId }),
        })
        .where('cart_id', '=', cartId)
        .where('payer_id', '=', payerId)
        .where('kind', '=', kind)
        .where('status', 'in', [...from])
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async addCover(transaction: Tx, cartId: string, hostId: string, amountMinor: bigint): Promise<void> {
      await transaction
        .updateTable('group_cart_shares')
        .set({ status: 'waived' })
        .where('cart_id', '=', cartId)
        .where('status', '=', 'due')
        .execute();
      await transaction
        .insertInto('group_cart_shares')
        .values({ cart_id: cartId, payer_id: hostId, kind: 'cover', amount_minor: amountMinor })
        .execute();
    },

    /** Carts the sweep has something to do for: past their time, stuck placing, paid and unplaced, or ended with money to give back. */
    async needingWork(at: Date, settleBefore: Date, limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('group_carts')
        .select('id')
        .where((where) =>
          where.or([
            where.and([where('status', 'in', ['open', 'locked']), where('expires_at', '<=', at)]),
            where.and([
              where('status', 'in', ['placing', 'locked']),
              where('updated_at', '<=', settleBefore),
            ]),
            where.and([
              where('status', 'in', ['abandoned', 'expired', 'failed']),
              where.exists(
                where
                  .selectFrom('group_cart_shares')
                  .select('cart_id')
                  .whereRef('group_cart_shares.cart_id', '=', 'group_carts.id')
                  .where('group_cart_shares.status', 'in', ['paying', 'paid', 'collecting']),
              ),
            ]),
          ]),
        )
        .orderBy('updated_at')
        .limit(limit)
        .execute();
      return rows.map((row) => row.id);
    },

    /** A person's carts and shares, for their data export. */
    async ofPerson(userId: string) {
      const memberships = await db
        .selectFrom('group_cart_members')
        .innerJoin('group_carts', 'group_carts.id', 'group_cart_members.cart_id')
        .select([
          'group_carts.id',
          'group_carts.status',
          'group_carts.host_id',
          'group_cart_members.lines',
          'group_cart_members.joined_at',
        ])
        .where('group_cart_members.user_id', '=', userId)
        .execute();
      const owed = await db
        .selectFrom('group_cart_shares')
        .select(['cart_id', 'kind', 'amount_minor', 'status'])
        .where('payer_id', '=', userId)
        .execute();
      return { memberships, owed };
    },

    /** Erasure: the person's lines in carts that are over (shares stay: they are money records). */
    async eraseLines(userId: string): Promise<number> {
      const result = await db
        .updateTable('group_cart_members')
        .set({ lines: sql`'[]'::jsonb` as never })
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type GroupCartsRepository = ReturnType<typeof createGroupCartsRepository>;
