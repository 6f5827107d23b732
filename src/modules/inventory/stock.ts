/**
 * Stock movements (issue #27): every change of an ingredient's stock is one row of the movement
 * journal, written in the transaction that changes the stock, with the stock after it, who made
 * it and why (the audit trail). The ingredient's row is locked first, so movements of one
 * ingredient are serial; an order's movements lock its ingredients in id order (no deadlock).
 */
import { sql, type Transaction } from 'kysely';
import { isLow, takeFromLots, type WastageReason } from './rules.js';
import type { InventoryDb, InventoryTables, MovementKind } from './tables.js';

type Tx = Transaction<InventoryTables>;

export interface Movement {
  restaurantId: string;
  ingredientId: string;
  kind: MovementKind;
  /** Signed, in the ingredient's base unit. */
  quantity: bigint;
  reason?: WastageReason | null;
  note?: string | null;
  orderId?: string | null;
  actorId?: string | null;
  /** Receipts: the lot's expiry day (`YYYY-MM-DD`), or null when it keeps. */
  expiresOn?: string | null;
}

/** An alert raised (or cleared) by a movement, announced to the owner after the commit. */
export interface AlertChange {
  kind: 'low_stock';
  state: 'raised' | 'cleared';
  ingredientId: string;
  restaurantId: string;
  name: string;
  onHand: bigint;
  threshold: bigint;
}

export class IngredientMissing extends Error {}

/** Applies one movement inside `transaction`; answers the stock after it and any alert change. */
export async function applyMovement(
  transaction: Tx,
  movement: Movement,
): Promise<{ onHand: bigint; alert?: AlertChange }> {
  const ingredient = await transaction
    .selectFrom('inventory_ingredients')
    .select(['id', 'name', 'on_hand', 'low_stock_threshold'])
    .where('id', '=', movement.ingredientId)
    .where('restaurant_id', '=', movement.restaurantId)
    .forUpdate()
    .executeTakeFirst();
  if (ingredient === undefined) throw new IngredientMissing(movement.ingredientId);
  const before = BigInt(ingredient.on_hand);
  const onHand = before + movement.quantity;
  let lotId: string | null = null;
  if (movement.kind === 'receipt') {
    const lot = await transaction
      .insertInto('inventory_lots')
      .values({
        ingredient_id: movement.ingredientId,
        restaurant_id: movement.restaurantId,
        received: movement.quantity,
        remaining: movement.quantity,
        expires_on: movement.expiresOn ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    lotId = lot.id;
  } else if (movement.quantity < 0n) {
    await takeFromOpenLots(transaction, movement.ingredientId, -movement.quantity);
  }
  await transaction
    .updateTable('inventory_ingredients')
    .set({ on_hand: onHand, updated_at: sql<Date>`now()` })
    .where('id', '=', movement.ingredientId)
    .execute();
  await transaction
    .insertInto('inventory_movements')
    .values({
      restaurant_id: movement.restaurantId,
      ingredient_id: movement.ingredientId,
      kind: movement.kind,
      quantity: movement.quantity,
      on_hand_after: onHand,
      reason: movement.reason ?? null,
      note: movement.note ?? null,
      order_id: movement.orderId ?? null,
      lot_id: lotId,
      actor_id: movement.actorId ?? null,
    })
    .execute();
  const threshold = BigInt(ingredient.low_stock_threshold);
  const alert = await lowStockChange(transaction, {
    restaurantId: movement.restaurantId,
    ingredientId: movement.ingredientId,
    name: ingredient.name,
    onHand,
    threshold,
  });
  return { onHand, ...(alert === undefined ? {} : { alert }) };
}

async function takeFromOpenLots(transaction: Tx, ingredientId: string, quantity: bigint): Promise<void> {
  const lots = await transaction
    .selectFrom('inventory_lots')
    .select(['id', 'remaining', 'expires_on', 'received_at'])
    .where('ingredient_id', '=', ingredientId)
    .where('remaining', '>', 0n)
    .orderBy('expires_on')
    .orderBy('received_at')
    .limit(MAX_OPEN_LOTS)
    .forUpdate()
    .execute();
  const { takes } = takeFromLots(
    lots.map((lot) => ({
      id: lot.id,
      remaining: BigInt(lot.remaining),
      expiresOn: lot.expires_on,
      receivedAt: lot.received_at,
    })),
    quantity,
  );
  for (const take of takes)
    await transaction
      .updateTable('inventory_lots')
      .set({ remaining: sql<bigint>`remaining - ${take.quantity}` })
      .where('id', '=', take.lotId)
      .execute();
}

/** Open lots read per removal: an ingredient with more is received in too many small lots. */
export const MAX_OPEN_LOTS = 200;

/**
 * Raises a low-stock alert when the stock is at or under a set threshold (once: an open alert is
 * not raised again), and clears it when the stock is back above.
 */
export async function lowStockChange(
  transaction: Tx,
  state: { restaurantId: string; ingredientId: string; name: string; onHand: bigint; threshold: bigint },
): Promise<AlertChange | undefined> {
  const low = state.threshold > 0n && isLow(state.onHand, state.threshold);
  const base = { kind: 'low_stock' as const, ...state };
  if (low) {
    const inserted = await sql<{ id: string }>`
      INSERT INTO inventory_alerts (restaurant_id, ingredient_id, kind, detail)
      VALUES (${state.restaurantId}, ${state.ingredientId}, 'low_stock',
              ${JSON.stringify({ onHand: String(state.onHand), threshold: String(state.threshold) })})
      ON CONFLICT (ingredient_id, kind, coalesce(lot_id, '00000000-0000-0000-0000-000000000000'::uuid))
        WHERE resolved_at IS NULL DO NOTHING
      RETURNING id`.execute(transaction);
    return inserted.rows.length > 0 ? { ...base, state: 'raised' } : undefined;
  }
  const cleared = await transaction
    .updateTable('inventory_alerts')
    .set({ resolved_at: sql<Date>`now()` })
    .where('ingredient_id', '=', state.ingredientId)
    .where('kind', '=', 'low_stock')
    .where('resolved_at', 'is', null)
    .executeTakeFirst();
  return Number(cleared.numUpdatedRows) > 0 ? { ...base, state: 'cleared' } : undefined;
}

/**
 * What an order did to the stock: the consumption movements it already has (the reactor may see
 * its events again), by ingredient.
 */
export async function orderMovements(
  executor: InventoryDb | Tx,
  orderId: string,
): Promise<{ ingredientId: string; kind: MovementKind; quantity: bigint }[]> {
  const rows = await executor
    .selectFrom('inventory_movements')
    .select(['ingredient_id', 'kind', 'quantity'])
    .where('order_id', '=', orderId)
    .execute();
  return rows.map((row) => ({
    ingredientId: row.ingredient_id,
    kind: row.kind,
    quantity: BigInt(row.quantity),
  }));
}
