/**
 * Support's performance figures (issue #22): first response time, resolution time, SLA
 * breaches, the reopen rate and CSAT (the openers' ratings), overall, per agent and per team
 * (the current assignee's), over the tickets opened in a period, from the tickets' own
 * timestamps (so they hold whatever the sweep did); and the same as Prometheus series on
 * /metrics, counted by each instance as things happen.
 */
import { sql } from 'kysely';
import { Counter, Histogram, type Metric } from 'prom-client';
import type { SupportDb } from './tables.js';

/** The longest period one report covers, and the agents (and teams) it lists at most. */
export const METRICS_PERIOD_MAX_DAYS = 93;
export const METRICS_AGENTS_MAX = 200;
export const METRICS_TEAMS_MAX = 100;

/** Seconds: one minute to a week (first responses are minutes, resolutions days). */
const BUCKETS = [60, 300, 900, 1_800, 3_600, 4 * 3_600, 12 * 3_600, 86_400, 3 * 86_400, 7 * 86_400];

export function createSupportPrometheus() {
  const opened = new Counter({
    name: 'support_tickets_opened_total',
    help: 'Support tickets opened (a retry counts nothing), by source and priority',
    labelNames: ['source', 'priority'] as const,
    registers: [],
  });
  const firstResponse = new Histogram({
    name: 'support_first_response_seconds',
    help: 'Time from a ticket’s opening to the first staff reply (not a note), by priority',
    labelNames: ['priority'] as const,
    buckets: BUCKETS,
    registers: [],
  });
  const resolution = new Histogram({
    name: 'support_resolution_seconds',
    help: 'Time from a ticket’s opening to its resolution, by priority',
    labelNames: ['priority'] as const,
    buckets: BUCKETS,
    registers: [],
  });
  const breaches = new Counter({
    name: 'support_sla_breaches_total',
    help: 'SLA breaches alerted (once each across instances), by breach (first_response, resolution) and priority',
    labelNames: ['breach', 'priority'] as const,
    registers: [],
  });
  const reopened = new Counter({
    name: 'support_tickets_reopened_total',
    help: 'Resolved or closed support tickets reopened, by priority',
    labelNames: ['priority'] as const,
    registers: [],
  });
  const ratings = new Counter({
    name: 'support_csat_ratings_total',
    help: 'Satisfaction ratings given by openers after resolution, by score (1-5)',
    labelNames: ['score'] as const,
    registers: [],
  });
  return {
    opened,
    firstResponse,
    resolution,
    breaches,
    reopened,
    ratings,
    all: [opened, firstResponse, resolution, breaches, reopened, ratings] as Metric[],
  };
}

export type SupportPrometheus = ReturnType<typeof createSupportPrometheus>;

interface FigureRow {
  /** grouping(assignee_id, team): 1 per agent, 2 per team, 3 overall. */
  grouping_level: number;
  assignee_id: string | null;
  team: string | null;
  opened: string;
  responded: string;
  fr_avg: number | null;
  fr_p50: number | null;
  fr_p90: number | null;
  resolved: string;
  res_avg: number | null;
  res_p50: number | null;
  res_p90: number | null;
  fr_breaches: string;
  res_breaches: string;
  ever_resolved: string;
  reopened: string;
  rated: string;
  csat_avg: number | null;
  satisfied: string;
}

/** A share (0-1) to four decimals, null when nothing to divide by. */
const share = (part: string, whole: string) =>
  Number(whole) === 0 ? null : Math.round((Number(part) / Number(whole)) * 10_000) / 10_000;

const seconds = (value: number | null) => (value === null ? null : Math.round(Number(value)));

function figures(row: FigureRow) {
  return {
    opened: Number(row.opened),
    firstResponse: {
      count: Number(row.responded),
      averageSeconds: seconds(row.fr_avg),
      medianSeconds: seconds(row.fr_p50),
      p90Seconds: seconds(row.fr_p90),
    },
    resolution: {
      count: Number(row.resolved),
      averageSeconds: seconds(row.res_avg),
      medianSeconds: seconds(row.res_p50),
      p90Seconds: seconds(row.res_p90),
    },
    slaBreaches: { firstResponse: Number(row.fr_breaches), resolution: Number(row.res_breaches) },
    // Of the tickets ever resolved (resolved now, or reopened since), how many were reopened.
    reopen: {
      resolved: Number(row.ever_resolved),
      reopened: Number(row.reopened),
      rate: share(row.reopened, row.ever_resolved),
    },
    // The openers' one-tap ratings (1-5): how many, the average, and the share of 4 and 5.
    csat: {
      count: Number(row.rated),
      average: row.csat_avg === null ? null : Math.round(Number(row.csat_avg) * 100) / 100,
      satisfiedShare: share(row.satisfied, row.rated),
    },
  };
}

export type SupportFigures = ReturnType<typeof figures>;

/**
 * The figures of the tickets opened in [from, to): overall, per current assignee (null: not
 * assigned) and per the current assignee's team (null: not assigned, or an agent in no team), with
 * `assignee` only that agent's. A breach is a first reply after its due time (or none yet and the
 * time passed) and a resolution after the SLA due time (or none yet and passed). One statement
 * (GROUPING SETS), on the tickets' created_at; a ticket counts for the team its assignee is in
 * now, not the one they were in when it was handled (teams keep no history).
 */
export async function supportFigures(
  db: SupportDb,
  query: { from: Date; to: Date; at: Date; assignee?: string },
) {
  const { from, to, at } = query;
  const firstResponse = sql`extract(epoch from (ticket.first_responded_at - ticket.created_at))`;
  const resolution = sql`extract(epoch from (ticket.resolved_at - ticket.created_at))`;
  const rows = await sql<FigureRow>`
    SELECT grouping(ticket.assignee_id, agent.team) AS grouping_level,
      ticket.assignee_id, agent.team,
      count(*) AS opened,
      count(ticket.first_responded_at) AS responded,
      avg(${firstResponse})::float8 AS fr_avg,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY ${firstResponse}) AS fr_p50,
      percentile_cont(0.9) WITHIN GROUP (ORDER BY ${firstResponse}) AS fr_p90,
      count(ticket.resolved_at) AS resolved,
      avg(${resolution})::float8 AS res_avg,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY ${resolution}) AS res_p50,
      percentile_cont(0.9) WITHIN GROUP (ORDER BY ${resolution}) AS res_p90,
      count(*) FILTER (WHERE ticket.first_response_due_at IS NOT NULL
        AND coalesce(ticket.first_responded_at, ${at}) > ticket.first_response_due_at) AS fr_breaches,
      count(*) FILTER (WHERE coalesce(ticket.resolved_at, ${at}) > ticket.sla_due_at) AS res_breaches,
      count(*) FILTER (WHERE ticket.resolved_at IS NOT NULL OR ticket.reopen_count > 0) AS ever_resolved,
      count(*) FILTER (WHERE ticket.reopen_count > 0) AS reopened,
      count(ticket.csat_score) AS rated,
      avg(ticket.csat_score)::float8 AS csat_avg,
      count(*) FILTER (WHERE ticket.csat_score >= 4) AS satisfied
    FROM support_tickets ticket
    LEFT JOIN support_agents agent ON agent.user_id = ticket.assignee_id
    WHERE ticket.created_at >= ${from} AND ticket.created_at < ${to}
      ${query.assignee === undefined ? sql`` : sql`AND ticket.assignee_id = ${query.assignee}`}
    GROUP BY GROUPING SETS ((ticket.assignee_id), (agent.team), ())
    ORDER BY grouping(ticket.assignee_id, agent.team) DESC, count(*) DESC,
      ticket.assignee_id, agent.team`.execute(db);
  const level = (row: FigureRow) => Number(row.grouping_level);
  const overall = rows.rows.find((row) => level(row) === 3);
  const empty: FigureRow = {
    grouping_level: 3,
    assignee_id: null,
    team: null,
    opened: '0',
    responded: '0',
    fr_avg: null,
    fr_p50: null,
    fr_p90: null,
    resolved: '0',
    res_avg: null,
    res_p50: null,
    res_p90: null,
    fr_breaches: '0',
    res_breaches: '0',
    ever_resolved: '0',
    reopened: '0',
    rated: '0',
    csat_avg: null,
    satisfied: '0',
  };
  return {
    overall: figures(overall ?? empty),
    agents: rows.rows
      .filter((row) => level(row) === 1)
      .slice(0, METRICS_AGENTS_MAX)
      .map((row) => ({ assigneeId: row.assignee_id, ...figures(row) })),
    teams: rows.rows
      .filter((row) => level(row) === 2)
      .slice(0, METRICS_TEAMS_MAX)
      .map((row) => ({ team: row.team, ...figures(row) })),
  };
}
