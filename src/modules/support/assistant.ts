/**
 * The first-line assistant for customers, restaurant owners and drivers (docs/support.md, "First-
 * line assistant"): it answers a question from the knowledge base (the closest published article
 * in the person's language, when it covers at least SUPPORT_ASSISTANT_MIN_CONFIDENCE_PERCENT of
 * the question's words) or, for a question about an order they are party to, from the order's
 * status (orders' `parties` port). When asked for a person ("agent", "humain"…) or unsure, it
 * hands over: the question becomes the person's message on their ticket (a new ticket, or the one
 * they are on), where agents answer it like any other, chat included.
 *
 * With a model (Gemini, within the daily call budget) it rephrases what the article or the order
 * says; the model never decides whether to answer or to hand over, and a failure, a timeout or a
 * garbage answer gives the deterministic text. Personal data is redacted before anything leaves.
 */
import type { Logger } from 'pino';
import { keywordCategory, parseAssistOutput, redact } from './assist-rules.js';
import {
  ANSWER_EXCERPT_CHARS,
  articleAnswer,
  asksAboutOrder,
  asksForHuman,
  assistantInstruction,
  assistantPrompt,
  coverage,
  handoverAnswer,
  orderStatusAnswer,
  withHumanNote,
} from './assistant-rules.js';
import { supportErrors } from './errors.js';
import type { TextModel as AssistModel } from '../../platform/gemini/index.js';
import { excerptOf } from './kb-rules.js';
import type { KnowledgeBase } from './knowledge-base.js';
import type { SupportOrderPartiesPort } from './ports.js';
import type { SupportCaller, SupportService } from './service.js';
import type { Locale } from './tables.js';

const MAX_OUTPUT_TOKENS = 300;
const SUBJECT_CHARS = 60;

export interface AssistantQuestion {
  question: string;
  orderId?: string;
  ticketId?: string;
}

export interface AssistantAnswer {
  answer: string;
  /** Where the answer comes from: a help article, the order's status, or the hand-over to a person. */
  source: 'knowledge_base' | 'order_status' | 'handover';
  /** The article's coverage of the question (1 for an order's status, 0 when nothing matched). */
  confidence: number;
  handover: { reason: 'asked' | 'unsure'; ticketId: string } | null;
  articles: { slug: string; locale: Locale; title: string }[];
  order: { orderId: string; status: string } | null;
  /** The model that rephrased the answer, or null (deterministic text). */
  model: string | null;
}

/**
 * The reply of the model's JSON answer, cleaned and capped; undefined for anything else (plain
 * text, broken JSON, a reply that is not a string): a customer never sees half a JSON document.
 */
function strictReply(raw: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const reply = (parsed as { reply?: unknown }).reply;
  return typeof reply === 'string' ? parseAssistOutput(JSON.stringify({ reply }))?.reply : undefined;
}

export function createSupportAssistant(deps: {
  support: SupportService;
  knowledgeBase: KnowledgeBase;
  orders: SupportOrderPartiesPort;
  model: AssistModel | undefined;
  /** 0 to 1: below it, the assistant hands over. */
  minConfidence: number;
  nameOf(userId: string): Promise<string | null>;
  logger: Logger;
}) {
  /** The order the question is about: the one named, else the ticket's; only one the caller is party to. */
  async function orderOf(caller: SupportCaller, orderId: string | undefined) {
    if (orderId === undefined) return undefined;
    const parties = await deps.orders.partiesOf(orderId);
    const party =
      parties !== undefined &&
      [parties.customerId, parties.restaurantOwnerId, parties.driverId].includes(caller.userId);
    if (!party) throw supportErrors.of('not_found', 'order_not_found', 'There is no such order among yours.');
    return parties;
  }

  /**
   * The best-covering published article among the closest ones. Coverage is measured on the
   * redacted question: a name or a number is not a word the article should hold.
   */
  async function bestArticle(question: string, locale: Locale) {
    const found = await deps.knowledgeBase.suggest(question, locale, keywordCategory(question));
    const details = await Promise.all(
      found.map((article) =>
        deps.knowledgeBase.read(article.slug, article.locale, false).catch(() => undefined),
      ),
    );
    let best: { slug: string; locale: Locale; title: string; body: string; score: number } | undefined;
    for (const article of details) {
      if (article === undefined) continue;
      const score = coverage(redact(question), article);
      if (best === undefined || score > best.score)
        best = {
          slug: article.slug,
          locale: article.locale,
          title: article.title,
          body: article.body,
          score,
        };
    }
    return {
      best,
      articles: found.map(({ slug, locale: language, title }) => ({ slug, locale: language, title })),
    };
  }

  /** The model's rephrasing, or undefined (no model, budget spent, error, timeout, nothing usable). */
  async function rephrase(
    caller: SupportCaller,
    locale: Locale,
    question: string,
    article: { title: string; body: string } | null,
    orderStatus: string | null,
  ): Promise<string | undefined> {
    if (deps.model === undefined) return undefined;
    try {
      const name = await deps.nameOf(caller.userId);
      const raw = await deps.model.generate({
        system: assistantInstruction(locale),
        prompt: assistantPrompt({
          question: redact(question, name === null ? [] : [name]),
          article,
          orderStatus,
        }),
        maxOutputTokens: MAX_OUTPUT_TOKENS,
      });
      return strictReply(raw);
    } catch (error) {
      deps.logger.warn({ err: error }, 'support assistant fell back to its own text');
      return undefined;
    }
  }

  /** The question handed to a person: the caller's message on their ticket, or a new ticket. */
  async function handOver(
    caller: SupportCaller,
    input: AssistantQuestion,
    question: string,
    locale: Locale,
    ids: { ticketId?: string; messageId?: string },
  ): Promise<string> {
    if (input.ticketId !== undefined) {
      await deps.support.addMessage(caller, input.ticketId, { body: question }, ids.messageId);
      return input.ticketId;
    }
    const ticket = await deps.support.open(
      caller,
      {
        category: keywordCategory(question),
        subject: question.replace(/\s+/g, ' ').slice(0, SUBJECT_CHARS),
        body: question,
        ...(input.orderId === undefined ? {} : { orderId: input.orderId }),
      },
      ids.ticketId,
      locale,
    );
    return ticket.id;
  }

  async function ask(
    caller: SupportCaller,
    input: AssistantQuestion,
    locale: Locale,
    ids: { ticketId?: string; messageId?: string } = {},
  ): Promise<AssistantAnswer> {
    const question = input.question.trim();
    if (question.length === 0)
      throw supportErrors.of('validation', 'text_blank', 'The question holds only spaces.', {
        details: { field: 'question' },
      });
    // The ticket must be the caller's (its 404 otherwise); its order is the question's by default.
    const ticket = input.ticketId === undefined ? undefined : await deps.support.read(caller, input.ticketId);
    if (ticket !== undefined && ticket.openerId !== caller.userId)
      throw supportErrors.of(
        'not_found',
        'ticket_not_found',
        'There is no such ticket among those you may see.',
      );
    const order = await orderOf(caller, input.orderId ?? ticket?.orderId ?? undefined);
    const orderView = order === undefined ? null : { orderId: order.orderId, status: order.status };
    const handover = async (
      reason: 'asked' | 'unsure',
      confidence: number,
      articles: AssistantAnswer['articles'],
    ) => {
      const ticketId = await handOver(caller, input, question, locale, ids);
      return {
        answer: handoverAnswer(locale, reason, ticketId),
        source: 'handover' as const,
        confidence,
        handover: { reason, ticketId },
        articles,
        order: orderView,
        model: null,
      };
    };

    if (asksForHuman(question)) return handover('asked', 0, []);
    if (order !== undefined && asksAboutOrder(question)) {
      const rephrased = await rephrase(caller, locale, question, null, order.status);
      return {
        answer:
          rephrased === undefined
            ? orderStatusAnswer(locale, order.status)
            : withHumanNote(locale, rephrased),
        source: 'order_status',
        confidence: 1,
        handover: null,
        articles: [],
        order: orderView,
        model: rephrased === undefined ? null : deps.model!.name,
      };
    }
    const { best, articles } = await bestArticle(question, locale);
    const confidence = best?.score ?? 0;
    if (best === undefined || confidence < deps.minConfidence)
      return handover('unsure', confidence, articles);
    const rephrased = await rephrase(caller, locale, question, best, order?.status ?? null);
    return {
      answer:
        rephrased === undefined
          ? articleAnswer(locale, { title: best.title, excerpt: excerptOf(best.body, ANSWER_EXCERPT_CHARS) })
          : withHumanNote(locale, rephrased),
      source: 'knowledge_base',
      confidence,
      handover: null,
      articles,
      order: orderView,
      model: rephrased === undefined ? null : deps.model!.name,
    };
  }

  return { ask };
}

export type SupportAssistant = ReturnType<typeof createSupportAssistant>;
