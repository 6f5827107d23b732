/**
 * The server-rendered pages in French and English (issue #25): the tracking page and the admin
 * console. A page is a template with `{{key}}` placeholders, rendered once per language at start:
 * each key is a text of that language (HTML-escaped), `{{lang}}` and `{{otherLang}}` name the
 * page's language and the other one (for its language link), and `{{texts}}` is the page's texts
 * as JSON for a `<script type="application/json" id="texts">` data block, which the browser does
 * not run, so the page's CSP stays `script-src 'self'`.
 */
import type { FastifyRequest } from 'fastify';
import { requestedLanguage } from './problem-catalogue.js';

export type PageLanguage = 'fr' | 'en';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (character) => HTML_ESCAPES[character]!);

/**
 * The template in one language. `extra` holds values that are not texts (asset paths); a key
 * that neither names throws, so a page naming a missing text fails at start and in its tests.
 */
export function renderLocalisedPage(
  page: string,
  template: string,
  language: PageLanguage,
  texts: Readonly<Record<string, string>>,
  extra: Readonly<Record<string, string>> = {},
): string {
  const otherLang = language === 'fr' ? 'en' : 'fr';
  const values: Record<string, string> = { ...texts, ...extra, lang: language, otherLang };
  // In a data block `<` is the only character that could end it early.
  const json = JSON.stringify(texts).replace(/</g, '\\u003c');
  return template.replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
    if (key === 'texts') return json;
    const value = values[key];
    if (value === undefined) throw new Error(`the ${page} names a text "${key}" that ${language} lacks`);
    return escapeHtml(value);
  });
}

/** `?lang=` when it is fr or en, else Accept-Language when it names one of them. */
export function askedPageLanguage(
  request: FastifyRequest,
  lang: string | undefined,
): PageLanguage | undefined {
  if (lang === 'fr' || lang === 'en') return lang;
  return requestedLanguage(request.headers['accept-language']);
}
