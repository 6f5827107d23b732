/**
 * Inventory routes (docs/inventory.md), under `/v1/restaurants/{id}/inventory`: the restaurant's
 * owner (or an admin) manages ingredients, recipes, receipts, wastage and counts, and reads the
 * alerts, the reorder suggestions and the weekly report. Anyone else gets 404 (nothing is said of
 * another owner's restaurant). Receipts and wastage add to the stock's journal, so a retried
 * request must carry the same Idempotency-Key (required); a count sets the stock and is safe to
 * repeat.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Db } from '../../db/database.js';
import type { RouteAccess } from '../../http/access.js';
import { withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { addDays, WASTAGE_REASONS } from './rules.js';
import { MAX_RECIPE_LINES, type Caller, type Inventory } from './service.js';

const MANAGER: RouteAccess = {
  permissions: ['MENU_CRUD'],
  ownership: 'the owner of the restaurant (or an admin)',
};
const tags = ['inventory'];
const problems = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
  429: ProblemSchema,
};
const Uuid = Type.String({ format: 'uuid' });
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', format: 'date' });
/** A quantity in the ingredient's base unit (g, ml, pieces): up to 100 tonnes of grams. */
const Quantity = Type.Integer({ minimum: 1, maximum: 100_000_000 });
const Restaurant = Type.Object({ id: Uuid });
const IngredientParams = Type.Object({ id: Uuid, ingredientId: Uuid });
const ItemParams = Type.Object({ id: Uuid, itemId: Uuid });
const Note = Type.String({ minLength: 1, maxLength: 280 });

const IngredientSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  unit: Type.String(),
  onHand: Type.Integer({
    description: 'in the base unit; negative when more was used than received (count it)',
  }),
  lowStockThreshold: Type.Integer(),
  leadTimeDays: Type.Integer(),
  coverDays: Type.Integer(),
});
const Settings = {
  lowStockThreshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
  leadTimeDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 60, description: "the supplier's delay" })),
  coverDays: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 60, description: 'days a reorder should last' }),
  ),
};
const IngredientBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80, pattern: '\\S' }),
    unit: Type.Union([Type.Literal('g'), Type.Literal('ml'), Type.Literal('piece')]),
    ...Settings,
  },
  { additionalProperties: false },
);
const IngredientPatch = Type.Object(Settings, { additionalProperties: false, minProperties: 1 });
const RecipeBody = Type.Object(
  {
    ingredients: Type.Array(
      Type.Object({ ingredientId: Uuid, quantity: Quantity }, { additionalProperties: false }),
      {
        maxItems: MAX_RECIPE_LINES,
      },
    ),
  },
  { additionalProperties: false },
);
const ReceiptBody = Type.Object(
  { quantity: Quantity, expiresOn: Type.Optional(Type.Union([Day, Type.Null()])) },
  { additionalProperties: false },
);
const WastageBody = Type.Object(
  {
    quantity: Quantity,
    reason: Type.Union(WASTAGE_REASONS.map((reason) => Type.Literal(reason))),
    note: Type.Optional(Note),
  },
  { additionalProperties: false },
);
const CountBody = Type.Object(
  { counted: Type.Integer({ minimum: 0, maximum: 100_000_000 }), note: Type.Optional(Note) },
  { additionalProperties: false },
);
const StockSchema = Type.Object({ onHand: Type.Integer() });
const AnyObject = Type.Object({}, { additionalProperties: true });
const ReportQuery = Type.Object({
  weekStart: Type.Optional(Day),
});

function callerOf(request: FastifyRequest): Caller {
  const principal = request.principal;
  if (principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return {
    userId: principal.userId,
    admin: principal.permissions.has('FULL_SYSTEM_ACCESS'),
    requestId: request.id,
  };
}

/** The Monday that starts the last full week (UTC) before `at`. */
function lastWeekStart(at: Date): string {
  const today = at.toISOString().slice(0, 10);
  const sinceMonday = (at.getUTCDay() + 6) % 7;
  return addDays(today, -sinceMonday - 7);
}

export function registerInventoryRoutes(root: FastifyInstance, inventory: Inventory, db: Db): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/v1/restaurants/:id/inventory';

  app.get(`${base}/ingredients`, {
    config: { access: MANAGER },
    schema: {
      tags,
      summary: "The restaurant's ingredients and their stock",
      params: Restaurant,
      response: { 200: Type.Object({ items: Type.Array(IngredientSchema) }), ...problems },
    },
    handler: async (request) => ({
      items: await inventory.listIngredients(callerOf(request), request.params.id),
    }),
  });
  app.get(`${base}/ingredients/:ingredientId`, {
    config: { access: MANAGER },
    schema: {
      tags,
      summary: 'One ingredient and its stock',
      params: IngredientParams,
      response: { 200: IngredientSchema, ...problems },
    },
    handler: async (request) =>
      inventory.ingredient(callerOf(request), request.params.id, request.params.ingredientId),
  });
  app.post(`${base}/ingredients`, {
    config: { access: MANAGER, idempotency: 'optional', location: true },
    schema: {
      tags,
      summary: 'Add an ingredient (unit g, ml or piece; low-stock threshold, lead time, cover)',
      params: Restaurant,
      body: IngredientBody,
      response: { 201: IngredientSchema, ...problems },
    },
    handler: async (request, reply) => {
      const caller = callerOf(request);
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `inventory:ingredient:${caller.userId}` },
        async () => {
          const created = await inventory.createIngredient(caller, request.params.id, request.body);
          reply.header(
            'location',
            `/v1/restaurants/${request.params.id}/inventory/ingredients/${created.id}`,
          );
          return { statusCode: 201, body: created };
        },
      ) as never;
    },
  });
  app.patch(`${base}/ingredients/:ingredientId`, {
    config: { access: MANAGER },
    schema: {
      tags,
      summary: "Change an ingredient's threshold, lead time or cover",
      params: IngredientParams,
      body: IngredientPatch,
      response: { 200: IngredientSchema, ...problems },
    },
    handler: async (request) =>
      inventory.updateIngredient(
        callerOf(request),
        request.params.id,
        request.params.ingredientId,
        request.body,
      ),
  });
  app.put(`${base}/recipes/:itemId`, {
    config: { access: MANAGER },
    schema: {
      tags,
      summary: "Set a dish's recipe: each ingredient's quantity per portion (orders then take it)",
      params: ItemParams,
      body: RecipeBody,
      response: {
        200: Type.Object({
          itemId: Type.String(),
          ingredients: Type.Array(Type.Object({ ingredientId: Type.String(), quantity: Type.Integer() })),
        }),
        ...problems,
      },
    },
    handler: async (request) =>
      inventory.setRecipe(
        callerOf(request),
        request.params.id,
        request.params.itemId,
        request.body.ingredients,
      ),
  });
  const journalled = (
    path: string,
    summary: string,
    body: typeof ReceiptBody | typeof WastageBody,
    work: (
      caller: Caller,
      params: { id: string; ingredientId: string },
      body: unknown,
    ) => Promise<{ onHand: number }>,
  ) =>
    app.post(`${base}/ingredients/:ingredientId/${path}`, {
      config: { access: MANAGER, idempotency: 'required' },
      schema: { tags, summary, params: IngredientParams, body, response: { 200: StockSchema, ...problems } },
      handler: async (request, reply: FastifyReply) => {
        const caller = callerOf(request);
        return withIdempotency(
          db,
          request,
          reply,
          { scope: `inventory:${path}:${caller.userId}`, required: true },
          async () => ({
            statusCode: 200,
            body: await work(caller, request.params as { id: string; ingredientId: string }, request.body),
          }),
        ) as never;
      },
    });
  journalled(
    'receipts',
    'Receive stock, with its expiry day (Idempotency-Key required)',
    ReceiptBody,
    (caller, params, raw) => {
      const body = raw as { quantity: number; expiresOn?: string | null };
      return inventory.receive(caller, params.id, params.ingredientId, body.quantity, body.expiresOn ?? null);
    },
  );
  journalled(
    'wastage',
    'Record wastage with its reason (Idempotency-Key required)',
    WastageBody,
    (caller, params, raw) => {
      const body = raw as { quantity: number; reason: (typeof WASTAGE_REASONS)[number]; note?: string };
      return inventory.waste(
        caller,
        params.id,
        params.ingredientId,
        body.quantity,
        body.reason,
        body.note ?? null,
      );
    },
  );
  app.post(`${base}/ingredients/:ingredientId/counts`, {
    config: { access: MANAGER },
    schema: {
      tags,
      summary: 'Record a stock count: the stock becomes what was counted (the difference is journalled)',
      params: IngredientParams,
      body: CountBody,
      response: { 200: StockSchema, ...problems },
    },
    handler: async (request) =>
      inventory.count(
        callerOf(request),
        request.params.id,
        request.params.ingredientId,
        request.body.counted,
        request.body.note ?? null,
      ),
  });
  app.get(`${base}/alerts`, {
    config: { access: MANAGER },
    schema: {
      tags,
      summary: 'Open alerts: low stock, lots expiring within two days',
      params: Restaurant,
      response: { 200: Type.Object({ items: Type.Array(AnyObject) }), ...problems },
    },
    handler: async (request) => ({ items: await inventory.openAlerts(callerOf(request), request.params.id) }),
  });
  app.get(`${base}/reorders`, {
    config: { access: MANAGER },
    schema: {
      tags,
      summary: 'Suggested reorders from the last 14 days of use, the lead time and the cover wanted',
      params: Restaurant,
      response: { 200: Type.Object({ items: Type.Array(AnyObject) }), ...problems },
    },
    handler: async (request) => ({ items: await inventory.reorders(callerOf(request), request.params.id) }),
  });
  app.get(`${base}/report`, {
    config: { access: MANAGER },
    schema: {
      tags,
      summary: 'The weekly report (default: the last full week, Monday to Sunday, UTC)',
      params: Restaurant,
      querystring: ReportQuery,
      response: { 200: AnyObject, ...problems },
    },
    handler: async (request) =>
      inventory.weeklyReport(
        callerOf(request),
        request.params.id,
        request.query.weekStart ?? lastWeekStart(new Date()),
      ),
  });
}
