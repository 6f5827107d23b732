/**
 * `GET /v1/sync/addresses?since=<cursor>&fields=…` (docs/identity.md "Delta sync of addresses"):
 * the caller's saved addresses changed since the app's cursor, tombstones for those removed, a new
 * cursor and an ETag, in the shape of `GET /v1/sync/menus/{id}`.
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { HttpProblem } from '../../../http/problem.js';
import {
  deltaEntityTag,
  encodeSyncCursor,
  entityTagMatches,
  readFieldSelection,
  readSyncCursor,
  selectFields,
} from '../../../shared/delta-sync.js';
import type { IdentityRouteServices } from './common.js';
import { Address, addressOut, PROFILE, principalOf, problems4xx } from './me.js';

/**
 * Address writes take milliseconds; `updated_at` is the writing transaction's start, so the cursor
 * points this far before the clock read at the start of the answer (as the menu's does): a change
 * may be sent twice, never missed.
 */
export const ADDRESS_CURSOR_OVERLAP_MS = 5_000;
export const ADDRESS_SYNC_FIELDS = [
  'label',
  'line1',
  'line2',
  'city',
  'district',
  'landmark',
  'latitude',
  'longitude',
  'instructions',
  'isDefault',
] as const;

export function registerAddressSyncRoutes(app: FastifyInstance, services: IdentityRouteServices): void {
  const { profile } = services.identity;
  const SyncedAddress = Type.Object(
    { ...Type.Partial(Address).properties, id: Type.String({ format: 'uuid' }) },
    { additionalProperties: false },
  );
  const AddressesDeltaResponse = Type.Object(
    {
      cursor: Type.String({ description: 'send it as `since` next time' }),
      reset: Type.Optional(Type.Boolean({ description: 'true: replace the cached addresses with these' })),
      items: Type.Optional(Type.Array(SyncedAddress, { maxItems: 20 })),
      removed: Type.Optional(
        Type.Array(Type.String({ format: 'uuid' }), { maxItems: 20, description: 'addresses removed' }),
      ),
    },
    { additionalProperties: false },
  );
  app.get(
    '/v1/sync/addresses',
    {
      config: { access: PROFILE },
      schema: {
        tags: ['me'],
        summary: 'What changed on my saved addresses since a cursor, with tombstones; ETag/304',
        querystring: Type.Object(
          {
            since: Type.Optional(Type.String({ maxLength: 200, description: 'the cursor of the last sync' })),
            fields: Type.Optional(
              Type.String({
                maxLength: 200,
                description: `address fields, comma-separated: ${ADDRESS_SYNC_FIELDS.join(', ')}`,
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: AddressesDeltaResponse, 304: Type.Null(), ...problems4xx },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const query = request.query as { since?: string; fields?: string };
      const selection = readFieldSelection(query.fields, ADDRESS_SYNC_FIELDS);
      if (selection.kind === 'invalid')
        throw new HttpProblem(
          400,
          'sync_fields_invalid',
          `Unknown or no fields: ${selection.unknown.join(', ')}.`,
        );
      const answer = await profile.addressChanges(principal, (clock) => {
        const cursor = readSyncCursor(query.since, {
          kind: 'addresses',
          ownerId: principal.userId,
          nowMs: clock.getTime(),
          toleranceMs: ADDRESS_CURSOR_OVERLAP_MS,
        });
        if (cursor.kind === 'invalid') throw new HttpProblem(400, 'sync_cursor_invalid', `${cursor.reason}.`);
        return cursor.kind === 'since' ? new Date(cursor.sinceMs) : undefined;
      });
      const body: Record<string, unknown> = {
        cursor: encodeSyncCursor(
          'addresses',
          principal.userId,
          answer.clock.getTime() - ADDRESS_CURSOR_OVERLAP_MS,
        ),
      };
      if (answer.reset) body.reset = true;
      if (answer.changed.length > 0)
        body.items = answer.changed.map((row) => selectFields(addressOut(row), selection));
      if (answer.removed.length > 0) body.removed = answer.removed;
      const etag = deltaEntityTag(body);
      reply.header('etag', etag).header('cache-control', 'private, max-age=0, must-revalidate');
      if (entityTagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
      return body;
    },
  );
}
