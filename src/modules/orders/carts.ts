/**
 * Carts in PostgreSQL: a customer's cart is keyed by user id and kept; an anonymous (guest) cart
 * is keyed by the SHA-256 of a random cart token the client keeps, and expires GUEST_CART_TTL_MS
 * after its last change (an expired cart reads as empty; `purgeExpired` deletes them).
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { OrdersDb } from './tables.js';
import { EMPTY_CART, GUEST_CART_TTL_MS, mergeCarts, type Cart, type CartLine } from './cart-rules.js';

export type CartOwner = { kind: 'user'; userId: string } | { kind: 'token'; token: string };

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newCartToken(): string {
  return randomBytes(32).toString('base64url');
}

export function isCartToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

function ownerKey(owner: CartOwner): { owner_kind: 'user' | 'token'; owner_key: string } {
  return owner.kind === 'user'
    ? { owner_kind: 'user', owner_key: owner.userId }
    : { owner_kind: 'token', owner_key: createHash('sha256').update(owner.token).digest('hex') };
}

export function createCarts(db: OrdersDb, now: () => Date = () => new Date()) {
  async function read(owner: CartOwner): Promise<Cart & { expiresAt: string | null }> {
    const key = ownerKey(owner);
    const row = await db
      .selectFrom('order_carts')
      .select(['restaurant_id', 'items', 'expires_at'])
      .where('owner_kind', '=', key.owner_kind)
      .where('owner_key', '=', key.owner_key)
      .where((where) => where.or([where('expires_at', 'is', null), where('expires_at', '>', now())]))
      .executeTakeFirst();
    if (row === undefined) return { ...EMPTY_CART, expiresAt: null };
    return {
      restaurantId: row.restaurant_id,
      items: row.items as CartLine[],
      expiresAt: row.expires_at?.toISOString() ?? null,
    };
  }

  async function write(owner: CartOwner, cart: Cart): Promise<Cart & { expiresAt: string | null }> {
    const key = ownerKey(owner);
    const expiresAt = owner.kind === 'token' ? new Date(now().getTime() + GUEST_CART_TTL_MS) : null;
    await db
      .insertInto('order_carts')
      .values({
        ...key,
        restaurant_id: cart.restaurantId,
        items: JSON.stringify(cart.items),
        expires_at: expiresAt,
        updated_at: now(),
      })
      .onConflict((conflict) =>
        conflict.columns(['owner_kind', 'owner_key']).doUpdateSet({
          restaurant_id: cart.restaurantId,
          items: JSON.stringify(cart.items),
          expires_at: expiresAt,
          updated_at: now(),
        }),
      )
      .execute();
    return { ...cart, expiresAt: expiresAt?.toISOString() ?? null };
  }

  async function remove(owner: CartOwner): Promise<void> {
    const key = ownerKey(owner);
    await db
      .deleteFrom('order_carts')
      .where('owner_kind', '=', key.owner_kind)
      .where('owner_key', '=', key.owner_key)
      .execute();
  }

  return {
    read,
    write,
    remove,
    /** The guest cart of `token` merges into the user's cart (cart-rules.ts), then disappears. */
    async mergeIntoUser(userId: string, token: string) {
      const guest = await read({ kind: 'token', token });
      if (guest.items.length === 0) return read({ kind: 'user', userId });
      const customer = await read({ kind: 'user', userId });
      const merged = await write({ kind: 'user', userId }, mergeCarts(customer, guest));
      await remove({ kind: 'token', token });
      return merged;
    },
    async purgeExpired(): Promise<number> {
      const result = await db
        .deleteFrom('order_carts')
        .where('expires_at', '<', sql<Date>`now()`)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type Carts = ReturnType<typeof createCarts>;
