/**
 * The admin web console (docs/admin.md "Web console"): `GET /admin` is a static page whose script
 * and style are served beside it under names carrying their content hash, so they are cached for a
 * year and a new release is a new name. No framework, no other origin, nothing inline: the page's
 * CSP allows its own script, style and WebSocket only. The console calls the existing API with the
 * admin's token, which it keeps in memory; it adds no server logic of its own.
 *
 * The page speaks French or English (issue #25): `?lang=fr|en` (its language link), else
 * Accept-Language, else French, as the tracking page. It is rendered once per language at start
 * (console/texts.ts); the script takes its texts from the page's JSON data block and sends the
 * page's language as Accept-Language, so the API's problem details come in the same language.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { askedPageLanguage, renderLocalisedPage, type PageLanguage } from '../../http/localised-page.js';
import { HttpProblem } from '../../http/problem.js';
import { pageCsp } from '../../http/security-headers.js';
import { CONSOLE_TEXTS } from './console/texts.js';

interface Asset {
  /** The served name, e.g. `admin.1a2b3c4d5e6f.js`. */
  name: string;
  type: string;
  body: string;
}

const read = (name: string) => readFileSync(new URL(`./console/${name}`, import.meta.url), 'utf8');

function hashed(name: string, type: string): Asset {
  const body = read(name);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const dot = name.lastIndexOf('.');
  return { name: `${name.slice(0, dot)}.${hash}${name.slice(dot)}`, type, body };
}

const SCRIPT = hashed('admin.js', 'text/javascript; charset=utf-8');
const STYLE = hashed('admin.css', 'text/css; charset=utf-8');
const ASSET_BY_NAME = new Map([SCRIPT, STYLE].map((asset) => [asset.name, asset]));

/** The served asset paths, in the order the page names them (script, style). */
export const CONSOLE_ASSET_PATHS: readonly string[] = [SCRIPT, STYLE].map(
  (asset) => `/admin/assets/${asset.name}`,
);

const TEMPLATE = read('admin.html');

/** The page in one language, its asset paths filled in (`{{script}}`, `{{style}}`). */
export function renderConsolePage(language: PageLanguage): string {
  return renderLocalisedPage('admin console', TEMPLATE, language, CONSOLE_TEXTS[language], {
    script: CONSOLE_ASSET_PATHS[0]!,
    style: CONSOLE_ASSET_PATHS[1]!,
  });
}

const PAGES: Readonly<Record<PageLanguage, string>> = {
  fr: renderConsolePage('fr'),
  en: renderConsolePage('en'),
};

const PageQuery = Type.Object({
  lang: Type.Optional(Type.String({ maxLength: 8, description: 'fr or en; anything else is ignored' })),
});

export function registerConsoleRoutes(root: FastifyInstance): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  // Outside /v1: the page is public (it holds no data); every call it makes is authorised by the API.
  app.get('/admin', { schema: { hide: true, querystring: PageQuery } }, async (request, reply) => {
    const language = askedPageLanguage(request, request.query.lang) ?? 'fr';
    reply.header('content-security-policy', pageCsp(request.headers.host));
    reply.header('referrer-policy', 'no-referrer');
    // Revalidated every time (an ETag of the page's bytes, so one per language: conditional-get.ts),
    // so a release's new asset names are seen at once.
    reply.header('cache-control', 'no-cache');
    reply.header('content-type', 'text/html; charset=utf-8');
    reply.header('content-language', language);
    reply.header('vary', 'Accept-Language');
    return reply.send(PAGES[language]);
  });
  app.get<{ Params: { name: string } }>(
    '/admin/assets/:name',
    { schema: { hide: true } },
    async (request, reply) => {
      const asset = ASSET_BY_NAME.get(request.params.name);
      if (asset === undefined) throw new HttpProblem(404, 'not_found', 'There is no such asset.');
      reply.header('content-type', asset.type);
      reply.header('cache-control', 'public, max-age=31536000, immutable');
      return reply.send(asset.body);
    },
  );
}
