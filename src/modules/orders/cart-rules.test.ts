import { describe, expect, it } from 'vitest';
import {
  addLine,
  CartError,
  EMPTY_CART,
  MAX_CART_QUANTITY,
  mergeCarts,
  normalizeCart,
} from './cart-rules.js';

const line = (itemId: string, quantity = 1, optionIds: string[] = []) => ({ itemId, quantity, optionIds });

describe('cart rules', () => {
  it('the same item with the same options (in any order) adds up into one line, capped', () => {
    const cart = normalizeCart({
      restaurantId: 'r1',
      items: [line('a', 2, ['x', 'y']), line('a', 3, ['y', 'x']), line('a', 1)],
    });
    expect(cart.items).toEqual([line('a', 5, ['x', 'y']), line('a', 1)]);
    expect(
      normalizeCart({ restaurantId: 'r1', items: [line('a', 40), line('a', 40)] }).items[0]!.quantity,
    ).toBe(MAX_CART_QUANTITY);
  });
  it("one restaurant per cart: adding another restaurant's item is refused unless replacing", () => {
    const cart = addLine(EMPTY_CART, 'r1', line('a'), false);
    expect(() => addLine(cart, 'r2', line('b'), false)).toThrow(CartError);
    expect(addLine(cart, 'r2', line('b'), true)).toEqual({ restaurantId: 'r2', items: [line('b')] });
  });
  it('refuses zero or huge quantities and items without a restaurant', () => {
    expect(() => normalizeCart({ restaurantId: 'r', items: [line('a', 0)] })).toThrow(CartError);
    expect(() => normalizeCart({ restaurantId: 'r', items: [line('a', 51)] })).toThrow(CartError);
    expect(() => normalizeCart({ restaurantId: null, items: [line('a')] })).toThrow(CartError);
  });
  it('on login: same restaurant merges lines; another restaurant lets the guest cart win; empty guest keeps the customer cart', () => {
    const customer = { restaurantId: 'r1', items: [line('a', 1)] };
    expect(mergeCarts(customer, { restaurantId: 'r1', items: [line('a', 2), line('b')] })).toEqual({
      restaurantId: 'r1',
      items: [line('a', 3), line('b')],
    });
    expect(mergeCarts(customer, { restaurantId: 'r2', items: [line('c')] })).toEqual({
      restaurantId: 'r2',
      items: [line('c')],
    });
    expect(mergeCarts(customer, EMPTY_CART)).toBe(customer);
  });
});
