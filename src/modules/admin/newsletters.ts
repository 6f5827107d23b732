/**
 * Newsletter campaigns (issue #23, docs/admin.md "Newsletters"): an admin writes a message in
 * French and English for a segment of accounts, on chosen channels, previews how many it reaches,
 * schedules it and may cancel it before it starts (each action audited). A job sends it in
 * batches through notify: the audience is walked by account id and the campaign keeps its place
 * (`cursor_user_id`); each recipient's message is notify's intent named by (campaign, recipient),
 * so a batch done twice (a crash before the place was saved, two instances on one campaign)
 * records nothing twice. Consent is the person's marketing switches (identity's `promotions`
 * preferences, off by default), applied when the audience is read and again by notify when it
 * sends. Every message carries a signed one-click unsubscribe link; its SMS, the STOP keyword.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Actor, AuditFunction } from '../identity/index.js';
import { newestFirstPage } from './cursor.js';
import { adminErrors } from './errors.js';
import type { AdminDb, NewsletterStatus } from './tables.js';

export const NEWSLETTER_QUEUE = 'admin-newsletters';

/**
 * One recipient's message, as notify's newsletter port takes it (notify implements the port; the
 * admin context owns it, so it imports nothing of notify, which is built after payments).
 */
export interface NewsletterMessage {
  campaignId: string;
  recipientId: string;
  channels: readonly ('push' | 'sms' | 'email')[];
  title: string;
  body: string;
  sms: string;
}
/** What newsletters send through: notify's `newsletter` (a later need of admin's). */
export interface NewsletterNotifier {
  newsletter(messages: readonly NewsletterMessage[]): Promise<{ created: number }>;
}
export const NEWSLETTER_CHANNELS = ['push', 'sms', 'email'] as const;
export type NewsletterChannel = (typeof NEWSLETTER_CHANNELS)[number];
export const NEWSLETTER_LANGUAGES = ['fr', 'en'] as const;
export type NewsletterLanguage = (typeof NEWSLETTER_LANGUAGES)[number];
export const NEWSLETTERS_PAGE_MAX = 100;
/** A campaign may be scheduled at most this far ahead. */
const SCHEDULE_MAX_AHEAD_MS = 366 * 86_400_000;
/** Batches one job run sends per campaign: the run's work has a ceiling; the next run goes on. */
const MAX_BATCHES_PER_RUN = 50;

export interface NewsletterSegment {
  /** Accounts holding one of these roles; empty: any. */
  roles: string[];
  /** Accounts with an address in one of these cities (compared in lower case); empty: anywhere. */
  cities: string[];
  /** Only French- or English-speaking accounts; absent: both. */
  language?: NewsletterLanguage;
}

export interface NewsletterTexts {
  title: string;
  body: string;
  sms: string;
}
export type NewsletterTemplate = Record<NewsletterLanguage, NewsletterTexts>;

export interface NewsletterInput {
  name: string;
  segment: NewsletterSegment;
  template: NewsletterTemplate;
  channels: NewsletterChannel[];
}

export interface NewsletterView {
  id: string;
  name: string;
  segment: NewsletterSegment;
  template: NewsletterTemplate;
  channels: NewsletterChannel[];
  status: NewsletterStatus;
  scheduledAt: string | null;
  recipients: number;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  cancelledAt: string | null;
}

/** The audience port (identity's accounts with marketing consent), as the admin context uses it. */
export interface NewsletterAudience {
  page(
    query: NewsletterSegment & { channels: readonly NewsletterChannel[] },
    afterId: string | undefined,
    limit: number,
  ): Promise<readonly { id: string; locale: string }[]>;
  count(query: NewsletterSegment & { channels: readonly NewsletterChannel[] }): Promise<number>;
  /** Marketing off on every channel; whether it changed anything. */
  unsubscribe(userId: string): Promise<boolean>;
}

type CampaignRow = {
  id: string;
  name: string;
  segment: unknown;
  template: unknown;
  channels: string[];
  status: NewsletterStatus;
  scheduled_at: Date | null;
  cursor_user_id: string | null;
  recipients: number;
  version: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  cancelled_at: Date | null;
};

function viewOf(row: CampaignRow): NewsletterView {
  return {
    id: row.id,
    name: row.name,
    segment: row.segment as NewsletterSegment,
    template: row.template as NewsletterTemplate,
    channels: row.channels as NewsletterChannel[],
    status: row.status,
    scheduledAt: row.scheduled_at?.toISOString() ?? null,
    recipients: row.recipients,
    version: row.version,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    cancelledAt: row.cancelled_at?.toISOString() ?? null,
  };
}

/** Interpolation syntax of the templates' engine (i18next): the campaign's words are plain text. */
const TEMPLATE_SYNTAX = /\{\{|\}\}|\$t\(/;

/** The campaign's words are sent as written; the syntax of the template engine is refused. */
export function templateProblems(template: NewsletterTemplate): string[] {
  const problems: string[] = [];
  for (const language of NEWSLETTER_LANGUAGES)
    for (const part of ['title', 'body', 'sms'] as const) {
      const text = template[language][part];
      if (text.trim().length === 0) problems.push(`${language}.${part} is blank`);
      if (TEMPLATE_SYNTAX.test(text))
        problems.push(`${language}.${part} holds template syntax ({{, }} or $t()`);
    }
  return problems;
}

/** The SMS's STOP line: an SMS `STOP` already switches marketing SMS off (docs/notifications.md). */
const STOP_LINE: Record<NewsletterLanguage, string> = {
  fr: 'STOP pour ne plus recevoir',
  en: 'STOP to opt out',
};
const UNSUBSCRIBE_LINE: Record<NewsletterLanguage, string> = {
  fr: 'Se désabonner :',
  en: 'Unsubscribe:',
};

/**
 * One recipient's texts in their language (French unless the profile's locale is English): the
 * campaign's words, the body followed by the one-click unsubscribe link, the SMS by the STOP line.
 */
export function renderNewsletter(
  template: NewsletterTemplate,
  locale: string,
  unsubscribeUrl: string,
): NewsletterTexts {
  const language: NewsletterLanguage = locale.toLowerCase().startsWith('en') ? 'en' : 'fr';
  const texts = template[language];
  return {
    title: texts.title,
    body: `${texts.body}\n\n${UNSUBSCRIBE_LINE[language]} ${unsubscribeUrl}`,
    sms: `${texts.sms} ${STOP_LINE[language]}`,
  };
}

/**
 * A signed unsubscribe token: the account id and a keyed MAC of it (the personal-data blind-index
 * key from the environment, purpose `newsletter-unsubscribe`). It names one account and nothing
 * else; it does not expire (an unsubscribe link must keep working).
 */
export function unsubscribeTokens(mac: (userId: string) => string) {
  return {
    sign: (userId: string) => `${userId}.${mac(userId)}`,
    /** The account the token names, or undefined when it is not one we signed. */
    verify(token: string): string | undefined {
      const match =
        /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_+/=-]{16,128})$/.exec(
          token,
        );
      if (match === null) return undefined;
      const [, userId, signature] = match;
      const expected = Buffer.from(mac(userId!));
      const given = Buffer.from(signature!);
      return expected.length === given.length && timingSafeEqual(expected, given) ? userId : undefined;
    },
  };
}

export function createNewsletters(deps: {
  db: AdminDb;
  audit: AuditFunction;
  audience: NewsletterAudience;
  /** Notify's newsletter port (a later need: read when a job runs). */
  send: (messages: readonly NewsletterMessage[]) => Promise<{ created: number }>;
  tokens: ReturnType<typeof unsubscribeTokens>;
  /** Where the unsubscribe link points: `<base>/newsletters/unsubscribe?token=…`. */
  publicBaseUrl: string;
  batchSize: number;
  logger: Logger;
  now?: () => Date;
  /** Fault schedules only: called after a batch was handed to notify, before the place is saved. */
  afterBatchSent?: (campaignId: string, batch: number) => Promise<void> | void;
}) {
  const { db, audit, audience, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const audienceOf = (row: CampaignRow) => ({
    ...(row.segment as NewsletterSegment),
    channels: row.channels as NewsletterChannel[],
  });
  const unsubscribeUrl = (userId: string) =>
    `${deps.publicBaseUrl}/newsletters/unsubscribe?token=${encodeURIComponent(deps.tokens.sign(userId))}`;

  async function find(id: string): Promise<CampaignRow> {
    const row = await db
      .selectFrom('admin_newsletter_campaigns')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) throw adminErrors.notFound('No such newsletter campaign.');
    return row;
  }

  function checkTemplate(template: NewsletterTemplate): void {
    const problems = templateProblems(template);
    if (problems.length > 0)
      throw adminErrors.of(
        'validation',
        'newsletter_template_invalid',
        'Each text must be plain words, not blank, without template syntax.',
        { details: { problems } },
      );
  }

  async function create(
    input: NewsletterInput,
    actor: Actor,
    id: string = randomUUID(),
  ): Promise<NewsletterView> {
    checkTemplate(input.template);
    const segment: NewsletterSegment = {
      roles: [...new Set(input.segment.roles)].sort(),
      cities: [...new Set(input.segment.cities.map((city) => city.trim().toLowerCase()))].sort(),
      ...(input.segment.language === undefined ? {} : { language: input.segment.language }),
    };
    return db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('admin_newsletter_campaigns')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (existing !== undefined) return viewOf(existing);
      const row = await trx
        .insertInto('admin_newsletter_campaigns')
        .values({
          id,
          name: input.name.trim(),
          segment: JSON.stringify(segment),
          template: JSON.stringify(input.template),
          channels: [...new Set(input.channels)].sort(),
          status: 'draft',
          created_by: actor.userId ?? actor.kind,
          // Milliseconds, as the list's cursor carries them (a microsecond stamp would be skipped).
          created_at: now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(
        {
          action: 'admin.newsletter_created',
          actor,
          resource: `newsletter:${id}`,
          newValue: { name: row.name, segment, channels: row.channels },
        },
        trx,
      );
      return viewOf(row);
    });
  }

  /** A change of status under the row's lock, audited in the same transaction. */
  async function transition(
    id: string,
    actor: Actor,
    change: (row: CampaignRow) => { set: Record<string, unknown>; action: string; newValue: object } | 'same',
  ): Promise<NewsletterView> {
    return db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('admin_newsletter_campaigns')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (row === undefined) throw adminErrors.notFound('No such newsletter campaign.');
      const planned = change(row);
      if (planned === 'same') return viewOf(row);
      const updated = await trx
        .updateTable('admin_newsletter_campaigns')
        .set({ ...planned.set, version: row.version + 1, updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(
        {
          action: planned.action,
          actor,
          resource: `newsletter:${id}`,
          oldValue: { status: row.status, scheduledAt: row.scheduled_at?.toISOString() ?? null },
          newValue: planned.newValue,
        },
        trx,
      );
      return viewOf(updated);
    });
  }

  const started = (row: CampaignRow) =>
    adminErrors.of(
      'conflict',
      'newsletter_started',
      'The campaign has started or ended: it can no longer change.',
      {
        details: { campaignStatus: row.status },
      },
    );

  function schedule(id: string, input: { at: string }, actor: Actor): Promise<NewsletterView> {
    const at = new Date(input.at);
    const moment = now().getTime();
    if (
      Number.isNaN(at.getTime()) ||
      at.getTime() < moment - 60_000 ||
      at.getTime() > moment + SCHEDULE_MAX_AHEAD_MS
    )
      throw adminErrors.of(
        'validation',
        'newsletter_schedule_invalid',
        'Schedule it from now to a year ahead.',
      );
    return transition(id, actor, (row) => {
      if (row.status !== 'draft' && row.status !== 'scheduled') throw started(row);
      return {
        set: { status: 'scheduled', scheduled_at: at },
        action: 'admin.newsletter_scheduled',
        newValue: { status: 'scheduled', scheduledAt: at.toISOString() },
      };
    });
  }

  function cancel(id: string, actor: Actor): Promise<NewsletterView> {
    return transition(id, actor, (row) => {
      // Cancelled already: the same answer, nothing changes.
      if (row.status === 'cancelled') return 'same';
      if (row.status !== 'draft' && row.status !== 'scheduled') throw started(row);
      return {
        set: {
          status: 'cancelled',
          cancelled_at: sql<Date>`now()`,
          cancelled_by: actor.userId ?? actor.kind,
        },
        action: 'admin.newsletter_cancelled',
        newValue: { status: 'cancelled' },
      };
    });
  }

  /** A dry run: how many accounts the campaign would reach now (consent included); nothing sent. */
  async function preview(id: string, actor: Actor) {
    const row = await find(id);
    const count = await audience.count(audienceOf(row));
    await audit({
      action: 'admin.newsletter_previewed',
      actor,
      resource: `newsletter:${id}`,
      newValue: { audience: count },
    });
    return {
      campaignId: id,
      audience: count,
      channels: row.channels as NewsletterChannel[],
      segment: row.segment as NewsletterSegment,
    };
  }

  async function list(query: {
    status?: NewsletterStatus | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  }) {
    let select = db.selectFrom('admin_newsletter_campaigns').selectAll();
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    const { rows, nextCursor } = await newestFirstPage(select, 'created_at', (row) => row.created_at, {
      cursor: query.cursor,
      limit: Math.min(query.limit ?? 20, NEWSLETTERS_PAGE_MAX),
    });
    return { items: rows.map(viewOf), nextCursor };
  }

  /**
   * One batch of a sending campaign: the next accounts after its place, their messages recorded
   * by notify (named by campaign and recipient), then the place moved on. Answers false when the
   * audience is exhausted and the campaign is marked sent (by whichever instance gets there).
   */
  async function sendBatch(row: CampaignRow, batch: number): Promise<boolean> {
    const page = await audience.page(audienceOf(row), row.cursor_user_id ?? undefined, deps.batchSize);
    if (page.length === 0) {
      const finished = await db
        .updateTable('admin_newsletter_campaigns')
        .set({ status: 'sent', finished_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('id', '=', row.id)
        .where('status', '=', 'sending')
        .returning(['recipients'])
        .executeTakeFirst();
      if (finished !== undefined)
        await audit({
          action: 'admin.newsletter_sent',
          actor: { kind: 'system' },
          resource: `newsletter:${row.id}`,
          newValue: { recipients: finished.recipients },
        });
      return false;
    }
    const template = row.template as NewsletterTemplate;
    await deps.send(
      page.map((person) => ({
        campaignId: row.id,
        recipientId: person.id,
        channels: row.channels as NewsletterChannel[],
        ...renderNewsletter(template, person.locale, unsubscribeUrl(person.id)),
      })),
    );
    await deps.afterBatchSent?.(row.id, batch);
    // The place moves on from where this batch started only: an instance that finds it moved
    // (another did this batch) counts nothing and goes on from the other's place. So `recipients`
    // counts each account once, whether its intent was new or recorded by a run that died.
    const moved = await db
      .updateTable('admin_newsletter_campaigns')
      .set({
        recipients: sql<number>`recipients + ${page.length}`,
        cursor_user_id: page.at(-1)!.id,
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', row.id)
      .where(sql<boolean>`cursor_user_id IS NOT DISTINCT FROM ${row.cursor_user_id}::uuid`)
      .returningAll()
      .executeTakeFirst();
    Object.assign(row, moved ?? (await find(row.id)));
    return true;
  }

  /**
   * The job: due campaigns start (scheduled → sending, audited by the system once), then every
   * sending campaign goes on from its place, at most MAX_BATCHES_PER_RUN batches each.
   */
  async function runDue(at: Date = now()): Promise<{ campaigns: number; batches: number }> {
    const starting = await db
      .updateTable('admin_newsletter_campaigns')
      .set({ status: 'sending', started_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
      .where('status', '=', 'scheduled')
      .where('scheduled_at', '<=', at)
      .returning(['id'])
      .execute();
    for (const { id } of starting)
      await audit({
        action: 'admin.newsletter_started',
        actor: { kind: 'system' },
        resource: `newsletter:${id}`,
        newValue: { status: 'sending' },
      });
    const sending = await db
      .selectFrom('admin_newsletter_campaigns')
      .selectAll()
      .where('status', '=', 'sending')
      .orderBy('scheduled_at')
      .execute();
    let batches = 0;
    for (const row of sending) {
      for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch += 1) {
        if (!(await sendBatch(row, batch))) break;
        batches += 1;
      }
      logger.info({ campaignId: row.id, recipients: row.recipients }, 'newsletter batches sent');
    }
    return { campaigns: sending.length, batches };
  }

  /** One-click unsubscribe: marketing off on every channel; idempotent; a bad token is a 400. */
  async function unsubscribe(token: string): Promise<{ unsubscribed: true }> {
    const userId = deps.tokens.verify(token);
    if (userId === undefined)
      throw adminErrors.of('validation', 'unsubscribe_token_invalid', 'This unsubscribe link is not valid.');
    if (await audience.unsubscribe(userId))
      await audit({
        action: 'newsletter.unsubscribed',
        actor: { kind: 'user', userId },
        subjectUserId: userId,
        resource: `user:${userId}`,
        newValue: { promotions: { push: false, sms: false, email: false } },
      });
    return { unsubscribed: true };
  }

  return {
    create,
    get: async (id: string) => viewOf(await find(id)),
    list,
    preview,
    schedule,
    cancel,
    runDue,
    unsubscribe,
    unsubscribeUrl,
  };
}

export type Newsletters = ReturnType<typeof createNewsletters>;
