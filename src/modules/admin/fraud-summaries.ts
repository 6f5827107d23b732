/**
 * Weekly fraud summaries for admins (issue #22, docs/admin.md "Weekly fraud summaries"): a
 * scheduled job, once per week across instances (a job id per week, and one row per week in
 * `admin_fraud_summaries`: a second run of the same week finds it and writes nothing), computes
 * the week's figures from the fraud tables by SQL (signals and cases by rule, the top scores,
 * decisions, payout holds, and the week before for trends), then has Gemini word them (the figures
 * only: counts, rule names and scores) or, without a key or when it fails, a template. Admins read
 * them (audited) and hear of a new one on /ws/admin.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { TextModel } from '../../platform/gemini/index.js';
import { audiences, type RealtimeBus } from '../../realtime/index.js';
import type { Actor, AuditFunction } from '../identity/index.js';
import { newestFirstPage } from './cursor.js';
import { adminErrors } from './errors.js';
import { FRAUD_RULES } from './fraud-rules.js';
import {
  isFraudRule,
  lastCompleteWeek,
  parseSummary,
  summaryPrompt,
  summarySystemInstruction,
  SUMMARY_MAX_OUTPUT_TOKENS,
  templateSummary,
  TOP_CASES,
  type SummaryFigures,
  type SummaryWeek,
} from './fraud-summary-rules.js';
import type { AdminDb } from './tables.js';

export const FRAUD_SUMMARY_QUEUE = 'admin-fraud-summary';
export const SUMMARIES_PAGE_MAX = 52;

export interface FraudSummaryView {
  id: string;
  weekStart: string;
  periodStart: string;
  periodEnd: string;
  figures: SummaryFigures;
  summary: { fr: string; en: string };
  source: 'model' | 'template';
  model: string | null;
  createdAt: string;
}

type Row = {
  id: string;
  week_start: string;
  period_start: Date;
  period_end: Date;
  figures: unknown;
  summary_fr: string;
  summary_en: string;
  source: string;
  model: string | null;
  created_at: Date;
};

const viewOf = (row: Row): FraudSummaryView => ({
  id: row.id,
  weekStart: row.week_start,
  periodStart: row.period_start.toISOString(),
  periodEnd: row.period_end.toISOString(),
  figures: row.figures as SummaryFigures,
  summary: { fr: row.summary_fr, en: row.summary_en },
  source: row.source === 'model' ? 'model' : 'template',
  model: row.model,
  createdAt: row.created_at.toISOString(),
});

const count = (value: unknown): number => Number(value ?? 0);

export function createFraudSummaries(deps: {
  db: AdminDb;
  model: TextModel | undefined;
  audit: AuditFunction;
  bus: RealtimeBus;
  logger: Logger;
}) {
  const { db } = deps;

  /** Signals per rule between two instants (a signal counts once per rule it fired). */
  async function signalsByRule(from: Date, to: Date): Promise<Map<string, number>> {
    const rows = await sql<{ rule: string; signals: string }>`
      SELECT rule, count(*) AS signals
      FROM admin_fraud_signals, unnest(rules) AS rule
      WHERE at >= ${from} AND at < ${to}
      GROUP BY rule`.execute(db);
    return new Map(rows.rows.map((row) => [row.rule, count(row.signals)]));
  }

  async function casesByRule(
    from: Date,
    to: Date,
  ): Promise<Map<string, { opened: number; maxScore: number }>> {
    const rows = await db
      .selectFrom('admin_fraud_cases')
      .select((eb) => ['rule', eb.fn.countAll<string>().as('opened'), eb.fn.max('score').as('max_score')])
      .where('opened_at', '>=', from)
      .where('opened_at', '<', to)
      .groupBy('rule')
      .execute();
    return new Map(
      rows.map((row) => [row.rule, { opened: count(row.opened), maxScore: count(row.max_score) }]),
    );
  }

  /** The week's figures, by SQL: no name, phone, id or subject leaves this function. */
  async function figuresOf(week: SummaryWeek): Promise<SummaryFigures> {
    const [signals, previousSignals, cases, previousCases] = await Promise.all([
      signalsByRule(week.start, week.end),
      signalsByRule(week.previousStart, week.start),
      casesByRule(week.start, week.end),
      casesByRule(week.previousStart, week.start),
    ]);
    const decisions = await db
      .selectFrom('admin_fraud_cases')
      .select((eb) => [
        eb.fn.countAll<string>().filterWhere('status', '=', 'confirmed').as('confirmed'),
        eb.fn.countAll<string>().filterWhere('status', '=', 'dismissed').as('dismissed'),
      ])
      .where('decided_at', '>=', week.start)
      .where('decided_at', '<', week.end)
      .executeTakeFirstOrThrow();
    const stillOpen = await db
      .selectFrom('admin_fraud_cases')
      .select((eb) => eb.fn.countAll<string>().as('open'))
      .where('opened_at', '>=', week.start)
      .where('opened_at', '<', week.end)
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow();
    const holds = await db
      .selectFrom('admin_payout_holds')
      .select((eb) => eb.fn.countAll<string>().as('placed'))
      .where('placed_at', '>=', week.start)
      .where('placed_at', '<', week.end)
      .executeTakeFirstOrThrow();
    const top = await db
      .selectFrom('admin_fraud_cases')
      .select(['rule', 'score', 'signals'])
      .where('opened_at', '>=', week.start)
      .where('opened_at', '<', week.end)
      .orderBy('score', 'desc')
      .orderBy('signals', 'desc')
      .limit(TOP_CASES)
      .execute();
    const sum = (map: Map<string, number>) => [...map.values()].reduce((total, value) => total + value, 0);
    const opened = (map: Map<string, { opened: number }>) =>
      [...map.values()].reduce((total, value) => total + value.opened, 0);
    return {
      weekStart: week.weekStart,
      periodStart: week.start.toISOString(),
      periodEnd: week.end.toISOString(),
      signals: { total: sum(signals), previous: sum(previousSignals) },
      cases: {
        opened: opened(cases),
        previousOpened: opened(previousCases),
        confirmed: count(decisions.confirmed),
        dismissed: count(decisions.dismissed),
        stillOpen: count(stillOpen.open),
      },
      payoutHoldsPlaced: count(holds.placed),
      // Our rules only, in their fixed order: nothing else from the tables is named.
      byRule: FRAUD_RULES.map((rule) => ({
        rule,
        signals: signals.get(rule) ?? 0,
        previousSignals: previousSignals.get(rule) ?? 0,
        casesOpened: cases.get(rule)?.opened ?? 0,
        previousCasesOpened: previousCases.get(rule)?.opened ?? 0,
        maxScore: cases.get(rule)?.maxScore ?? null,
      })),
      topCases: top.flatMap((row) =>
        isFraudRule(row.rule) ? [{ rule: row.rule, score: row.score, signals: row.signals }] : [],
      ),
    };
  }

  async function prose(figures: SummaryFigures) {
    if (deps.model !== undefined)
      try {
        const raw = await deps.model.generate({
          system: summarySystemInstruction(),
          prompt: summaryPrompt(figures),
          maxOutputTokens: SUMMARY_MAX_OUTPUT_TOKENS,
          format: 'json',
        });
        const parsed = parseSummary(raw);
        if (parsed === undefined) throw new Error('the model answered nothing usable');
        return { text: parsed, source: 'model' as const, model: deps.model.name };
      } catch (error) {
        deps.logger.warn(
          { err: error, weekStart: figures.weekStart },
          'fraud summary fell back to the template',
        );
      }
    return { text: templateSummary(figures), source: 'template' as const, model: null };
  }

  const columns = [
    'id',
    // As text: a date column would be read as local midnight.
    sql<string>`to_char(week_start, 'YYYY-MM-DD')`.as('week_start'),
    'period_start',
    'period_end',
    'figures',
    'summary_fr',
    'summary_en',
    'source',
    'model',
    'created_at',
  ] as const;

  return {
    figuresOf,

    /**
     * Summarises the last complete week before `at`, once: a week already summarised is answered
     * as stored (no model call). Returns the summary and whether this run wrote it.
     */
    async run(at: Date): Promise<{ summary: FraudSummaryView; created: boolean }> {
      const week = lastCompleteWeek(at);
      const existing = await db
        .selectFrom('admin_fraud_summaries')
        .select(columns)
        .where(sql<boolean>`week_start = ${week.weekStart}::date`)
        .executeTakeFirst();
      if (existing !== undefined) return { summary: viewOf(existing), created: false };
      const figures = await figuresOf(week);
      const { text, source, model } = await prose(figures);
      const inserted = await db
        .insertInto('admin_fraud_summaries')
        .values({
          id: randomUUID(),
          week_start: week.weekStart,
          period_start: week.start,
          period_end: week.end,
          figures: JSON.stringify(figures),
          summary_fr: text.fr,
          summary_en: text.en,
          source,
          model,
        })
        .onConflict((conflict) => conflict.column('week_start').doNothing())
        .returning(columns)
        .executeTakeFirst();
      if (inserted === undefined) {
        // Another instance wrote the week meanwhile: its row is the week's.
        const row = await db
          .selectFrom('admin_fraud_summaries')
          .select(columns)
          .where(sql<boolean>`week_start = ${week.weekStart}::date`)
          .executeTakeFirstOrThrow();
        return { summary: viewOf(row), created: false };
      }
      const summary = viewOf(inserted);
      deps.logger.info({ weekStart: summary.weekStart, source }, 'weekly fraud summary written');
      await deps.bus.publish([
        {
          audiences: [audiences.admin],
          message: {
            channel: 'system-alerts',
            type: 'fraud-summary',
            at: new Date().toISOString(),
            data: { summaryId: summary.id, weekStart: summary.weekStart },
          },
        },
      ]);
      return { summary, created: true };
    },

    /** Newest week first; the read is audited like a summary's. */
    async list(query: { cursor?: string; limit?: number }, actor: Actor) {
      await deps.audit({ action: 'admin.fraud_summaries_listed', actor, resource: 'fraud_summary' });
      const page = await newestFirstPage(
        db.selectFrom('admin_fraud_summaries').select(columns),
        'period_start',
        (row) => row.period_start,
        { cursor: query.cursor, limit: Math.min(query.limit ?? 10, SUMMARIES_PAGE_MAX) },
      );
      return { items: page.rows.map(viewOf), nextCursor: page.nextCursor };
    },

    async read(id: string, actor: Actor): Promise<FraudSummaryView> {
      const row = await db
        .selectFrom('admin_fraud_summaries')
        .select(columns)
        .where('id', '=', id)
        .executeTakeFirst();
      if (row === undefined)
        throw adminErrors.of('not_found', 'fraud_summary_not_found', 'There is no such fraud summary.');
      await deps.audit({
        action: 'admin.fraud_summary_viewed',
        actor,
        resource: `fraud_summary:${id}`,
        newValue: { weekStart: row.week_start },
      });
      return viewOf(row);
    },
  };
}

export type FraudSummaries = ReturnType<typeof createFraudSummaries>;
