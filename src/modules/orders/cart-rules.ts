/**
 * Cart rules (pure). A cart holds lines of one restaurant; guests' carts (an anonymous cart
 * token) expire 30 minutes after their last change; customers' carts are kept. On login the
 * guest cart merges into the customer's: same restaurant → lines are added (the same item with
 * the same options adds quantities, capped); another restaurant → the guest cart, the one the
 * person was just building, replaces the older one.
 */
export const GUEST_CART_TTL_MS = 30 * 60_000;
export const MAX_CART_LINES = 50;
export const MAX_CART_QUANTITY = 50;
export const MAX_OPTIONS_PER_LINE = 20;

export interface CartLine {
  itemId: string;
  quantity: number;
  optionIds: string[];
}

export interface Cart {
  restaurantId: string | null;
  items: CartLine[];
}

export const EMPTY_CART: Cart = { restaurantId: null, items: [] };

export class CartError extends Error {
  constructor(
    readonly code: 'cart_other_restaurant' | 'cart_invalid',
    message: string,
  ) {
    super(message);
    this.name = 'CartError';
  }
}

const lineKey = (line: CartLine) => `${line.itemId}|${[...line.optionIds].sort().join(',')}`;

export function normalizeCart(cart: Cart): Cart {
  if (cart.items.length === 0) return EMPTY_CART;
  if (cart.restaurantId === null)
    throw new CartError('cart_invalid', 'A cart with items names its restaurant.');
  const merged = new Map<string, CartLine>();
  for (const line of cart.items) {
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 1 || line.quantity > MAX_CART_QUANTITY) {
      throw new CartError('cart_invalid', `A quantity is 1 to ${MAX_CART_QUANTITY}.`);
    }
    if (line.optionIds.length > MAX_OPTIONS_PER_LINE)
      throw new CartError('cart_invalid', `At most ${MAX_OPTIONS_PER_LINE} options per line.`);
    const key = lineKey(line);
    const existing = merged.get(key);
    const quantity = Math.min((existing?.quantity ?? 0) + line.quantity, MAX_CART_QUANTITY);
    merged.set(key, { itemId: line.itemId, optionIds: [...line.optionIds].sort(), quantity });
  }
  if (merged.size > MAX_CART_LINES)
    throw new CartError('cart_invalid', `A cart holds at most ${MAX_CART_LINES} lines.`);
  return { restaurantId: cart.restaurantId, items: [...merged.values()] };
}

export function addLine(
  cart: Cart,
  restaurantId: string,
  line: CartLine,
  replaceOtherRestaurant: boolean,
): Cart {
  if (cart.restaurantId !== null && cart.restaurantId !== restaurantId && cart.items.length > 0) {
    if (!replaceOtherRestaurant) {
      throw new CartError(
        'cart_other_restaurant',
        "The cart holds another restaurant's items; send replaceCart: true to start over.",
      );
    }
    return normalizeCart({ restaurantId, items: [line] });
  }
  return normalizeCart({ restaurantId, items: [...cart.items, line] });
}

export function mergeCarts(customer: Cart, guest: Cart): Cart {
  if (guest.items.length === 0) return customer;
  if (customer.items.length === 0 || customer.restaurantId !== guest.restaurantId)
    return normalizeCart(guest);
  return normalizeCart({ restaurantId: guest.restaurantId, items: [...customer.items, ...guest.items] });
}
