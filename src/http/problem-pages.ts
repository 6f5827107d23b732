/**
 * The pages problem `type` URLs point at: `GET /problems` lists every code, `GET /problems/<code>`
 * explains one, in HTML for people and JSON for programs (`Accept: application/json`), in English
 * or French (`?lang=fr|en`, else Accept-Language). Generated from the catalogue
 * (src/http/problem-catalogue.ts), public and cacheable.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { HttpProblem } from './problem.js';
import {
  PROBLEM_CATALOGUE,
  preferredLanguage,
  type CatalogueEntry,
  type Language,
} from './problem-catalogue.js';

const ProblemPageSchema = Type.Object(
  {
    code: Type.String(),
    statuses: Type.Array(Type.Integer()),
    language: Type.Union([Type.Literal('en'), Type.Literal('fr')]),
    title: Type.String(),
    description: Type.String(),
    type: Type.String(),
  },
  { $id: 'ProblemPage', description: 'One entry of the error catalogue' },
);

const LangQuery = Type.Object(
  { lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('fr')])) },
  { additionalProperties: false },
);

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

function pageOf(entry: CatalogueEntry, language: Language, baseUrl: string) {
  return {
    code: entry.code,
    statuses: [...entry.statuses],
    language,
    title: entry[language].title,
    description: entry[language].description,
    type: `${baseUrl}/problems/${entry.code}`,
  };
}

const wantsJson = (request: FastifyRequest) => {
  const accepted = request.headers.accept ?? '';
  return /application\/(problem\+)?json/.test(accepted) && !/text\/html/.test(accepted);
};

function html(reply: FastifyReply, language: Language, title: string, body: string): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="${language}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
        `<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>${body}</body></html>`,
    );
}

export function registerProblemPages(app: FastifyInstance, baseUrl: string): void {
  const base = baseUrl.replace(/\/$/, '');
  const other = (language: Language): Language => (language === 'en' ? 'fr' : 'en');
  const negotiated = (request: FastifyRequest<{ Querystring: { lang?: Language } }>, reply: FastifyReply) => {
    const language = preferredLanguage(request.headers['accept-language'], request.query.lang);
    reply
      .header('content-language', language)
      .header('vary', 'Accept, Accept-Language')
      .header('cache-control', 'public, max-age=3600');
    return language;
  };

  app.get<{ Querystring: { lang?: Language } }>('/problems', {
    schema: {
      tags: ['problems'],
      summary: 'The error catalogue: every problem code (HTML, or JSON with Accept: application/json)',
      querystring: LangQuery,
      response: { 200: Type.Array(ProblemPageSchema) },
    },
    handler: async (request, reply) => {
      const language = negotiated(request, reply);
      const pages = [...PROBLEM_CATALOGUE.values()].map((entry) => pageOf(entry, language, base));
      if (wantsJson(request)) return pages;
      const heading = language === 'fr' ? 'Catalogue des erreurs' : 'Error catalogue';
      const rows = pages
        .map(
          (page) =>
            `<tr><td><a href="/problems/${page.code}?lang=${language}"><code>${page.code}</code></a></td>` +
            `<td>${page.statuses.join(', ')}</td><td>${escapeHtml(page.title)}</td></tr>`,
        )
        .join('');
      return html(
        reply,
        language,
        heading,
        `<h1>${heading}</h1><p><a href="/problems?lang=${other(language)}">${other(language) === 'fr' ? 'Français' : 'English'}</a></p>` +
          `<table><thead><tr><th>code</th><th>status</th><th>${language === 'fr' ? 'titre' : 'title'}</th></tr></thead><tbody>${rows}</tbody></table>`,
      );
    },
  });

  app.get<{ Params: { code: string }; Querystring: { lang?: Language } }>('/problems/:code', {
    schema: {
      tags: ['problems'],
      summary: 'One problem code explained (the `type` URL of every problem)',
      params: Type.Object({ code: Type.String({ pattern: '^[a-z0-9_]{1,64}$' }) }),
      querystring: LangQuery,
      response: { 200: ProblemPageSchema },
    },
    handler: async (request, reply) => {
      const entry = PROBLEM_CATALOGUE.get(request.params.code);
      if (entry === undefined)
        throw new HttpProblem(404, 'not_found', `No problem code ${request.params.code} in the catalogue.`);
      const language = negotiated(request, reply);
      const page = pageOf(entry, language, base);
      if (wantsJson(request)) return page;
      const back = language === 'fr' ? 'Toutes les erreurs' : 'All errors';
      return html(
        reply,
        language,
        `${page.code}: ${page.title}`,
        `<h1>${escapeHtml(page.title)}</h1><p><code>${page.code}</code> · HTTP ${page.statuses.join(', ')}</p>` +
          `<p>${escapeHtml(page.description)}</p>` +
          `<p><a href="/problems/${page.code}?lang=${other(language)}">${other(language) === 'fr' ? 'Français' : 'English'}</a> · <a href="/problems?lang=${language}">${back}</a></p>`,
      );
    },
  });
}
