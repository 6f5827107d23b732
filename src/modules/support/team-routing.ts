/**
 * Which team takes a new ticket (issue #22): an admin maps a ticket category, optionally in one
 * city, to a team (`payment` → `douala-finance`). Round robin (agents.ts) then looks among that
 * team's available agents first and falls back to anyone available. A row for the ticket's city
 * wins over the category's row without a city; no row: no team, round robin as before.
 */
import type { SupportAuditEntry, SupportActor } from './ports.js';
import { supportErrors } from './errors.js';
import type { Category, SupportDb } from './tables.js';

/** At most this many mappings (5 categories × the cities, with room): a list is one page. */
export const TEAM_ROUTES_MAX = 500;

export interface TeamRoute {
  category: Category;
  cityId: string | null;
  team: string;
  updatedAt: string;
}

interface TeamRoutingDependencies {
  db: SupportDb;
  audit: (entry: SupportAuditEntry) => Promise<void>;
  /** Whether a city id is a known city (catalog); absent: any well-formed id is accepted. */
  cityKnown?: (cityId: string) => Promise<boolean>;
  now: () => Date;
}

const resourceOf = (category: Category, cityId: string | null) =>
  `support_team_route:${category}${cityId === null ? '' : `:${cityId}`}`;

export const teamRouteNotFound = () =>
  supportErrors.of(
    'not_found',
    'team_route_not_found',
    'There is no team mapping for this category and city.',
  );

export function createTeamRouting(deps: TeamRoutingDependencies) {
  const { db } = deps;

  async function find(category: Category, cityId: string | null): Promise<TeamRoute | undefined> {
    const row = await db
      .selectFrom('support_team_routes')
      .selectAll()
      .where('category', '=', category)
      .where((eb) => (cityId === null ? eb('city_id', 'is', null) : eb('city_id', '=', cityId)))
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : {
          category: row.category,
          cityId: row.city_id,
          team: row.team,
          updatedAt: row.updated_at.toISOString(),
        };
  }

  async function list(): Promise<TeamRoute[]> {
    const rows = await db
      .selectFrom('support_team_routes')
      .selectAll()
      .orderBy('category')
      .orderBy('city_id', (order) => order.nullsFirst())
      .limit(TEAM_ROUTES_MAX)
      .execute();
    return rows.map((row) => ({
      category: row.category,
      cityId: row.city_id,
      team: row.team,
      updatedAt: row.updated_at.toISOString(),
    }));
  }

  /** Maps the category (in the city, or everywhere) to the team; audited with the old team. */
  async function put(actor: SupportActor, category: Category, cityId: string | null, team: string) {
    if (cityId !== null && deps.cityKnown !== undefined && !(await deps.cityKnown(cityId)))
      throw supportErrors.of('validation', 'team_route_city_unknown', 'There is no such city.', {
        details: { cityId },
      });
    const before = await find(category, cityId);
    const at = deps.now();
    const updatedBy = actor.userId ?? null;
    await db
      .insertInto('support_team_routes')
      .values({ category, city_id: cityId, team, updated_by: updatedBy, updated_at: at })
      .onConflict((conflict) =>
        conflict
          .constraint('support_team_routes_key')
          .doUpdateSet({ team, updated_by: updatedBy, updated_at: at }),
      )
      .execute();
    await deps.audit({
      action: 'support.team_route_set',
      actor,
      resource: resourceOf(category, cityId),
      oldValue: before === undefined ? null : { team: before.team },
      newValue: { category, cityId, team },
    });
    return (await find(category, cityId))!;
  }

  /** Removes the mapping (404 when there is none); audited. */
  async function remove(actor: SupportActor, category: Category, cityId: string | null) {
    const deleted = await db
      .deleteFrom('support_team_routes')
      .where('category', '=', category)
      .where((eb) => (cityId === null ? eb('city_id', 'is', null) : eb('city_id', '=', cityId)))
      .returning('team')
      .executeTakeFirst();
    if (deleted === undefined) throw teamRouteNotFound();
    await deps.audit({
      action: 'support.team_route_removed',
      actor,
      resource: resourceOf(category, cityId),
      oldValue: { category, cityId, team: deleted.team },
      newValue: null,
    });
  }

  return { list, put, remove };
}

export type TeamRouting = ReturnType<typeof createTeamRouting>;
