/**
 * Shared links (docs/community.md): `GET /v1/share/{restaurants|dishes}/{id}` gives the app the
 * link and its preview (for the phone's share sheet), and `GET /s/r/{id}`, `GET /s/d/{id}` are the
 * public pages the link opens, with Open Graph tags for previews. Public: they show only what the
 * public menu already shows, of active restaurants and listed dishes.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { ProblemSchema } from '../../http/problem.js';
import type { SharePreviews } from './share-service.js';
import { sharePage, sharePageCsp, type ShareLanguage } from './share.js';

const PUBLIC = {
  public: true as const,
  description: 'anyone: the public face of an active restaurant or a listed dish',
};
const tags = ['share'];
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const PreviewSchema = Type.Object({
  kind: Type.Union([Type.Literal('restaurant'), Type.Literal('dish')]),
  id: Type.String(),
  url: Type.String({ description: 'the link to share; it opens the app where installed, else the page' }),
  title: Type.String(),
  description: Type.String(),
  imageUrl: Type.Union([Type.String(), Type.Null()]),
});
/** Previews change when the menu does; readers of a shared link may cache them a few minutes. */
const CACHE_SECONDS = 300;

function languageOf(request: FastifyRequest): ShareLanguage {
  const header = request.headers['accept-language'];
  return typeof header === 'string' && /^\s*en\b/i.test(header) ? 'en' : 'fr';
}

export function registerShareRoutes(
  root: FastifyInstance,
  previews: SharePreviews,
  options: { baseUrl: string; siteName: string },
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const csp = sharePageCsp(options.baseUrl);
  const routes = [
    { kind: 'restaurant', segment: 'restaurants', page: '/s/r/:id' },
    { kind: 'dish', segment: 'dishes', page: '/s/d/:id' },
  ] as const;
  for (const { kind, segment, page } of routes) {
    app.get(`/v1/share/${segment}/:id`, {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: `The link to share a ${kind} and its preview (title, description, image)`,
        params: IdParams,
        response: { 200: PreviewSchema, 400: ProblemSchema, 404: ProblemSchema, 429: ProblemSchema },
      },
      handler: async (request, reply) => {
        const preview = await previews.preview(kind, request.params.id, languageOf(request));
        reply.header('cache-control', `public, max-age=${CACHE_SECONDS}`);
        reply.header('vary', 'accept-language');
        return preview;
      },
    });
    app.get(page, { schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const language = languageOf(request);
      const preview = await previews.preview(kind, request.params.id, language);
      return (reply as FastifyReply)
        .header('content-security-policy', csp)
        .header('cache-control', `public, max-age=${CACHE_SECONDS}`)
        .header('vary', 'accept-language')
        .header('referrer-policy', 'no-referrer')
        .type('text/html; charset=utf-8')
        .send(sharePage(preview, language, options.siteName));
    });
  }
}
