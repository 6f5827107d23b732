/**
 * The knowledge base: FAQ articles in French and English, written by support staff (every change
 * audited), read by anyone once published, searched with PostgreSQL full text in the reader's
 * language, and suggested to a person opening a ticket (the articles closest to what they wrote).
 */
import { randomUUID } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { supportErrors } from './errors.js';
import {
  excerptOf,
  normalizeText,
  searchTsquery,
  suggestionTsquery,
  TEXT_SEARCH_CONFIG,
} from './kb-rules.js';
import type { SupportActor, SupportAudit } from './ports.js';
import type { ArticleStatus, Category, Locale, SupportArticlesTable, SupportDb } from './tables.js';
import type { Selectable } from 'kysely';

export const ARTICLE_PAGE_MAX = 50;
export const SUGGESTIONS_MAX = 3;
type ArticleRow = Omit<Selectable<SupportArticlesTable>, 'search_vector'>;

export interface ArticleInput {
  slug: string;
  locale: Locale;
  title: string;
  body: string;
  category?: Category | null;
  status?: ArticleStatus;
}

export interface ArticleChange {
  version: number;
  title?: string;
  body?: string;
  category?: Category | null;
  status?: ArticleStatus;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function vectorOf(locale: Locale, title: string, body: string): RawBuilder<string> {
  const config = sql.lit(TEXT_SEARCH_CONFIG[locale]);
  return sql<string>`setweight(to_tsvector(${config}::regconfig, ${normalizeText(title)}), 'A') || setweight(to_tsvector(${config}::regconfig, ${normalizeText(body)}), 'B')`;
}

function tsquery(locale: Locale, text: string): RawBuilder<unknown> {
  return sql`to_tsquery(${sql.lit(TEXT_SEARCH_CONFIG[locale])}::regconfig, ${text})`;
}

function blank(field: string, text: string): string {
  const trimmed = text.trim();
  if (trimmed.length === 0)
    throw supportErrors.of('validation', 'text_blank', `The ${field} holds only spaces.`, {
      details: { field },
    });
  return trimmed;
}

const notFound = () =>
  supportErrors.of('not_found', 'article_not_found', 'There is no such article among those you may see.');

export function createKnowledgeBase(deps: { db: SupportDb; audit: SupportAudit }) {
  const { db } = deps;

  const summary = (row: ArticleRow) => ({
    id: row.id,
    slug: row.slug,
    locale: row.locale,
    title: row.title,
    excerpt: excerptOf(row.body),
    category: row.category,
    status: row.status,
    updatedAt: row.updated_at.toISOString(),
  });
  const full = (row: ArticleRow) => ({ ...summary(row), body: row.body, version: row.version });

  const columns = [
    'id',
    'slug',
    'locale',
    'title',
    'body',
    'category',
    'status',
    'version',
    'created_by',
    'updated_by',
    'created_at',
    'updated_at',
  ] as const;

  /** Published articles of a language: those matching every word (by rank), or the newest. */
  async function search(query: { q?: string; locale: Locale; category?: Category; limit?: number }) {
    const limit = Math.min(Math.max(query.limit ?? 10, 1), ARTICLE_PAGE_MAX);
    const text = query.q === undefined ? undefined : searchTsquery(query.q);
    if (query.q !== undefined && text === undefined) return { items: [] };
    const rows = await db
      .selectFrom('support_articles')
      .select(columns)
      .where('status', '=', 'published')
      .where('locale', '=', query.locale)
      .$if(query.category !== undefined, (q) => q.where('category', '=', query.category!))
      .$if(text !== undefined, (q) =>
        q
          .where(sql<boolean>`search_vector @@ ${tsquery(query.locale, text!)}`)
          .orderBy(sql`ts_rank(search_vector, ${tsquery(query.locale, text!)})`, 'desc'),
      )
      .orderBy('updated_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return { items: rows.map(summary) };
  }

  /** The articles closest to a ticket's text (any of its words, ranked; its category first). */
  async function suggest(text: string, locale: Locale, category: Category) {
    const query = suggestionTsquery(text);
    if (query === undefined) return [];
    const rows = await db
      .selectFrom('support_articles')
      .select(['id', 'slug', 'locale', 'title', 'body', 'category', 'updated_at', 'status'])
      .where('status', '=', 'published')
      .where('locale', '=', locale)
      .where(sql<boolean>`search_vector @@ ${tsquery(locale, query)}`)
      .orderBy(
        sql`ts_rank(search_vector, ${tsquery(locale, query)}) + CASE WHEN category = ${category} THEN 0.1 ELSE 0 END`,
        'desc',
      )
      .orderBy('id')
      .limit(SUGGESTIONS_MAX)
      .execute();
    return rows.map((row) => ({ id: row.id, slug: row.slug, locale: row.locale, title: row.title }));
  }

  /** One article by slug and language: published for anyone, any status for staff. */
  async function read(slug: string, locale: Locale, staff: boolean) {
    const row = await db
      .selectFrom('support_articles')
      .select(columns)
      .where('slug', '=', slug)
      .where('locale', '=', locale)
      .executeTakeFirst();
    if (row === undefined || (!staff && row.status !== 'published')) throw notFound();
    const translations = await db
      .selectFrom('support_articles')
      .select('locale')
      .where('slug', '=', slug)
      .where('locale', '!=', locale)
      .$if(!staff, (q) => q.where('status', '=', 'published'))
      .execute();
    return { ...full(row), translations: translations.map((translation) => translation.locale) };
  }

  /** Every article for staff (drafts and archived too), by slug then language, in cursor pages. */
  async function list(query: { status?: ArticleStatus; locale?: Locale; cursor?: string; limit?: number }) {
    const limit = Math.min(Math.max(query.limit ?? 20, 1), ARTICLE_PAGE_MAX);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await db
      .selectFrom('support_articles')
      .select(columns)
      .$if(query.status !== undefined, (q) => q.where('status', '=', query.status!))
      .$if(query.locale !== undefined, (q) => q.where('locale', '=', query.locale!))
      .$if(after !== undefined, (q) =>
        q.where(({ eb, refTuple, tuple }) =>
          eb(refTuple('slug', 'locale'), '>', tuple(after![0], after![1] as Locale)),
        ),
      )
      .orderBy('slug')
      .orderBy('locale')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(summary),
      nextCursor:
        rows.length > limit && last !== undefined
          ? Buffer.from(JSON.stringify([last.slug, last.locale])).toString('base64url')
          : null,
    };
  }

  async function create(
    actor: SupportActor & { userId: string },
    input: ArticleInput,
    id: string = randomUUID(),
  ) {
    const title = blank('title', input.title);
    const body = blank('body', input.body);
    const existing = await db
      .selectFrom('support_articles')
      .select(columns)
      .where('id', '=', id)
      .executeTakeFirst();
    if (existing !== undefined) return full(existing);
    const inserted = await db
      .insertInto('support_articles')
      .values({
        id,
        slug: input.slug,
        locale: input.locale,
        title,
        body,
        category: input.category ?? null,
        status: input.status ?? 'draft',
        search_vector: vectorOf(input.locale, title, body) as never,
        created_by: actor.userId,
        updated_by: actor.userId,
      })
      .onConflict((conflict) => conflict.columns(['slug', 'locale']).doNothing())
      .returning(columns)
      .executeTakeFirst();
    if (inserted === undefined)
      throw supportErrors.of(
        'conflict',
        'article_slug_taken',
        'An article with this slug exists in this language.',
        {
          details: { slug: input.slug, locale: input.locale },
        },
      );
    await deps.audit({
      action: 'support.article_created',
      actor,
      resource: `support_article:${id}`,
      newValue: {
        slug: input.slug,
        locale: input.locale,
        status: inserted.status,
        category: inserted.category,
      },
    });
    return full(inserted);
  }

  /** Changes an article as of the version the author read (else 409 `article_changed`). */
  async function update(actor: SupportActor & { userId: string }, id: string, change: ArticleChange) {
    const row = UUID.test(id)
      ? await db.selectFrom('support_articles').select(columns).where('id', '=', id).executeTakeFirst()
      : undefined;
    if (row === undefined) throw notFound();
    const title = change.title === undefined ? row.title : blank('title', change.title);
    const body = change.body === undefined ? row.body : blank('body', change.body);
    const updated = await db
      .updateTable('support_articles')
      .set({
        title,
        body,
        category: change.category === undefined ? row.category : change.category,
        status: change.status ?? row.status,
        search_vector: vectorOf(row.locale, title, body) as never,
        version: row.version + 1,
        updated_by: actor.userId,
        updated_at: sql`now()`,
      })
      .where('id', '=', id)
      .where('version', '=', change.version)
      .returning(columns)
      .executeTakeFirst();
    if (updated === undefined)
      throw supportErrors.of(
        'conflict',
        'article_changed',
        'The article changed meanwhile; reload it and retry.',
        {
          details: { version: row.version },
        },
      );
    await deps.audit({
      action: 'support.article_updated',
      actor,
      resource: `support_article:${id}`,
      oldValue: { version: row.version, status: row.status, category: row.category, title: row.title },
      newValue: {
        version: updated.version,
        status: updated.status,
        category: updated.category,
        title: updated.title,
      },
    });
    return full(updated);
  }

  return { search, suggest, read, list, create, update };
}

export type KnowledgeBase = ReturnType<typeof createKnowledgeBase>;

function decodeCursor(cursor: string): [string, string] {
  const invalid = () =>
    supportErrors.of('validation', 'invalid_cursor', 'The page cursor is not one this API issued.');
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string'))
      return value as [string, string];
  } catch {
    // falls through to the refusal
  }
  throw invalid();
}
