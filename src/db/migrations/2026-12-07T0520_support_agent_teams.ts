import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support (issue #22): an agent belongs to at most one
// team (a slug an admin sets, e.g. `douala-night`), so the performance figures can be read per
// team as well as per agent.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE support_agents
      ADD COLUMN team text CHECK (team ~ '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$')`.execute(db);
  await sql`CREATE INDEX support_agents_team_idx ON support_agents (team) WHERE team IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE support_agents DROP COLUMN IF EXISTS team`.execute(db);
}
