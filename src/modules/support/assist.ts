/**
 * AI assist for agents: a suggested reply and a category for a ticket, from its conversation, its
 * order's status and the closest help articles. Never sent by itself: the agent reads, edits and
 * sends it as any message. Personal data is replaced by placeholders before anything leaves
 * (assist-rules.ts `redact`: phone numbers, e-mails, the opener's and agent's names, names people
 * introduce themselves with). With no model configured (no GEMINI_API_KEY), or when it fails or
 * times out, the answer is deterministic: a keyword category and a templated reply quoting the
 * closest article. Answers are cached per ticket and last message.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import {
  fallbackReply,
  keywordCategory,
  parseAssistOutput,
  promptOf,
  redact,
  systemInstruction,
} from './assist-rules.js';
import type { TextModel as AssistModel } from '../../platform/gemini/index.js';
import type { KnowledgeBase } from './knowledge-base.js';
import type { SupportCaller, SupportService } from './service.js';
import type { Category, Locale } from './tables.js';

const CACHE_MAX = 1_000;
const CACHE_TTL_MS = 10 * 60_000;
const MAX_OUTPUT_TOKENS = 512;

export interface AssistSuggestion {
  reply: string;
  category: Category;
  source: 'model' | 'fallback';
  model: string | null;
  articles: { slug: string; locale: Locale; title: string }[];
}

export function createSupportAssist(deps: {
  support: SupportService;
  knowledgeBase: KnowledgeBase;
  model: AssistModel | undefined;
  /** The person's name if known (identity), only to redact it. */
  nameOf(userId: string): Promise<string | null>;
  logger: Logger;
}) {
  const cache = new LRUCache<string, AssistSuggestion>({ max: CACHE_MAX, ttl: CACHE_TTL_MS });

  async function suggest(caller: SupportCaller, ticketId: string, locale: Locale): Promise<AssistSuggestion> {
    // The staff read is the service's (audited as a view); others get its 404.
    const ticket = await deps.support.read(caller, ticketId);
    const visible = ticket.messages.filter((message) => !message.internal && message.body !== null);
    const key = `${ticket.id}:${visible.at(-1)?.id ?? ''}:${locale}`;
    const cached = cache.get(key);
    if (cached !== undefined) return cached;

    const text = `${ticket.subject ?? ''} ${visible.map((message) => message.body).join(' ')}`;
    const articles = await deps.knowledgeBase.suggest(text, locale, ticket.category);
    const details = await Promise.all(
      articles.map((article) =>
        deps.knowledgeBase.read(article.slug, article.locale, false).catch(() => undefined),
      ),
    );
    const quoted = details.flatMap((article) =>
      article === undefined ? [] : [{ title: article.title, excerpt: article.excerpt }],
    );
    const fallback = (): AssistSuggestion => ({
      reply: fallbackReply(locale, quoted[0]),
      category: keywordCategory(text),
      source: 'fallback',
      model: null,
      articles: articles.map(({ slug, locale: language, title }) => ({ slug, locale: language, title })),
    });
    if (deps.model === undefined) return remember(key, fallback());

    const names = (await Promise.all([ticket.openerId, caller.userId].map((id) => deps.nameOf(id)))).filter(
      (name): name is string => name !== null,
    );
    const prompt = promptOf({
      category: ticket.category,
      order: ticket.order,
      articles: quoted.map((article) => ({ title: article.title, excerpt: redact(article.excerpt, names) })),
      messages: visible.map((message) => ({ from: message.from, body: redact(message.body!, names) })),
    });
    try {
      const raw = await deps.model.generate({
        system: systemInstruction(locale),
        prompt,
        maxOutputTokens: MAX_OUTPUT_TOKENS,
      });
      const parsed = parseAssistOutput(raw);
      if (parsed === undefined) throw new Error('the model answered nothing usable');
      return remember(key, {
        ...fallback(),
        reply: parsed.reply,
        category: parsed.category ?? keywordCategory(text),
        source: 'model',
        model: deps.model.name,
      });
    } catch (error) {
      // Not cached: the next request tries the model again.
      deps.logger.warn({ err: error, ticketId: ticket.id }, 'support assist fell back');
      return fallback();
    }
  }

  function remember(key: string, suggestion: AssistSuggestion): AssistSuggestion {
    cache.set(key, suggestion);
    return suggestion;
  }

  return { suggest };
}

export type SupportAssist = ReturnType<typeof createSupportAssist>;
