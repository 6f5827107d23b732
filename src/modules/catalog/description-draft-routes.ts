/**
 * Menu description drafts' routes (docs/catalog.md "Description drafts"): the restaurant's owner
 * (or an admin) asks for a draft, reads it, and confirms it, which alone publishes it.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import type { DescriptionDrafts } from './description-drafts.js';
import { itemOwnerView } from './menu-service.js';
import { callerOf } from './routes.js';
import { CUISINE_CODES } from './rules/cuisines.js';
import { DRAFT_INGREDIENT_CHARS, DRAFT_INGREDIENTS_MAX } from './rules/description-drafts.js';
import { AnyObject, ItemParams } from './schemas.js';

const MENU_EDITOR: RouteAccess = {
  permissions: ['MENU_CRUD'],
  ownership: 'the owner of the restaurant (or an admin)',
};
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
};
const tags = ['catalog'];

const DraftBody = Type.Object(
  {
    ingredients: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: DRAFT_INGREDIENT_CHARS }), {
        maxItems: DRAFT_INGREDIENTS_MAX,
        description: 'the dish’s ingredients; absent: the inventory recipe’s, if any',
      }),
    ),
    cuisine: Type.Optional(
      Type.Union(
        CUISINE_CODES.map((code) => Type.Literal(code)),
        { description: 'a cuisine code; absent: the restaurant’s cuisines' },
      ),
    ),
  },
  { additionalProperties: false },
);
const Draft = Type.Object({
  id: Type.String({ format: 'uuid' }),
  itemId: Type.String({ format: 'uuid' }),
  description: Type.Object({ fr: Type.String(), en: Type.String() }),
  source: Type.Union([Type.Literal('model'), Type.Literal('template')], {
    description: 'model (Gemini) or template (no key, or the model failed)',
  }),
  model: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  confirmedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export function registerDescriptionDraftRoutes(root: FastifyInstance, drafts: DescriptionDrafts): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const path = '/v1/restaurants/:id/menu/items/:itemId/description-draft';

  app.post(
    path,
    {
      // The draft is read back at the same path (GET below).
      config: { access: MENU_EDITOR, location: true },
      schema: {
        tags,
        summary:
          'Draft the item’s description in French and English (Gemini, or a template); publishes nothing',
        params: ItemParams,
        body: DraftBody,
        response: { 201: Draft, ...errors },
      },
    },
    async (request, reply) => {
      const { id, itemId } = request.params;
      const body = request.body as { ingredients?: string[]; cuisine?: string };
      const draft = await drafts.draft(callerOf(request), id, itemId, body);
      reply.header('location', `/v1/restaurants/${id}/menu/items/${itemId}/description-draft`);
      return reply.code(201).send(draft);
    },
  );

  app.get(
    path,
    {
      config: { access: MENU_EDITOR },
      schema: {
        tags,
        summary: 'The item’s current description draft',
        params: ItemParams,
        response: { 200: Draft, ...errors },
      },
    },
    async (request) => drafts.read(callerOf(request), request.params.id, request.params.itemId),
  );

  app.post(
    `${path}/confirm`,
    {
      config: { access: MENU_EDITOR },
      schema: {
        tags,
        summary: 'Publish the draft read (`draftId`) as the item’s description (audited); once',
        params: ItemParams,
        body: Type.Object({ draftId: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
        response: { 200: AnyObject, ...errors },
      },
    },
    async (request) =>
      itemOwnerView(
        await drafts.confirm(
          callerOf(request),
          request.params.id,
          request.params.itemId,
          (request.body as { draftId: string }).draftId,
        ),
      ),
  );
}
