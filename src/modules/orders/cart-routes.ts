/**
 * Cart routes. Public (visitors have carts before any sign-in): a signed-in customer's cart is
 * keyed by the user; anyone else sends `X-Cart-Token` (given out by the first write). A request
 * that carries both a customer's token and a cart token merges the guest cart into the customer's
 * (the app sends its cart token once right after login).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteAccess } from '../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { addLine, CartError, EMPTY_CART, normalizeCart, type Cart } from './cart-rules.js';
import { isCartToken, newCartToken, type CartOwner, type Carts } from './carts.js';
import { CartBody, CartItemBody, CartResponse } from './schemas.js';

const PUBLIC: RouteAccess = {
  public: true,
  description: "visitors, guests and customers; the cart is the caller's own (user or X-Cart-Token)",
};
const tags = ['carts'];
const errors = { 400: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema };

function cartTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-cart-token'];
  const token = Array.isArray(header) ? header[0] : header;
  if (token === undefined || token === '') return undefined;
  if (!isCartToken(token))
    throw new HttpProblem(400, 'invalid_cart_token', 'X-Cart-Token is not a token this API gave out.');
  return token;
}

function cartProblem(error: unknown): never {
  if (error instanceof CartError)
    throw new HttpProblem(error.code === 'cart_other_restaurant' ? 409 : 422, error.code, error.message);
  throw error;
}

export function registerCartRoutes(root: FastifyInstance, carts: Carts): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  /** The caller's cart owner; merges a guest cart into a signed-in customer's on the way. */
  async function ownerOf(
    request: FastifyRequest,
    create: boolean,
  ): Promise<{ owner: CartOwner | undefined; issued?: string }> {
    const principal = request.principal;
    const token = cartTokenOf(request);
    if (principal !== null && principal.kind === 'user') {
      if (token !== undefined) await carts.mergeIntoUser(principal.userId, token);
      return { owner: { kind: 'user', userId: principal.userId } };
    }
    if (token !== undefined) return { owner: { kind: 'token', token } };
    if (!create) return { owner: undefined };
    const issued = newCartToken();
    return { owner: { kind: 'token', token: issued }, issued };
  }

  const respond = (cart: Cart & { expiresAt: string | null }, issued?: string) => ({
    ...cart,
    ...(issued === undefined ? {} : { cartToken: issued }),
  });

  app.get('/v1/cart', {
    config: { access: PUBLIC },
    schema: {
      tags,
      summary: "The caller's cart (guests: X-Cart-Token; expires 30 minutes after the last change)",
      response: { 200: CartResponse, ...errors },
    },
    handler: async (request) => {
      const { owner } = await ownerOf(request, false);
      return owner === undefined ? { ...EMPTY_CART, expiresAt: null } : carts.read(owner);
    },
  });

  app.put('/v1/cart', {
    config: { access: PUBLIC },
    schema: {
      tags,
      summary: 'Replace the cart (one restaurant per cart)',
      body: CartBody,
      response: { 200: CartResponse, ...errors },
    },
    handler: async (request) => {
      const { owner, issued } = await ownerOf(request, true);
      let cart: Cart;
      try {
        cart = normalizeCart({ restaurantId: request.body.restaurantId, items: request.body.items });
      } catch (error) {
        cartProblem(error);
      }
      return respond(await carts.write(owner!, cart), issued);
    },
  });

  app.post('/v1/cart/items', {
    config: { access: PUBLIC },
    schema: {
      tags,
      summary: 'Add a line (another restaurant: 409 unless replaceCart)',
      body: CartItemBody,
      response: { 200: CartResponse, ...errors },
    },
    handler: async (request) => {
      const { owner, issued } = await ownerOf(request, true);
      const body = request.body;
      const current = await carts.read(owner!);
      let cart: Cart;
      try {
        cart = addLine(
          current,
          body.restaurantId,
          { itemId: body.itemId, quantity: body.quantity, optionIds: body.optionIds ?? [] },
          body.replaceCart === true,
        );
      } catch (error) {
        cartProblem(error);
      }
      return respond(await carts.write(owner!, cart), issued);
    },
  });

  app.delete('/v1/cart', {
    config: { access: PUBLIC },
    schema: { tags, summary: 'Empty the cart', response: { 204: { type: 'null' }, ...errors } },
    handler: async (request, reply) => {
      const { owner } = await ownerOf(request, false);
      if (owner !== undefined) await carts.remove(owner);
      return (reply as FastifyReply).code(204).send() as never;
    },
  });
}
