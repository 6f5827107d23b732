import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_ASSET_PATHS } from '../../../src/modules/admin/console-routes.js';
import { CONSOLE_TEXTS } from '../../../src/modules/admin/console/texts.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';

/**
 * The admin console's page and assets (docs/admin.md "Web console"): a strict CSP with nothing
 * inline, hashed assets cached for a year, nothing from another origin, and a script that calls
 * only routes the API has. The browser test (tests/browser/admin-console.test.ts) drives it.
 */
let testApp: TestApp;
beforeAll(async () => {
  testApp = await createTestApp();
}, 60_000);
afterAll(async () => testApp?.close());

const get = (url: string, headers: Record<string, string> = {}) =>
  testApp.app.inject({ method: 'GET', url, headers: { host: 'console.example:8080', ...headers } });
const source = (name: string) =>
  readFileSync(new URL(`../../../src/modules/admin/console/${name}`, import.meta.url), 'utf8');

describe('admin console page', () => {
  it('is served with a strict CSP: own script, style and socket only, nothing inline, no framing', async () => {
    const page = await get('/admin');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    const directives = Object.fromEntries(
      csp.split(';').map((part) => {
        const [name, ...values] = part.trim().split(/\s+/);
        return [name, values.join(' ')];
      }),
    );
    expect(directives).toEqual({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self'",
      'connect-src': "'self' ws://console.example:8080 wss://console.example:8080",
      'base-uri': "'none'",
      'frame-ancestors': "'none'",
      'form-action': "'none'",
    });
    expect(csp).not.toMatch(/unsafe-|data:|\*/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-cache');
    // Revalidated by its ETag.
    const etag = String(page.headers.etag);
    expect(etag).not.toBe('undefined');
    expect((await get('/admin', { 'if-none-match': etag })).statusCode).toBe(304);
  });

  it('a Host header that is not a host name is not echoed into the CSP', async () => {
    const page = await get('/admin', { host: "evil.example; script-src 'unsafe-inline'" });
    expect(page.headers['content-security-policy']).toContain("connect-src 'self';");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
  });

  it('has no inline script, style or handler, and names only its own hashed assets', async () => {
    for (const lang of ['fr', 'en'] as const) {
      const html = (await get(`/admin?lang=${lang}`)).body;
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      // Exactly two: the texts' JSON data block (which the browser does not run) and the script.
      expect(scripts).toHaveLength(2);
      expect(scripts[0]![1]).toBe(' type="application/json" id="texts"');
      expect(JSON.parse(scripts[0]![2]!)).toEqual(CONSOLE_TEXTS[lang]);
      expect(scripts[1]![1]).toContain(`src="${CONSOLE_ASSET_PATHS[0]}"`);
      expect(scripts[1]![2]!.trim()).toBe('');
      expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=|javascript:/i);
      const referenced = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((match) => match[1]);
      // Its own assets, and the link to the same page in the other language.
      expect(referenced.sort()).toEqual(
        [...CONSOLE_ASSET_PATHS, `?lang=${lang === 'fr' ? 'en' : 'fr'}`].sort(),
      );
    }
  });

  it('speaks French or English: ?lang, else Accept-Language, else French; one ETag per language', async () => {
    const page = async (query: string, headers: Record<string, string> = {}) => {
      const response = await get(`/admin${query}`, headers);
      expect(response.statusCode).toBe(200);
      expect(response.headers.vary).toContain('Accept-Language');
      const language = response.headers['content-language'];
      expect(response.body).toContain(`<html lang="${language}">`);
      expect(response.body).toContain(`<title>${CONSOLE_TEXTS[language as 'fr' | 'en'].title}</title>`);
      return { language, etag: String(response.headers.etag) };
    };
    expect((await page('')).language).toBe('fr');
    expect((await page('', { 'accept-language': 'en-GB,en;q=0.9' })).language).toBe('en');
    expect((await page('', { 'accept-language': 'de, fr-CM;q=0.8, en;q=0.5' })).language).toBe('fr');
    expect((await page('?lang=en', { 'accept-language': 'fr' })).language).toBe('en');
    expect((await page('?lang=fr', { 'accept-language': 'en' })).language).toBe('fr');
    expect((await page('?lang=de', { 'accept-language': 'en' })).language).toBe('en');
    const french = (await page('?lang=fr')).etag;
    const english = (await page('?lang=en')).etag;
    expect(french).not.toBe(english);
    // One language's tag does not revalidate the other's page.
    expect((await get('/admin?lang=en', { 'if-none-match': french })).statusCode).toBe(200);
    expect((await get('/admin?lang=en', { 'if-none-match': english })).statusCode).toBe(304);
  });

  it('has its API calls answered in the page’s language', async () => {
    // The script sends the page's language with every call…
    expect(source('admin.js')).toContain("'accept-language': LANGUAGE");
    expect(source('admin.js')).toContain('var LANGUAGE = document.documentElement.lang;');
    // …and the API's problem details follow it.
    const answers = await Promise.all(
      (['fr', 'en'] as const).map((language) =>
        testApp.app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          headers: { 'accept-language': language },
          payload: { phone: '+237650000000', password: 'not the password', totp: '000000', client: 'mobile' },
        }),
      ),
    );
    expect(answers.map((answer) => answer.headers['content-language'])).toEqual(['fr', 'en']);
    expect(answers[0]!.json().code).toBe(answers[1]!.json().code);
    expect(answers[0]!.json().detail).not.toBe(answers[1]!.json().detail);
  });

  it('serves each asset under the hash of its bytes, cached for a year; another name is a 404 problem', async () => {
    for (const path of CONSOLE_ASSET_PATHS) {
      const asset = await get(path);
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(asset.headers['content-type']).toMatch(
        path.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      );
      const hash = /\.([0-9a-f]{12})\.(js|css)$/.exec(path)![1];
      expect(createHash('sha256').update(asset.body).digest('hex').slice(0, 12)).toBe(hash);
    }
    for (const name of ['admin.js', 'admin.000000000000.js', '..%2Fconsole-routes.ts', 'admin.css']) {
      const missing = await get(`/admin/assets/${name}`);
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['content-type']).toContain('application/problem+json');
      expect(missing.json().code).toBe('not_found');
    }
  });

  it('references no other origin in its page, script or style', () => {
    for (const name of ['admin.html', 'admin.js', 'admin.css']) {
      const text = source(name);
      // A URL with a host (http://x, https://x, //x) or a CSS import or url().
      expect(text, name).not.toMatch(/(?:https?:)?\/\/[a-z0-9-]+(?:\.[a-z0-9-]+)+/i);
      expect(text, name).not.toMatch(/@import|url\(/i);
    }
    // The socket goes to the page's own host.
    expect(source('admin.js')).toContain("scheme + location.host + '/ws/admin?access_token='");
  });

  it('keeps no token in storage: the script never touches localStorage, sessionStorage or cookies', () => {
    expect(source('admin.js')).not.toMatch(/localStorage|sessionStorage|document\.cookie|indexedDB/);
  });

  it('calls only routes the API has', () => {
    const script = source('admin.js');
    const routes = new Set(
      testApp.app.routeAccessTable.map(
        (route) => `${route.method} ${route.url.replace(/:[A-Za-z]+/g, ':p')}`,
      ),
    );
    const calls = [...script.matchAll(/\b(?:api|send)\(\s*'(GET|POST|PUT|DELETE)',\s*([^\n]*)/g)].map(
      (match) => {
        // The path expression: string literals joined by `+`; any expression is a path parameter.
        const expression = topLevelArgument(match[2]!);
        const path = expression
          .split(/\s*\+\s*/)
          .map((part) => (/^'[^']*'$/.test(part) ? part.slice(1, -1) : ':p'))
          .join('')
          .split('?')[0];
        return `${match[1]} ${path}`;
      },
    );
    expect(calls.length).toBeGreaterThan(15);
    // The parser reads concatenated paths (a parameter in the middle, a query string at the end).
    for (const call of [
      'POST /v1/admin/payouts/:p/approve',
      'PUT /v1/admin/feature-flags/:p',
      'GET /v1/admin/users',
    ])
      expect(calls).toContain(call);
    expect(calls.filter((call) => !routes.has(call))).toEqual([]);
  });
});

/** The text of a call's argument up to its first comma or closing parenthesis at depth 0. */
function topLevelArgument(text: string): string {
  let depth = 0;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index]!;
    if (character === '(') depth += 1;
    else if (character === ')') {
      if (depth === 0) return text.slice(0, index).trim();
      depth -= 1;
    } else if (character === ',' && depth === 0) return text.slice(0, index).trim();
  }
  return text.trim();
}
