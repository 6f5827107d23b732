/**
 * The OpenAPI document per audience. `/docs/json` holds every operation (for tooling and for the
 * tests that walk the whole API); an app fetches only its own part: `/docs/customer.json` (the
 * customer app: guests and customers), `/docs/partner.json` (restaurants and drivers) and
 * `/docs/staff.json` (support and admins). An operation belongs to every audience one of whose roles
 * holds a permission its route admits (`x-permissions`, from `config.access`); a public operation
 * belongs to customers and partners, and to staff when it signs in (`/v1/auth/`). Each part keeps only the components its operations reach, so it is a
 * complete document on its own. docs/api.md, "One document per audience".
 */
import type { FastifyInstance } from 'fastify';
import { PERMISSIONS_BY_ROLE, type Role } from '../shared/principal.js';

type Json = Record<string, unknown>;

export const AUDIENCES = {
  customer: { roles: ['guest', 'customer'], title: 'customers (the customer app, guests included)' },
  partner: { roles: ['restaurant_owner', 'driver'], title: 'partners (restaurants and drivers)' },
  staff: { roles: ['support', 'admin'], title: 'staff (support agents and admins)' },
} as const satisfies Record<string, { roles: readonly Role[]; title: string }>;
export type Audience = keyof typeof AUDIENCES;

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** Whether an operation (as the full document states it) belongs to an audience. */
export function operationIsFor(path: string, operation: Json, audience: Audience): boolean {
  const permissions = operation['x-permissions'];
  // A public operation is for the apps of customers and partners (browsing, signing in, tracking);
  // staff consoles take only the sign-in ones from it.
  if (!Array.isArray(permissions)) return audience !== 'staff' || path.startsWith('/v1/auth/');
  return AUDIENCES[audience].roles.some((role) =>
    // By the permissions the route names: an admin's FULL_SYSTEM_ACCESS admits every route, but the
    // staff document lists the routes made for staff, not every customer's route as well.
    (PERMISSIONS_BY_ROLE[role] as readonly string[]).some((permission) => permissions.includes(permission)),
  );
}

function refsIn(node: unknown, found: Set<string>): void {
  if (Array.isArray(node)) for (const item of node) refsIn(item, found);
  else if (node !== null && typeof node === 'object')
    for (const [key, value] of Object.entries(node as Json))
      if (key === '$ref' && typeof value === 'string') found.add(value);
      else refsIn(value, found);
}

/** The audience's document: its operations, and the components they reach (transitively). */
export function audienceDocument(full: Json, audience: Audience): Json {
  const paths: Record<string, Json> = {};
  for (const [path, item] of Object.entries((full.paths ?? {}) as Record<string, Json>)) {
    const kept = Object.fromEntries(
      Object.entries(item).filter(
        ([method, operation]) => !METHODS.has(method) || operationIsFor(path, operation as Json, audience),
      ),
    );
    if (Object.keys(kept).some((method) => METHODS.has(method))) paths[path] = kept;
  }
  const components = (full.components ?? {}) as Record<string, Json>;
  // Follow references from the kept operations through the components they name, to a fixed point.
  const reached = new Set<string>();
  const pending = new Set<string>();
  refsIn(paths, pending);
  while (pending.size > 0) {
    const [target] = pending;
    pending.delete(target!);
    if (reached.has(target!)) continue;
    reached.add(target!);
    const [, kind, name] = /^#\/components\/([^/]+)\/(.+)$/.exec(target!) ?? [];
    if (kind !== undefined && name !== undefined) refsIn(components[kind]?.[name], pending);
  }
  const kept: Record<string, Json> = {};
  for (const [kind, entries] of Object.entries(components)) {
    const names = Object.keys(entries).filter(
      (name) => kind === 'securitySchemes' || reached.has(`#/components/${kind}/${name}`),
    );
    if (names.length > 0) kept[kind] = Object.fromEntries(names.map((name) => [name, entries[name]]));
  }
  const info = (full.info ?? {}) as Json;
  const usedTags = new Set(
    Object.values(paths).flatMap((item) =>
      Object.values(item).flatMap((operation) => ((operation as Json).tags as string[] | undefined) ?? []),
    ),
  );
  return {
    ...full,
    info: {
      ...info,
      title: `${String(info.title)}: ${audience}`,
      description: `The operations for ${AUDIENCES[audience].title}; /docs/json holds every operation. ${String(info.description ?? '')}`,
    },
    ...(Array.isArray(full.tags)
      ? { tags: (full.tags as Json[]).filter((tag) => usedTags.has(String(tag.name))) }
      : {}),
    paths,
    components: kept,
  };
}

/** `GET /docs/{audience}.json`, each derived once from the full document and kept. */
export function registerAudienceDocuments(app: FastifyInstance): void {
  const made = new Map<Audience, Json>();
  for (const audience of Object.keys(AUDIENCES) as Audience[]) {
    app.get(`/docs/${audience}.json`, { schema: { hide: true } }, async () => {
      let document = made.get(audience);
      if (document === undefined) {
        document = audienceDocument(app.swagger() as unknown as Json, audience);
        made.set(audience, document);
      }
      return document;
    });
  }
}
