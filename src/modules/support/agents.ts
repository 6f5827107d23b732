/**
 * Support agents' settings for assignment (issue #22): who is a supervisor, how many active
 * tickets an agent holds at most (capacity), and who is available now: an agent connected to
 * /ws/support (presence from the real-time bus, on any instance) unless they said they are away,
 * or one who said they are available (renewed: it lapses after AVAILABILITY_MINUTES without a
 * renewal, so an agent who closed the app stops receiving tickets). Round robin: the available agent (or supervisor, for
 * an escalation) under capacity who was assigned longest ago, of the team the ticket's category
 * maps to if one of them is (team-routing.ts), in one transaction under an
 * advisory lock, so assignments on every instance happen one at a time and nobody goes over
 * capacity.
 */
import { sql } from 'kysely';
import { ACTIVE_STATUSES, type SupportDb } from './tables.js';

export const AVAILABILITY_MINUTES = 10;
export const CAPACITY_DEFAULT = 10;
export const CAPACITY_MAX = 200;
/** A team's name: a lowercase slug of 1–40 letters, digits and inner hyphens (`douala-night`). */
export const TEAM_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$';

export interface AgentSettings {
  userId: string;
  supervisor: boolean;
  capacity: number;
  availableUntil: string | null;
  away: boolean;
  team: string | null;
  activeTickets: number;
}

export function createAgentDirectory(db: SupportDb) {
  async function settings(userId: string): Promise<AgentSettings> {
    const row = await db
      .selectFrom('support_agents')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirst();
    const active = await db
      .selectFrom('support_tickets')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('assignee_id', '=', userId)
      .where('status', 'in', [...ACTIVE_STATUSES])
      .executeTakeFirstOrThrow();
    return {
      userId,
      supervisor: row?.supervisor ?? false,
      capacity: row?.capacity ?? CAPACITY_DEFAULT,
      availableUntil:
        row?.available_until !== null &&
        row?.available_until !== undefined &&
        row.available_until > new Date()
          ? row.available_until.toISOString()
          : null,
      away: row?.away ?? false,
      team: row?.team ?? null,
      activeTickets: Number(active.count),
    };
  }

  return {
    settings,

    async isSupervisor(userId: string): Promise<boolean> {
      const row = await db
        .selectFrom('support_agents')
        .select('supervisor')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row?.supervisor === true;
    },

    /** The agents an admin made supervisors (at most `limit`). */
    async supervisorIds(limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('support_agents')
        .select('user_id')
        .where('supervisor', '=', true)
        .orderBy('user_id')
        .limit(limit)
        .execute();
      return rows.map((row) => row.user_id);
    },

    /** An admin sets an agent's role in support, capacity and team (the other settings stay). */
    async configure(
      userId: string,
      change: { supervisor?: boolean; capacity?: number; team?: string | null },
      at: Date,
    ) {
      await db
        .insertInto('support_agents')
        .values({ user_id: userId, ...change, updated_at: at })
        .onConflict((conflict) => conflict.column('user_id').doUpdateSet({ ...change, updated_at: at }))
        .execute();
      return settings(userId);
    },

    /**
     * The agent is available until `until` (renewed by calling again), or away (`null`: no new
     * ticket even while connected, until they say they are available again).
     */
    async setAvailability(userId: string, until: Date | null, at: Date) {
      const change = { available_until: until, away: until === null, updated_at: at };
      await db
        .insertInto('support_agents')
        .values({ user_id: userId, ...change })
        .onConflict((conflict) => conflict.column('user_id').doUpdateSet(change))
        .execute();
      return settings(userId);
    },

    /** Agents connected now get a settings row (assignment reads its turn and capacity there). */
    async ensureRows(userIds: readonly string[], at: Date) {
      if (userIds.length === 0) return;
      await db
        .insertInto('support_agents')
        .values(userIds.map((userId) => ({ user_id: userId, updated_at: at })))
        .onConflict((conflict) => conflict.column('user_id').doNothing())
        .execute();
    },

    /**
     * Assigns an unassigned ticket (or, with `reassign`, any active one) to the available agent
     * (supervisors only, with `supervisors`) under capacity assigned longest ago. With `routed`,
     * the ticket's category (and city) may map to a team (team-routing.ts): that team's agents
     * first, anyone available when none of them is (`fallback`). Answers the assignment, or
     * undefined when nobody is available (the ticket waits in the queue).
     */
    async assignRoundRobin(
      ticketId: string,
      options: {
        supervisors: boolean;
        reassign: boolean;
        at: Date;
        /** Agents connected to /ws/support now (on any instance): available unless away. */
        online?: readonly string[];
        /** Look up the team of the ticket's category and city (new tickets; not escalations). */
        routed?: boolean;
      },
    ): Promise<RoundRobinAssignment | undefined> {
      return db.transaction().execute(async (transaction) => {
        // One assignment at a time (all instances): each reads the counts the previous committed,
        // so nobody goes over capacity and the turn moves on.
        await sql`SELECT pg_advisory_xact_lock(hashtext('support-round-robin'))`.execute(transaction);
        const team = options.routed === true ? await teamOf(transaction, ticketId) : null;
        const ofTeam = team === null ? undefined : await pickAgent(transaction, options, team);
        const agent = ofTeam ?? (await pickAgent(transaction, options, null));
        if (agent === undefined) return undefined;
        const updated = await transaction
          .updateTable('support_tickets')
          .set((eb) => ({ assignee_id: agent, version: eb('version', '+', 1), updated_at: options.at }))
          .where('id', '=', ticketId)
          .where('status', 'in', [...ACTIVE_STATUSES])
          .$if(!options.reassign, (query) => query.where('assignee_id', 'is', null))
          .executeTakeFirst();
        if (updated.numUpdatedRows === 0n) return undefined;
        await transaction
          .updateTable('support_agents')
          .set({ last_assigned_at: options.at })
          .where('user_id', '=', agent)
          .execute();
        return { assigneeId: agent, team, fallback: team !== null && ofTeam === undefined };
      });
    },
  };
}

/** The team mapped to the ticket's category in its city, else in every city; null: none. */
async function teamOf(db: SupportDb, ticketId: string): Promise<string | null> {
  const found = await sql<{ team: string }>`
    SELECT route.team FROM support_tickets ticket
    JOIN support_team_routes route
      ON route.category = ticket.category AND (route.city_id = ticket.city_id OR route.city_id IS NULL)
    WHERE ticket.id = ${ticketId}
    ORDER BY route.city_id NULLS LAST
    LIMIT 1`.execute(db);
  return found.rows[0]?.team ?? null;
}

/** The available agent (of `team`, when given) under capacity who was assigned longest ago. */
async function pickAgent(
  db: SupportDb,
  options: { supervisors: boolean; at: Date; online?: readonly string[] },
  team: string | null,
): Promise<string | undefined> {
  const picked = await sql<{ user_id: string }>`
    SELECT agent.user_id FROM support_agents agent
    WHERE (agent.available_until > ${options.at}
           OR (agent.user_id = ANY(${sql.val([...(options.online ?? [])])}::uuid[]) AND NOT agent.away))
      AND agent.supervisor = ${options.supervisors}
      AND (${team}::text IS NULL OR agent.team = ${team})
      AND (SELECT count(*) FROM support_tickets ticket
           WHERE ticket.assignee_id = agent.user_id
             AND ticket.status IN ('open', 'pending', 'escalated')) < agent.capacity
    ORDER BY agent.last_assigned_at NULLS FIRST, agent.user_id
    LIMIT 1`.execute(db);
  return picked.rows[0]?.user_id;
}

/** Who took the ticket; `team`: the team its category maps to (null: none), `fallback`: nobody of it was available. */
export interface RoundRobinAssignment {
  assigneeId: string;
  team: string | null;
  fallback: boolean;
}

export type AgentDirectory = ReturnType<typeof createAgentDirectory>;
