/**
 * The inventory service (issue #27, docs/inventory.md): a restaurant's ingredients, recipes,
 * receipts with expiry, wastage, counts, alerts, reorder suggestions and the weekly report. The
 * owner (or an admin) manages it; orders take from it through the order reactor (order-reactor.ts).
 */
import type { Logger } from 'pino';
import { sql } from 'kysely';
import { audiences, type RealtimeBus } from '../../realtime/index.js';
import type { CatalogCommunityApi } from '../catalog/index.js';
import { inventoryErrors } from './errors.js';
import {
  addDays,
  CONSUMPTION_WINDOW_DAYS,
  EXPIRY_WARNING_DAYS,
  suggestReorder,
  weekOf,
  type WastageReason,
} from './rules.js';
import {
  applyMovement,
  IngredientMissing,
  lowStockChange,
  type AlertChange,
  type Movement,
} from './stock.js';
import type { IngredientUnit, InventoryDb } from './tables.js';

/** A restaurant keeps at most this many ingredients, a dish at most this many recipe lines. */
export const MAX_INGREDIENTS = 500;
export const MAX_RECIPE_LINES = 30;

export interface Caller {
  userId: string;
  /** Admins (FULL_SYSTEM_ACCESS) may manage any restaurant's inventory. */
  admin: boolean;
  requestId?: string;
}

export interface InventoryDependencies {
  db: InventoryDb;
  catalog: {
    community: CatalogCommunityApi;
    restaurantOwnerId(restaurantId: string): Promise<string | undefined>;
  };
  audit(entry: {
    action: string;
    actorId: string;
    resource: string;
    newValue?: unknown;
    oldValue?: unknown;
    requestId?: string;
  }): Promise<void>;
  bus: RealtimeBus;
  logger: Logger;
  now?: () => Date;
}

export interface IngredientInput {
  name: string;
  unit: IngredientUnit;
  lowStockThreshold?: number;
  leadTimeDays?: number;
  coverDays?: number;
}

const ingredientColumns = [
  'id',
  'name',
  'unit',
  'on_hand',
  'low_stock_threshold',
  'lead_time_days',
  'cover_days',
] as const;

function ingredientView(row: {
  id: string;
  name: string;
  unit: IngredientUnit;
  on_hand: bigint;
  low_stock_threshold: bigint;
  lead_time_days: number;
  cover_days: number;
}) {
  return {
    id: row.id,
    name: row.name,
    unit: row.unit,
    onHand: Number(row.on_hand),
    lowStockThreshold: Number(row.low_stock_threshold),
    leadTimeDays: row.lead_time_days,
    coverDays: row.cover_days,
  };
}

export function createInventory(deps: InventoryDependencies) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  /** The owner of the restaurant, or an admin: anyone else learns nothing (404). */
  async function mustManage(caller: Caller, restaurantId: string): Promise<string> {
    const ownerId = await deps.catalog.restaurantOwnerId(restaurantId);
    if (ownerId === undefined || (ownerId !== caller.userId && !caller.admin))
      throw inventoryErrors.of('not_found', 'restaurant_not_found', 'There is no such restaurant of yours.');
    return ownerId;
  }

  async function announce(ownerId: string, changes: readonly AlertChange[]): Promise<void> {
    if (changes.length === 0) return;
    await deps.bus.publish(
      changes.map((change) => ({
        audiences: [audiences.owner(ownerId)],
        message: {
          channel: 'inventory-alerts',
          type: change.state === 'raised' ? 'low-stock' : 'low-stock-cleared',
          at: now().toISOString(),
          data: {
            restaurantId: change.restaurantId,
            ingredientId: change.ingredientId,
            name: change.name,
            onHand: Number(change.onHand),
            threshold: Number(change.threshold),
          },
        },
      })),
    );
  }

  async function move(caller: Caller, movement: Movement): Promise<{ onHand: number }> {
    const ownerId = await mustManage(caller, movement.restaurantId);
    try {
      const result = await db.transaction().execute((transaction) => applyMovement(transaction, movement));
      if (result.alert !== undefined) await announce(ownerId, [result.alert]);
      return { onHand: Number(result.onHand) };
    } catch (error) {
      if (error instanceof IngredientMissing)
        throw inventoryErrors.of('not_found', 'ingredient_not_found', 'There is no such ingredient here.');
      throw error;
    }
  }

  return {
    mustManage,
    announce,
    async createIngredient(caller: Caller, restaurantId: string, input: IngredientInput) {
      await mustManage(caller, restaurantId);
      const count = await db
        .selectFrom('inventory_ingredients')
        .select(({ fn }) => fn.countAll<string>().as('total'))
        .where('restaurant_id', '=', restaurantId)
        .where('archived_at', 'is', null)
        .executeTakeFirstOrThrow();
      if (Number(count.total) >= MAX_INGREDIENTS)
        throw inventoryErrors.of(
          'unprocessable',
          'ingredients_full',
          `At most ${MAX_INGREDIENTS} ingredients.`,
        );
      const row = await db
        .insertInto('inventory_ingredients')
        .values({
          restaurant_id: restaurantId,
          name: input.name.trim(),
          unit: input.unit,
          low_stock_threshold: input.lowStockThreshold ?? 0,
          ...(input.leadTimeDays === undefined ? {} : { lead_time_days: input.leadTimeDays }),
          ...(input.coverDays === undefined ? {} : { cover_days: input.coverDays }),
        })
        .onConflict((conflict) => conflict.doNothing())
        .returning(ingredientColumns)
        .executeTakeFirst();
      if (row === undefined)
        throw inventoryErrors.of('conflict', 'ingredient_exists', 'An ingredient of that name exists here.');
      await deps.audit({
        action: 'inventory.ingredient.create',
        actorId: caller.userId,
        resource: `ingredient:${row.id}`,
        newValue: { restaurantId, ...input },
        requestId: caller.requestId,
      });
      return ingredientView(row);
    },
    async updateIngredient(
      caller: Caller,
      restaurantId: string,
      ingredientId: string,
      changes: { lowStockThreshold?: number; leadTimeDays?: number; coverDays?: number },
    ) {
      const ownerId = await mustManage(caller, restaurantId);
      const result = await db.transaction().execute(async (transaction) => {
        const before = await transaction
          .selectFrom('inventory_ingredients')
          .select(ingredientColumns)
          .where('id', '=', ingredientId)
          .where('restaurant_id', '=', restaurantId)
          .where('archived_at', 'is', null)
          .forUpdate()
          .executeTakeFirst();
        if (before === undefined)
          throw inventoryErrors.of('not_found', 'ingredient_not_found', 'There is no such ingredient here.');
        const after = await transaction
          .updateTable('inventory_ingredients')
          .set({
            ...(changes.lowStockThreshold === undefined
              ? {}
              : { low_stock_threshold: changes.lowStockThreshold }),
            ...(changes.leadTimeDays === undefined ? {} : { lead_time_days: changes.leadTimeDays }),
            ...(changes.coverDays === undefined ? {} : { cover_days: changes.coverDays }),
            updated_at: sql<Date>`now()`,
          })
          .where('id', '=', ingredientId)
          .returning(ingredientColumns)
          .executeTakeFirstOrThrow();
        const alert = await lowStockChange(transaction, {
          restaurantId,
          ingredientId,
          name: after.name,
          onHand: BigInt(after.on_hand),
          threshold: BigInt(after.low_stock_threshold),
        });
        return { before, after, alert };
      });
      await deps.audit({
        action: 'inventory.ingredient.update',
        actorId: caller.userId,
        resource: `ingredient:${ingredientId}`,
        oldValue: ingredientView(result.before),
        newValue: ingredientView(result.after),
        requestId: caller.requestId,
      });
      if (result.alert !== undefined) await announce(ownerId, [result.alert]);
      return ingredientView(result.after);
    },
    async ingredient(caller: Caller, restaurantId: string, ingredientId: string) {
      await mustManage(caller, restaurantId);
      const row = await db
        .selectFrom('inventory_ingredients')
        .select(ingredientColumns)
        .where('id', '=', ingredientId)
        .where('restaurant_id', '=', restaurantId)
        .where('archived_at', 'is', null)
        .executeTakeFirst();
      if (row === undefined)
        throw inventoryErrors.of('not_found', 'ingredient_not_found', 'There is no such ingredient here.');
      return ingredientView(row);
    },
    async listIngredients(caller: Caller, restaurantId: string) {
      await mustManage(caller, restaurantId);
      const rows = await db
        .selectFrom('inventory_ingredients')
        .select(ingredientColumns)
        .where('restaurant_id', '=', restaurantId)
        .where('archived_at', 'is', null)
        .orderBy('name')
        .limit(MAX_INGREDIENTS)
        .execute();
      return rows.map(ingredientView);
    },
    /**
     * The names of a dish's recipe ingredients, biggest quantity first (none without a recipe):
     * what catalog's menu description drafts are written from. No caller: the catalog asks after
     * checking its own owner (a `later` need of catalog's), and names are not personal data.
     */
    async recipeIngredientNames(restaurantId: string, itemId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('inventory_recipes')
        .innerJoin('inventory_ingredients', 'inventory_ingredients.id', 'inventory_recipes.ingredient_id')
        .select('inventory_ingredients.name')
        .where('inventory_recipes.restaurant_id', '=', restaurantId)
        .where('inventory_recipes.item_id', '=', itemId)
        .orderBy('inventory_recipes.quantity', 'desc')
        .orderBy('inventory_ingredients.name')
        .limit(MAX_RECIPE_LINES)
        .execute();
      return rows.map((row) => row.name);
    },
    /** Replaces a dish's recipe: each ingredient's quantity per portion (an empty list removes it). */
    async setRecipe(
      caller: Caller,
      restaurantId: string,
      itemId: string,
      lines: { ingredientId: string; quantity: number }[],
    ) {
      await mustManage(caller, restaurantId);
      const [dish] = await deps.catalog.community.dishCards([itemId]);
      if (dish === undefined || dish.restaurantId !== restaurantId)
        throw inventoryErrors.of('not_found', 'menu_item_not_found', 'There is no such dish on this menu.');
      const ids = [...new Set(lines.map((line) => line.ingredientId))];
      if (ids.length !== lines.length)
        throw inventoryErrors.of('validation', 'recipe_invalid', 'Name each ingredient once.');
      await db.transaction().execute(async (transaction) => {
        const known =
          ids.length === 0
            ? []
            : await transaction
                .selectFrom('inventory_ingredients')
                .select('id')
                .where('restaurant_id', '=', restaurantId)
                .where('archived_at', 'is', null)
                .where('id', 'in', ids)
                .execute();
        if (known.length !== ids.length)
          throw inventoryErrors.of('not_found', 'ingredient_not_found', 'There is no such ingredient here.');
        await transaction.deleteFrom('inventory_recipes').where('item_id', '=', itemId).execute();
        if (lines.length > 0)
          await transaction
            .insertInto('inventory_recipes')
            .values(
              lines.map((line) => ({
                restaurant_id: restaurantId,
                item_id: itemId,
                ingredient_id: line.ingredientId,
                quantity: line.quantity,
              })),
            )
            .execute();
      });
      await deps.audit({
        action: 'inventory.recipe.set',
        actorId: caller.userId,
        resource: `menu_item:${itemId}`,
        newValue: { restaurantId, lines },
        requestId: caller.requestId,
      });
      return { itemId, ingredients: lines };
    },
    receive(
      caller: Caller,
      restaurantId: string,
      ingredientId: string,
      quantity: number,
      expiresOn: string | null,
    ) {
      if (expiresOn !== null && expiresOn < now().toISOString().slice(0, 10))
        throw inventoryErrors.of(
          'validation',
          'expiry_in_past',
          'A lot received today cannot have expired already.',
        );
      return move(caller, {
        restaurantId,
        ingredientId,
        kind: 'receipt',
        quantity: BigInt(quantity),
        expiresOn,
        actorId: caller.userId,
      });
    },
    waste(
      caller: Caller,
      restaurantId: string,
      ingredientId: string,
      quantity: number,
      reason: WastageReason,
      note: string | null,
    ) {
      return move(caller, {
        restaurantId,
        ingredientId,
        kind: 'wastage',
        quantity: -BigInt(quantity),
        reason,
        note,
        actorId: caller.userId,
      });
    },
    /** A stock count: the stock becomes `counted`; the difference is journalled as a `count` movement. */
    async count(
      caller: Caller,
      restaurantId: string,
      ingredientId: string,
      counted: number,
      note: string | null,
    ) {
      const ownerId = await mustManage(caller, restaurantId);
      const result = await db.transaction().execute(async (transaction) => {
        const row = await transaction
          .selectFrom('inventory_ingredients')
          .select('on_hand')
          .where('id', '=', ingredientId)
          .where('restaurant_id', '=', restaurantId)
          .forUpdate()
          .executeTakeFirst();
        if (row === undefined)
          throw inventoryErrors.of('not_found', 'ingredient_not_found', 'There is no such ingredient here.');
        return applyMovement(transaction, {
          restaurantId,
          ingredientId,
          kind: 'count',
          quantity: BigInt(counted) - BigInt(row.on_hand),
          note,
          actorId: caller.userId,
        });
      });
      if (result.alert !== undefined) await announce(ownerId, [result.alert]);
      return { onHand: Number(result.onHand) };
    },
    async openAlerts(caller: Caller, restaurantId: string) {
      await mustManage(caller, restaurantId);
      const rows = await db
        .selectFrom('inventory_alerts as a')
        .innerJoin('inventory_ingredients as i', 'i.id', 'a.ingredient_id')
        .select(['a.id', 'a.kind', 'a.ingredient_id', 'i.name', 'a.lot_id', 'a.detail', 'a.raised_at'])
        .where('a.restaurant_id', '=', restaurantId)
        .where('a.resolved_at', 'is', null)
        .orderBy('a.raised_at', 'desc')
        .limit(MAX_INGREDIENTS * 2)
        .execute();
      return rows.map((row) => ({
        id: row.id,
        kind: row.kind,
        ingredientId: row.ingredient_id,
        name: row.name,
        lotId: row.lot_id,
        detail: row.detail,
        raisedAt: row.raised_at.toISOString(),
      }));
    },
    /** Suggested reorders: from the last CONSUMPTION_WINDOW_DAYS of use, the lead time and the cover wanted. */
    async reorders(caller: Caller, restaurantId: string) {
      await mustManage(caller, restaurantId);
      return reorderSuggestions(db, restaurantId, now());
    },
    /** The week from `weekStart` (a day, UTC): received, consumed, wasted by reason, counted, and what to reorder. */
    async weeklyReport(caller: Caller, restaurantId: string, weekStart: string) {
      await mustManage(caller, restaurantId);
      const from = new Date(`${weekStart}T00:00:00Z`);
      const to = new Date(`${addDays(weekStart, 7)}T00:00:00Z`);
      const [ingredients, movements] = await Promise.all([
        db
          .selectFrom('inventory_ingredients')
          .select(['id', 'name', 'unit', 'on_hand'])
          .where('restaurant_id', '=', restaurantId)
          .orderBy('name')
          .limit(MAX_INGREDIENTS)
          .execute(),
        db
          .selectFrom('inventory_movements')
          .select(['ingredient_id', 'kind', sql<string>`sum(quantity)`.as('quantity'), 'reason'])
          .where('restaurant_id', '=', restaurantId)
          .where('created_at', '>=', from)
          .where('created_at', '<', to)
          .groupBy(['ingredient_id', 'kind', 'reason'])
          .execute(),
      ]);
      const weeks = weekOf(
        movements.map((row) => ({
          ingredientId: row.ingredient_id,
          kind: row.kind,
          quantity: BigInt(row.quantity),
          reason: row.reason,
        })),
      );
      const lines = ingredients.map((ingredient) => {
        const week = weeks.get(ingredient.id);
        return {
          ingredientId: ingredient.id,
          name: ingredient.name,
          unit: ingredient.unit,
          onHandNow: Number(ingredient.on_hand),
          received: Number(week?.received ?? 0n),
          consumed: Number(week?.consumed ?? 0n),
          wasted: Number(week?.wasted ?? 0n),
          wastedByReason: Object.fromEntries(
            Object.entries(week?.wastedByReason ?? {}).map(([reason, quantity]) => [
              reason,
              Number(quantity),
            ]),
          ),
          counted: Number(week?.counted ?? 0n),
        };
      });
      return {
        restaurantId,
        weekStart,
        weekEnd: addDays(weekStart, 7),
        ingredients: lines,
        reorders: await reorderSuggestions(db, restaurantId, now()),
      };
    },
    /**
     * Raises an expiry alert for each lot with stock left that expires within EXPIRY_WARNING_DAYS
     * (or has expired), once per lot. Idempotent: run on every instance by the daily schedule.
     */
    async expirySweep(): Promise<number> {
      const today = now().toISOString().slice(0, 10);
      const raised = await sql<{
        restaurant_id: string;
        ingredient_id: string;
        lot_id: string;
        expires_on: string;
      }>`
        INSERT INTO inventory_alerts (restaurant_id, ingredient_id, kind, lot_id, detail)
        SELECT l.restaurant_id, l.ingredient_id, 'expiry', l.id,
               jsonb_build_object('expiresOn', l.expires_on::text, 'remaining', l.remaining::text)
        FROM inventory_lots l
        JOIN inventory_ingredients i ON i.id = l.ingredient_id AND i.archived_at IS NULL
        WHERE l.remaining > 0 AND l.expires_on <= ${addDays(today, EXPIRY_WARNING_DAYS)}::date
        ORDER BY l.expires_on
        LIMIT 1000
        ON CONFLICT (ingredient_id, kind, coalesce(lot_id, '00000000-0000-0000-0000-000000000000'::uuid))
          WHERE resolved_at IS NULL DO NOTHING
        RETURNING restaurant_id, ingredient_id, lot_id, detail->>'expiresOn' AS expires_on`.execute(db);
      for (const row of raised.rows) {
        const ownerId = await deps.catalog.restaurantOwnerId(row.restaurant_id);
        if (ownerId === undefined) continue;
        await deps.bus.publish([
          {
            audiences: [audiences.owner(ownerId)],
            message: {
              channel: 'inventory-alerts',
              type: 'expiry',
              at: now().toISOString(),
              data: {
                restaurantId: row.restaurant_id,
                ingredientId: row.ingredient_id,
                lotId: row.lot_id,
                expiresOn: row.expires_on,
              },
            },
          },
        ]);
      }
      if (raised.rows.length > 0)
        deps.logger.info({ alerts: raised.rows.length }, 'inventory expiry alerts raised');
      return raised.rows.length;
    },
  };
}

async function reorderSuggestions(db: InventoryDb, restaurantId: string, at: Date) {
  const since = new Date(at.getTime() - CONSUMPTION_WINDOW_DAYS * 86_400_000);
  const rows = await db
    .selectFrom('inventory_ingredients as i')
    .leftJoin(
      (join) =>
        join
          .selectFrom('inventory_movements')
          .select(['ingredient_id', sql<string>`-sum(quantity)`.as('used')])
          .where('restaurant_id', '=', restaurantId)
          .where('kind', 'in', ['consumption', 'return', 'wastage'])
          .where('created_at', '>=', since)
          .groupBy('ingredient_id')
          .as('m'),
      (join) => join.onRef('m.ingredient_id', '=', 'i.id'),
    )
    .select([
      'i.id',
      'i.name',
      'i.unit',
      'i.on_hand',
      'i.low_stock_threshold',
      'i.lead_time_days',
      'i.cover_days',
      'm.used',
    ])
    .where('i.restaurant_id', '=', restaurantId)
    .where('i.archived_at', 'is', null)
    .orderBy('i.name')
    .limit(MAX_INGREDIENTS)
    .execute();
  return rows.flatMap((row) => {
    const suggestion = suggestReorder({
      onHand: BigInt(row.on_hand),
      threshold: BigInt(row.low_stock_threshold),
      consumed: row.used === null ? 0n : BigInt(row.used),
      windowDays: CONSUMPTION_WINDOW_DAYS,
      leadTimeDays: row.lead_time_days,
      coverDays: row.cover_days,
    });
    return suggestion === undefined
      ? []
      : [
          {
            ingredientId: row.id,
            name: row.name,
            unit: row.unit,
            onHand: Number(row.on_hand),
            dailyUse: Number(suggestion.dailyUse),
            reorderPoint: Number(suggestion.reorderPoint),
            quantity: Number(suggestion.quantity),
          },
        ];
  });
}

export type Inventory = ReturnType<typeof createInventory>;
