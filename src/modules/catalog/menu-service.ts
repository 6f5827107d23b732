/**
 * Menu editing by the restaurant's owner (or an admin) and the cached public menu.
 * Every write runs in one transaction with its audit line, refreshes the search columns and the
 * menu version, then invalidates the in-memory menu cache.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction, Updateable } from 'kysely';
import type { CatalogTables } from './tables.js';
import { catalogErrors } from './errors.js';
import type { Caller, CatalogDependencies } from './context.js';
import type { MenuCache, RenderedMenu } from './menu-cache.js';
import { renderMenu, type Language } from './menu-view.js';
import type { CategoryRecord, ItemRecord, ModifierGroupRecord } from './model.js';
import type { CatalogRepository } from './repository.js';
import { cuisineText } from './restaurants.js';
import { fieldProblemsFr } from './rules/problems-fr.js';
import { validateSchedule, type AvailabilityWindow } from './rules/hours.js';
import {
  MAX_CATEGORIES_PER_RESTAURANT,
  MAX_ITEMS_PER_RESTAURANT,
  MAX_MODIFIER_GROUPS_PER_ITEM,
  validateModifierGroup,
  validatePrices,
  type Localized,
  type ModifierOption,
} from './rules/menu.js';
import type {
  CategoryInput,
  CategoryPatchInput,
  ItemInput,
  ItemPatchInput,
  ModifierGroupInput,
  ModifierGroupPatchInput,
} from './schemas.js';
import type { MenuCategoriesTable, MenuItemsTable, MenuModifierGroupsTable } from './tables.js';

type LocalizedInput = { fr?: string; en?: string };

function names(input: LocalizedInput): { fr: string; en: string | null } {
  const fr = input.fr?.trim() ?? input.en?.trim() ?? '';
  return { fr, en: input.en?.trim() ?? null };
}

function localizedOf(input: LocalizedInput): Localized {
  const { fr, en } = names(input);
  return en === null ? { fr } : { fr, en };
}

function checkSchedule(schedule: AvailabilityWindow[] | null | undefined): string | null | undefined {
  if (schedule === undefined) return undefined;
  if (schedule === null) return null;
  const problems = validateSchedule(schedule);
  if (problems.length > 0)
    throw catalogErrors.of('validation', 'invalid_schedule', problems.join('; '), {
      detailFr: fieldProblemsFr(problems).join(' ; '),
    });
  return JSON.stringify(schedule);
}

function checkPrices(prices: {
  price: number;
  discountPrice?: number | null;
  costPrice?: number | null;
}): void {
  const problems = validatePrices(prices);
  if (problems.length > 0) throw catalogErrors.of('validation', 'invalid_price', problems.join('; '));
}

function checkGroup(group: {
  minSelections: number;
  maxSelections: number;
  options: ModifierGroupInput['options'];
}): ModifierOption[] {
  const options: ModifierOption[] = group.options.map((option) => ({
    id: option.id ?? randomUUID(),
    name: localizedOf(option.name),
    priceDelta: option.priceDelta ?? 0,
    available: option.available ?? true,
  }));
  const problems = validateModifierGroup({ ...group, options });
  if (problems.length > 0) {
    const code =
      group.minSelections > group.maxSelections ? 'modifier_min_exceeds_max' : 'invalid_modifier_group';
    throw catalogErrors.of('validation', code, problems.join('; '));
  }
  return options;
}

export function itemOwnerView(item: ItemRecord) {
  return {
    id: item.id,
    categoryId: item.categoryId,
    name: item.name,
    ...(item.description === undefined ? {} : { description: item.description }),
    price: Number(item.price),
    discountPrice: item.discountPrice === null ? null : Number(item.discountPrice),
    costPrice: item.costPrice === null ? null : Number(item.costPrice),
    images: item.images,
    allergens: item.allergens,
    nutrition: item.nutrition,
    prepTimeMinutes: item.prepTimeMinutes,
    schedule: item.schedule,
    stock: item.stock,
    isAvailable: item.isAvailable,
    position: item.position,
    archived: item.archived,
  };
}

/**
 * What the menu shows beside its dishes and until when that stays true (loyalty's promotions,
 * registered at start through `Catalog.useMenuPromotions`; none until then).
 */
export type MenuPromotionSource = (
  restaurantId: string,
  at: Date,
) => Promise<{ items: readonly unknown[]; validUntilMs: number }>;

export function createMenuService(
  deps: CatalogDependencies,
  repository: CatalogRepository,
  cache: MenuCache,
  promotionsOf: () => MenuPromotionSource | undefined = () => undefined,
) {
  const now = deps.now ?? (() => new Date());

  /** Loads the restaurant and refuses anyone but its owner or an admin. */
  async function authorize(
    caller: Caller,
    restaurantId: string,
  ): Promise<{ ownerId: string; cuisines: string[] }> {
    const restaurant = await repository.findRestaurant(restaurantId);
    if (restaurant === undefined)
      throw catalogErrors.of('not_found', 'restaurant_not_found', 'No such restaurant.');
    if (!caller.isAdmin && restaurant.ownerId !== caller.userId) {
      throw catalogErrors.of(
        'forbidden',
        'not_restaurant_owner',
        "Only this restaurant's owner or an admin may edit its menu.",
      );
    }
    return { ownerId: restaurant.ownerId, cuisines: restaurant.cuisines };
  }

  /** Runs a menu write with its audit line and the derived refresh, then drops the cached menu. */
  async function write<T>(
    caller: Caller,
    restaurantId: string,
    audit: { action: string; resource: (result: T) => string; oldValue?: unknown; newValue: unknown },
    work: (transaction: Transaction<CatalogTables>) => Promise<T>,
  ): Promise<T> {
    const owner = await authorize(caller, restaurantId);
    const result = await deps.db.transaction().execute(async (transaction) => {
      const value = await work(transaction);
      await repository.refreshRestaurantDerived(restaurantId, cuisineText(owner.cuisines), transaction);
      await deps.audit(
        {
          action: audit.action,
          actor: caller.actor,
          subjectUserId: owner.ownerId,
          resource: audit.resource(value),
          oldValue: audit.oldValue,
          newValue: audit.newValue,
        },
        transaction,
      );
      return value;
    });
    cache.invalidate(restaurantId);
    return result;
  }

  async function existingCategory(restaurantId: string, categoryId: string): Promise<CategoryRecord> {
    const category = await repository.findCategory(restaurantId, categoryId);
    if (category === undefined)
      throw catalogErrors.of('not_found', 'category_not_found', 'No such category in this restaurant.');
    return category;
  }

  async function existingItem(restaurantId: string, itemId: string): Promise<ItemRecord> {
    const item = await repository.findItem(restaurantId, itemId);
    if (item === undefined)
      throw catalogErrors.of('not_found', 'menu_item_not_found', 'No such item in this restaurant.');
    return item;
  }

  async function existingGroup(restaurantId: string, groupId: string): Promise<ModifierGroupRecord> {
    const group = await repository.findModifierGroup(restaurantId, groupId);
    if (group === undefined)
      throw catalogErrors.of(
        'not_found',
        'modifier_group_not_found',
        'No such modifier group in this restaurant.',
      );
    return group;
  }

  return {
    async createCategory(
      caller: Caller,
      restaurantId: string,
      input: CategoryInput,
    ): Promise<CategoryRecord> {
      const schedule = checkSchedule(input.schedule as AvailabilityWindow[] | null | undefined);
      await authorize(caller, restaurantId);
      const counts = await repository.countMenuRows(restaurantId);
      if (counts.categories >= MAX_CATEGORIES_PER_RESTAURANT) {
        throw catalogErrors.of(
          'conflict',
          'menu_limit_reached',
          `A menu holds at most ${MAX_CATEGORIES_PER_RESTAURANT} categories.`,
        );
      }
      const name = names(input.name);
      const id = await write(
        caller,
        restaurantId,
        {
          action: 'menu.category_created',
          resource: (categoryId: string) => `menu_category:${categoryId}`,
          newValue: input,
        },
        (transaction) =>
          repository.insertCategory(
            {
              restaurant_id: restaurantId,
              name_fr: name.fr,
              name_en: name.en,
              position: input.position ?? counts.categories,
              schedule: schedule ?? null,
              archived_at: null,
              updated_at: new Date(),
            },
            transaction,
          ),
      );
      return existingCategory(restaurantId, id);
    },

    async updateCategory(
      caller: Caller,
      restaurantId: string,
      categoryId: string,
      patch: CategoryPatchInput,
    ): Promise<CategoryRecord> {
      const schedule = checkSchedule(patch.schedule as AvailabilityWindow[] | null | undefined);
      await authorize(caller, restaurantId);
      const before = await existingCategory(restaurantId, categoryId);
      const values: Updateable<MenuCategoriesTable> = {};
      if (patch.name !== undefined)
        Object.assign(values, { name_fr: names(patch.name).fr, name_en: names(patch.name).en });
      if (patch.position !== undefined) values.position = patch.position;
      if (schedule !== undefined) values.schedule = schedule;
      if (patch.archived !== undefined) values.archived_at = patch.archived ? new Date() : null;
      await write(
        caller,
        restaurantId,
        {
          action: 'menu.category_updated',
          resource: () => `menu_category:${categoryId}`,
          oldValue: before,
          newValue: patch,
        },
        (transaction) => repository.updateCategory(categoryId, values, transaction),
      );
      return existingCategory(restaurantId, categoryId);
    },

    async createItem(caller: Caller, restaurantId: string, input: ItemInput): Promise<ItemRecord> {
      checkPrices(input);
      const schedule = checkSchedule(input.schedule as AvailabilityWindow[] | null | undefined);
      await authorize(caller, restaurantId);
      const category = await existingCategory(restaurantId, input.categoryId);
      if (category.archived)
        throw catalogErrors.of('conflict', 'category_archived', 'The category is archived.');
      const counts = await repository.countMenuRows(restaurantId);
      if (counts.items >= MAX_ITEMS_PER_RESTAURANT) {
        throw catalogErrors.of(
          'conflict',
          'menu_limit_reached',
          `A menu holds at most ${MAX_ITEMS_PER_RESTAURANT} items.`,
        );
      }
      const id = await write(
        caller,
        restaurantId,
        { action: 'menu.item_created', resource: (itemId: string) => `menu_item:${itemId}`, newValue: input },
        async (transaction) => {
          const itemId = await repository.insertItem(
            {
              restaurant_id: restaurantId,
              images: [],
              allergens: [],
              ...itemColumns(input),
              schedule: schedule ?? null,
              archived_at: null,
              updated_at: new Date(),
            },
            transaction,
          );
          await repository.refreshItemSearch(restaurantId, [itemId], transaction);
          return itemId;
        },
      );
      return existingItem(restaurantId, id);
    },

    async updateItem(
      caller: Caller,
      restaurantId: string,
      itemId: string,
      patch: ItemPatchInput,
    ): Promise<ItemRecord> {
      await authorize(caller, restaurantId);
      const before = await existingItem(restaurantId, itemId);
      const price = patch.price ?? Number(before.price);
      const discountPrice =
        patch.discountPrice === undefined
          ? before.discountPrice === null
            ? null
            : Number(before.discountPrice)
          : patch.discountPrice;
      checkPrices({ price, discountPrice, costPrice: patch.costPrice });
      const schedule = checkSchedule(patch.schedule as AvailabilityWindow[] | null | undefined);
      if (patch.categoryId !== undefined) await existingCategory(restaurantId, patch.categoryId);
      const values: Updateable<MenuItemsTable> = itemColumns(patch);
      if (schedule !== undefined) values.schedule = schedule;
      if (patch.archived !== undefined) values.archived_at = patch.archived ? new Date() : null;
      await write(
        caller,
        restaurantId,
        {
          action: 'menu.item_updated',
          resource: () => `menu_item:${itemId}`,
          oldValue: itemOwnerView(before),
          newValue: patch,
        },
        async (transaction) => {
          await repository.updateItem(itemId, values, transaction);
          if (patch.name !== undefined)
            await repository.refreshItemSearch(restaurantId, [itemId], transaction);
        },
      );
      return existingItem(restaurantId, itemId);
    },

    async createModifierGroup(
      caller: Caller,
      restaurantId: string,
      input: ModifierGroupInput,
    ): Promise<ModifierGroupRecord> {
      const options = checkGroup(input);
      await authorize(caller, restaurantId);
      await existingItem(restaurantId, input.itemId);
      if ((await repository.countModifierGroups(input.itemId)) >= MAX_MODIFIER_GROUPS_PER_ITEM) {
        throw catalogErrors.of(
          'conflict',
          'menu_limit_reached',
          `An item has at most ${MAX_MODIFIER_GROUPS_PER_ITEM} modifier groups.`,
        );
      }
      const name = names(input.name);
      const id = await write(
        caller,
        restaurantId,
        {
          action: 'menu.modifier_group_created',
          resource: (groupId: string) => `menu_modifier_group:${groupId}`,
          newValue: input,
        },
        (transaction) =>
          repository.insertModifierGroup(
            {
              restaurant_id: restaurantId,
              item_id: input.itemId,
              name_fr: name.fr,
              name_en: name.en,
              min_selections: input.minSelections,
              max_selections: input.maxSelections,
              options: JSON.stringify(options),
              position: input.position ?? 0,
              archived_at: null,
              updated_at: new Date(),
            },
            transaction,
          ),
      );
      return existingGroup(restaurantId, id);
    },

    async updateModifierGroup(
      caller: Caller,
      restaurantId: string,
      groupId: string,
      patch: ModifierGroupPatchInput,
    ): Promise<ModifierGroupRecord> {
      await authorize(caller, restaurantId);
      const before = await existingGroup(restaurantId, groupId);
      const minSelections = patch.minSelections ?? before.minSelections;
      const maxSelections = patch.maxSelections ?? before.maxSelections;
      const optionInput = patch.options ?? before.options;
      const options = checkGroup({ minSelections, maxSelections, options: optionInput });
      const values: Updateable<MenuModifierGroupsTable> = {
        min_selections: minSelections,
        max_selections: maxSelections,
        options: JSON.stringify(options),
      };
      if (patch.name !== undefined)
        Object.assign(values, { name_fr: names(patch.name).fr, name_en: names(patch.name).en });
      if (patch.position !== undefined) values.position = patch.position;
      if (patch.archived !== undefined) values.archived_at = patch.archived ? new Date() : null;
      await write(
        caller,
        restaurantId,
        {
          action: 'menu.modifier_group_updated',
          resource: () => `menu_modifier_group:${groupId}`,
          oldValue: before,
          newValue: patch,
        },
        (transaction) => repository.updateModifierGroup(groupId, values, transaction),
      );
      return existingGroup(restaurantId, groupId);
    },

    /** The public menu, rendered once per version and language and served from memory. */
    async view(
      restaurantId: string,
      language: Language,
      viewer: { userId: string; isAdmin: boolean } | undefined,
    ): Promise<RenderedMenu> {
      const instant = now();
      const menu = await cache.load(restaurantId, language, instant.getTime(), async () => {
        const loaded = await repository.loadMenu(restaurantId);
        if (loaded === undefined) return undefined;
        const rendered = renderMenu(loaded, language, instant);
        const source = promotionsOf();
        const promotions = source === undefined ? undefined : await source(restaurantId, instant);
        return {
          ...rendered,
          ...(promotions === undefined
            ? {}
            : {
                // Left out when none, as every empty field of the menu.
                body:
                  promotions.items.length === 0
                    ? rendered.body
                    : { ...rendered.body, promotions: promotions.items },
                validUntilMs: Math.min(rendered.validUntilMs, promotions.validUntilMs),
              }),
          active: loaded.restaurant.status === 'active',
        };
      });
      if (menu === undefined)
        throw catalogErrors.of('not_found', 'restaurant_not_found', 'No such restaurant.');
      if (!menu.active) {
        const owner = await repository.ownerOf(restaurantId);
        const privileged = viewer !== undefined && (viewer.isAdmin || viewer.userId === owner?.ownerId);
        if (!privileged) throw catalogErrors.of('not_found', 'restaurant_not_found', 'No such restaurant.');
      }
      return menu;
    },
  };
}

function itemColumns(
  input: Partial<ItemInput>,
): Updateable<MenuItemsTable> & { category_id: string; name_fr: string; price: number } {
  const values: Record<string, unknown> = {};
  if (input.categoryId !== undefined) values.category_id = input.categoryId;
  if (input.name !== undefined)
    Object.assign(values, { name_fr: names(input.name).fr, name_en: names(input.name).en });
  if (input.description !== undefined)
    Object.assign(values, {
      description_fr: names(input.description).fr,
      description_en: names(input.description).en,
    });
  if (input.price !== undefined) values.price = input.price;
  if (input.discountPrice !== undefined) values.discount_price = input.discountPrice;
  if (input.costPrice !== undefined) values.cost_price = input.costPrice;
  if (input.images !== undefined) values.images = input.images;
  if (input.allergens !== undefined) values.allergens = input.allergens;
  if (input.nutrition !== undefined)
    values.nutrition = input.nutrition === null ? null : JSON.stringify(input.nutrition);
  if (input.prepTimeMinutes !== undefined) values.prep_time_minutes = input.prepTimeMinutes;
  if (input.stock !== undefined) values.stock = input.stock;
  if (input.isAvailable !== undefined) values.is_available = input.isAvailable;
  if (input.position !== undefined) values.position = input.position;
  return values as Updateable<MenuItemsTable> & { category_id: string; name_fr: string; price: number };
}
