/**
 * `GET /v1/sync/menus/{id}?since=<cursor>&fields=…` (docs/catalog.md "Delta sync"): what changed
 * on a restaurant's menu since the app's cursor, with tombstones, a new cursor and an ETag.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { Catalog } from './index.js';
import {
  buildDelta,
  CURSOR_OVERLAP_MS,
  deltaEtag,
  encodeCursor,
  readCursor,
  readFields,
  SYNC_FIELDS,
  type RenderedMenu,
} from './menu-sync.js';
import { pickLanguage } from './menu-view.js';
import { etagMatches } from './routes.js';
import { createSyncRepository } from './sync-repository.js';
import type { CatalogDb } from './tables.js';

const PUBLIC: RouteAccess = { public: true };
const Uuid = Type.String({ format: 'uuid' });

const DeltaResponse = Type.Object(
  {
    restaurantId: Uuid,
    cursor: Type.String({ description: 'send it as `since` next time' }),
    reset: Type.Optional(
      Type.Boolean({ description: 'true: the whole menu; replace the cached copy with it' }),
    ),
    version: Type.Optional(Type.Integer()),
    openNow: Type.Boolean(),
    closesAt: Type.Optional(Type.String()),
    nextOpeningAt: Type.Optional(Type.String()),
    categories: Type.Optional(
      Type.Array(Type.Object({ id: Uuid, name: Type.Optional(Type.String()), position: Type.Integer() })),
    ),
    items: Type.Optional(
      Type.Array(Type.Object({ id: Uuid }, { additionalProperties: true }), {
        description: 'changed items as the menu shows them, with `categoryId` and `position`',
      }),
    ),
    removed: Type.Optional(Type.Array(Uuid, { description: 'items no longer on the menu' })),
    removedCategories: Type.Optional(
      Type.Array(Uuid, { description: 'categories no longer shown (drop their items)' }),
    ),
  },
  { additionalProperties: false },
);

function viewerOf(request: FastifyRequest): { userId: string; isAdmin: boolean } | undefined {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user') return undefined;
  return { userId: principal.userId, isAdmin: principal.permissions.has('FULL_SYSTEM_ACCESS') };
}

export function registerMenuSyncRoutes(
  root: FastifyInstance,
  services: { catalog: Catalog; db: CatalogDb },
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const repository = createSyncRepository(services.db);
  app.get(
    '/v1/sync/menus/:id',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['catalog'],
        summary: 'What changed on a menu since a cursor (7-day cache), with tombstones; ETag/304',
        params: Type.Object({ id: Uuid }),
        querystring: Type.Object(
          {
            since: Type.Optional(Type.String({ maxLength: 200, description: 'the cursor of the last sync' })),
            fields: Type.Optional(
              Type.String({
                maxLength: 300,
                description: `item fields, comma-separated: ${SYNC_FIELDS.join(', ')}`,
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: DeltaResponse, 304: Type.Null(), 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request, reply) => {
      const restaurantId = request.params.id;
      const fields = readFields(request.query.fields);
      if (fields.kind === 'invalid')
        throw new HttpProblem(
          400,
          'sync_fields_invalid',
          `Unknown or no fields: ${fields.unknown.join(', ')}.`,
        );
      // The clock first: a change made after it is at or after the next cursor.
      const clock = await repository.clock();
      const cursor = readCursor(request.query.since, restaurantId, clock.getTime());
      if (cursor.kind === 'invalid') throw new HttpProblem(400, 'sync_cursor_invalid', `${cursor.reason}.`);
      const language = pickLanguage(request.headers['accept-language']);
      const changes =
        cursor.kind === 'since'
          ? await repository.changesSince(restaurantId, new Date(cursor.sinceMs), clock)
          : undefined;
      const menu = await services.catalog.menu.view(restaurantId, language, viewerOf(request));
      const rendered = JSON.parse(menu.raw.toString('utf8')) as RenderedMenu;
      const next = encodeCursor(restaurantId, clock.getTime() - CURSOR_OVERLAP_MS);
      const body = buildDelta(
        rendered,
        changes ?? 'all',
        fields.kind === 'all' ? 'all' : fields.fields,
        next,
      );
      const etag = deltaEtag(body, language);
      reply
        .header('etag', etag)
        .header('vary', 'Accept-Language')
        .header('cache-control', `${menu.active ? 'public' : 'private'}, max-age=0, must-revalidate`);
      if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
      // buildDelta leaves out what is empty; the schema is the contract of that shape.
      return body as unknown as Static<typeof DeltaResponse>;
    },
  );
}
