/**
 * Canned responses (issue #22): reply texts in French and English that supervisors write and
 * change (every change audited, with the version read: two supervisors at once get 409), and that
 * agents list by language and send as a ticket message (`cannedResponseId` on
 * `POST …/messages`). Staff-written, not personal data. At most CANNED_MAX per language.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import { supportErrors } from './errors.js';
import type { SupportActor, SupportAudit } from './ports.js';
import type { Locale, SupportCannedResponsesTable, SupportDb } from './tables.js';

export const CANNED_MAX = 500;
export const CANNED_PAGE_MAX = 100;
export const CANNED_TITLE_MAX = 120;
export const CANNED_BODY_MAX = 2_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Row = Selectable<SupportCannedResponsesTable>;
type Author = SupportActor & { userId: string };

export interface CannedInput {
  shortcut: string;
  locale: Locale;
  title: string;
  body: string;
  category?: string | null;
}

export interface CannedChange {
  version: number;
  title?: string;
  body?: string;
  category?: string | null;
  status?: 'active' | 'archived';
}

function view(row: Row) {
  return {
    id: row.id,
    shortcut: row.shortcut,
    locale: row.locale,
    title: row.title,
    body: row.body,
    category: row.category,
    status: row.status,
    version: row.version,
    updatedAt: row.updated_at.toISOString(),
  };
}

export type CannedView = ReturnType<typeof view>;

function text(field: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0)
    throw supportErrors.of('validation', 'text_blank', `The ${field} holds only spaces.`, {
      details: { field },
    });
  return trimmed;
}

const notFound = () =>
  supportErrors.of('not_found', 'canned_response_not_found', 'There is no such canned response.');

export function createCannedResponses(deps: {
  db: SupportDb;
  audit: SupportAudit;
  /** Supervisors and admins write canned responses; every agent uses them. */
  isSupervisor: (userId: string, admin: boolean) => Promise<boolean>;
}) {
  const { db } = deps;

  async function requireSupervisor(actor: Author, admin: boolean) {
    if (!(await deps.isSupervisor(actor.userId, admin)))
      throw supportErrors.of(
        'forbidden',
        'supervisor_required',
        'Only a supervisor writes canned responses.',
      );
  }

  /** Active responses in a language (archived too with `status`), by shortcut, after `after`. */
  async function list(query: {
    locale: Locale;
    status?: 'active' | 'archived';
    q?: string;
    after?: string;
    limit?: number;
  }) {
    const limit = Math.min(Math.max(query.limit ?? 50, 1), CANNED_PAGE_MAX);
    const words = (query.q ?? '')
      .toLowerCase()
      .replace(/[%_\\]/g, ' ')
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 8);
    const rows = await db
      .selectFrom('support_canned_responses')
      .selectAll()
      .where('locale', '=', query.locale)
      .where('status', '=', query.status ?? 'active')
      .$if(query.after !== undefined, (builder) => builder.where('shortcut', '>', query.after!))
      .$call((builder) =>
        words.reduce(
          (current, word) =>
            current.where(sql<boolean>`(shortcut || ' ' || lower(title)) LIKE ${`%${word}%`}`),
          builder,
        ),
      )
      .orderBy('shortcut')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    return {
      items: page.map(view),
      nextAfter: rows.length > limit ? (page.at(-1)?.shortcut ?? null) : null,
    };
  }

  /** One response, whatever its status (404 otherwise). */
  async function read(id: string): Promise<CannedView> {
    const row = UUID.test(id)
      ? await db.selectFrom('support_canned_responses').selectAll().where('id', '=', id).executeTakeFirst()
      : undefined;
    if (row === undefined) throw notFound();
    return view(row);
  }

  /** An active response, to send as a message (404 otherwise). */
  async function usable(id: string): Promise<CannedView> {
    const row = UUID.test(id)
      ? await db
          .selectFrom('support_canned_responses')
          .selectAll()
          .where('id', '=', id)
          .where('status', '=', 'active')
          .executeTakeFirst()
      : undefined;
    if (row === undefined) throw notFound();
    return view(row);
  }

  async function create(actor: Author, admin: boolean, input: CannedInput, id: string = randomUUID()) {
    await requireSupervisor(actor, admin);
    const title = text('title', input.title);
    const body = text('body', input.body);
    const existing = await db
      .selectFrom('support_canned_responses')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (existing !== undefined) return view(existing);
    const count = await db
      .selectFrom('support_canned_responses')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('locale', '=', input.locale)
      .executeTakeFirstOrThrow();
    if (Number(count.count) >= CANNED_MAX)
      throw supportErrors.of(
        'conflict',
        'canned_responses_full',
        `A language holds at most ${CANNED_MAX} canned responses; archive or change one.`,
        { details: { max: CANNED_MAX } },
      );
    const inserted = await db
      .insertInto('support_canned_responses')
      .values({
        id,
        shortcut: input.shortcut,
        locale: input.locale,
        title,
        body,
        category: input.category ?? null,
        created_by: actor.userId,
        updated_by: actor.userId,
      })
      .onConflict((conflict) => conflict.columns(['locale', 'shortcut']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted === undefined)
      throw supportErrors.of(
        'conflict',
        'canned_shortcut_taken',
        'A canned response with this shortcut exists in this language; change it instead.',
        { details: { shortcut: input.shortcut, locale: input.locale } },
      );
    await deps.audit({
      action: 'support.canned_created',
      actor,
      resource: `support_canned_response:${id}`,
      newValue: { shortcut: inserted.shortcut, locale: inserted.locale, title, category: inserted.category },
    });
    return view(inserted);
  }

  /** Changes a response as of the version the supervisor read (else 409 `canned_changed`). */
  async function update(actor: Author, admin: boolean, id: string, change: CannedChange) {
    await requireSupervisor(actor, admin);
    const row = UUID.test(id)
      ? await db.selectFrom('support_canned_responses').selectAll().where('id', '=', id).executeTakeFirst()
      : undefined;
    if (row === undefined) throw notFound();
    const title = change.title === undefined ? row.title : text('title', change.title);
    const body = change.body === undefined ? row.body : text('body', change.body);
    const updated = await db
      .updateTable('support_canned_responses')
      .set({
        title,
        body,
        category: change.category === undefined ? row.category : change.category,
        status: change.status ?? row.status,
        version: row.version + 1,
        updated_by: actor.userId,
        updated_at: sql`now()`,
      })
      .where('id', '=', id)
      .where('version', '=', change.version)
      .returningAll()
      .executeTakeFirst();
    if (updated === undefined)
      throw supportErrors.of(
        'conflict',
        'canned_changed',
        'The canned response changed meanwhile; reload it and retry.',
        { details: { version: row.version } },
      );
    await deps.audit({
      action: 'support.canned_updated',
      actor,
      resource: `support_canned_response:${id}`,
      oldValue: { version: row.version, status: row.status, title: row.title, bodyChars: row.body.length },
      newValue: {
        version: updated.version,
        status: updated.status,
        title: updated.title,
        bodyChars: updated.body.length,
      },
    });
    return view(updated);
  }

  return { list, read, usable, create, update };
}

export type CannedResponses = ReturnType<typeof createCannedResponses>;
