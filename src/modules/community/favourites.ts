/**
 * Favourites (issue #27): a customer's restaurants and dishes, shown with their public face from
 * the catalog, and the quick reorder from them. A quick reorder fills the customer's cart (a
 * favourite dish added to it; a favourite restaurant's last order of theirs copied into it), and
 * the customer checks out as usual: prices, availability, stock and payment are all decided by
 * the orders context at placement, so nothing here touches money.
 */
import type { CatalogCommunityApi, DishCard, RestaurantCard } from '../catalog/index.js';
import type { Cart, CartLine } from '../orders/index.js';
import { communityErrors } from './errors.js';
import { MAX_FAVOURITES_PER_KIND, type FavouritesRepository } from './repository.js';
import type { FavouriteKind } from './tables.js';

/** What community uses of the orders context: the customer's cart and their past orders. */
export interface CommunityOrdersPort {
  readCart(userId: string): Promise<Cart>;
  /** Replaces the cart with these lines of one restaurant (the cart's rules and limits apply). */
  writeCart(userId: string, restaurantId: string, lines: CartLine[]): Promise<Cart>;
  /** The lines of the customer's newest order at this restaurant, or undefined when none. */
  lastOrderLines(
    userId: string,
    restaurantId: string,
  ): Promise<{ orderId: string; lines: CartLine[] } | undefined>;
}

export interface FavouriteRestaurant extends RestaurantCard {
  favouritedAt: string;
}
export interface FavouriteDish extends DishCard {
  favouritedAt: string;
}

export interface FavouritesDependencies {
  repository: FavouritesRepository;
  catalog: CatalogCommunityApi;
  orders: () => CommunityOrdersPort;
}

const lineKey = (line: CartLine) => `${line.itemId}|${[...line.optionIds].sort().join(',')}|${line.quantity}`;

function sameLines(cart: Cart, restaurantId: string, lines: CartLine[]): boolean {
  if (cart.restaurantId !== restaurantId || cart.items.length !== lines.length) return false;
  const wanted = new Set(lines.map(lineKey));
  return cart.items.every((line) => wanted.has(lineKey(line)));
}

export function createFavourites({ repository, catalog, orders }: FavouritesDependencies) {
  /** A restaurant may be favourited while active; a dish while it is on an active restaurant's menu. */
  async function mustExist(kind: FavouriteKind, targetId: string): Promise<void> {
    if (kind === 'restaurant') {
      const [card] = await catalog.restaurantCards([targetId]);
      if (card === undefined || !card.active)
        throw communityErrors.of('not_found', 'restaurant_not_found', 'There is no such restaurant.');
      return;
    }
    const [card] = await catalog.dishCards([targetId]);
    if (card === undefined || !card.listed)
      throw communityErrors.of('not_found', 'menu_item_not_found', 'There is no such dish on a menu.');
  }

  return {
    /** Idempotent: favouriting twice is one favourite. Answers whether it was new. */
    async add(userId: string, kind: FavouriteKind, targetId: string): Promise<{ created: boolean }> {
      await mustExist(kind, targetId);
      const outcome = await repository.add(userId, kind, targetId);
      if (outcome === 'full')
        throw communityErrors.of(
          'unprocessable',
          'favourites_full',
          `At most ${MAX_FAVOURITES_PER_KIND} favourites of each kind; remove one first.`,
        );
      return { created: outcome === 'added' };
    },
    /** Idempotent: removing what is not a favourite changes nothing. */
    async remove(userId: string, kind: FavouriteKind, targetId: string): Promise<void> {
      await repository.remove(userId, kind, targetId);
    },
    async list(userId: string): Promise<{ restaurants: FavouriteRestaurant[]; dishes: FavouriteDish[] }> {
      const rows = await repository.list(userId);
      const ids = (kind: FavouriteKind) => rows.filter((row) => row.kind === kind).map((row) => row.targetId);
      const [restaurantCards, dishCards] = await Promise.all([
        catalog.restaurantCards(ids('restaurant')),
        catalog.dishCards(ids('dish')),
      ]);
      const restaurants = new Map(restaurantCards.map((card) => [card.id, card]));
      const dishes = new Map(dishCards.map((card) => [card.id, card]));
      const result = { restaurants: [] as FavouriteRestaurant[], dishes: [] as FavouriteDish[] };
      for (const row of rows) {
        const favouritedAt = row.createdAt.toISOString();
        // A row whose target the catalog no longer has (erased) is left out, not an error.
        if (row.kind === 'restaurant') {
          const card = restaurants.get(row.targetId);
          if (card !== undefined) result.restaurants.push({ ...card, favouritedAt });
        } else {
          const card = dishes.get(row.targetId);
          if (card !== undefined) result.dishes.push({ ...card, favouritedAt });
        }
      }
      return result;
    },
    /**
     * Quick reorder of a favourite dish: the cart then holds `quantity` of it (without options).
     * It sets the line rather than adding to it, so a retried request leaves the same cart.
     */
    async dishToCart(userId: string, itemId: string, quantity: number, replaceCart: boolean): Promise<Cart> {
      if (!(await repository.has(userId, 'dish', itemId)))
        throw communityErrors.of(
          'not_found',
          'favourite_not_found',
          'This dish is not one of your favourites.',
        );
      const [card] = await catalog.dishCards([itemId]);
      if (card === undefined || !card.orderable)
        throw communityErrors.of('conflict', 'favourite_unavailable', 'This dish cannot be ordered now.');
      const port = orders();
      const current = await port.readCart(userId);
      const sameRestaurant = current.restaurantId === card.restaurantId || current.items.length === 0;
      if (!sameRestaurant && !replaceCart)
        throw communityErrors.of(
          'conflict',
          'cart_other_restaurant',
          "The cart holds another restaurant's dishes; send replaceCart: true to start over.",
        );
      const kept = sameRestaurant
        ? current.items.filter((line) => line.itemId !== itemId || line.optionIds.length > 0)
        : [];
      return port.writeCart(userId, card.restaurantId, [...kept, { itemId, quantity, optionIds: [] }]);
    },
    /**
     * Quick reorder from a favourite restaurant: the customer's newest order there, copied into
     * the cart (the cart's current content is replaced only when `replaceCart`).
     */
    async restaurantToCart(userId: string, restaurantId: string, replaceCart: boolean): Promise<Cart> {
      if (!(await repository.has(userId, 'restaurant', restaurantId)))
        throw communityErrors.of(
          'not_found',
          'favourite_not_found',
          'This restaurant is not one of your favourites.',
        );
      const [card] = await catalog.restaurantCards([restaurantId]);
      if (card === undefined || !card.active)
        throw communityErrors.of('conflict', 'favourite_unavailable', 'This restaurant takes no orders now.');
      const port = orders();
      const last = await port.lastOrderLines(userId, restaurantId);
      if (last === undefined)
        throw communityErrors.of(
          'not_found',
          'no_previous_order',
          'You have not ordered from this restaurant yet; open its menu.',
        );
      const current = await port.readCart(userId);
      // A retry of a request that already filled the cart finds it so and answers it again.
      if (sameLines(current, restaurantId, last.lines)) return current;
      if (current.items.length > 0 && !replaceCart)
        throw communityErrors.of(
          'conflict',
          'cart_not_empty',
          'Your cart already holds dishes; send replaceCart: true to replace them.',
        );
      return port.writeCart(userId, restaurantId, last.lines);
    },
  };
}

export type Favourites = ReturnType<typeof createFavourites>;
