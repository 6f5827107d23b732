import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

let testApp: TestApp;
let agent: CreatedUser;
let customer: CreatedUser;

beforeAll(async () => {
  testApp = await createTestApp();
  [agent, customer] = await Promise.all([
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['customer'] }),
  ]);
}, 120_000);
afterAll(async () => testApp?.close());

const request = (
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  token?: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) =>
  testApp.app.inject({
    method,
    url,
    headers: { ...(token === undefined ? {} : authHeader(token)), ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const write = (payload: Record<string, unknown>, key?: string) =>
  request(
    'POST',
    '/v1/admin/support/articles',
    agent.accessToken,
    payload,
    key === undefined ? {} : { 'idempotency-key': key },
  );

const articleCount = async () =>
  (await testApp.services.db.selectFrom('support_articles').select('id').execute()).length;

describe('knowledge base: staff authoring, public reading and search', () => {
  let refundFr: { id: string; version: number };

  it('staff write articles in French and English; a draft is invisible to others until published; each change is audited', async () => {
    const created = await write({
      slug: 'remboursement',
      locale: 'fr',
      title: 'Comment obtenir un remboursement ?',
      body: 'Si votre commande est arrivée incomplète, ouvrez un litige dans les 24 heures. Le remboursement arrive sur votre portefeuille ou par Mobile Money.',
      category: 'order_problem',
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ status: 'draft', version: 0, locale: 'fr' });
    refundFr = created.json();
    expect((await request('GET', '/v1/support/articles/remboursement?locale=fr')).statusCode).toBe(404);
    expect(
      (await request('GET', '/v1/support/articles/remboursement?locale=fr', agent.accessToken)).statusCode,
    ).toBe(200);
    const published = await request('PATCH', `/v1/admin/support/articles/${refundFr.id}`, agent.accessToken, {
      version: 0,
      status: 'published',
    });
    expect(published.statusCode, published.body).toBe(200);
    refundFr = published.json();
    for (const article of [
      {
        slug: 'remboursement',
        locale: 'en',
        title: 'How do I get a refund?',
        body: 'If your order arrived incomplete, open a dispute within 24 hours. The refund goes to your wallet or by Mobile Money.',
        category: 'order_problem',
        status: 'published',
      },
      {
        slug: 'livreur-en-retard',
        locale: 'fr',
        title: 'Mon livreur est en retard',
        body: 'Suivez votre livreur en direct depuis la commande. Au-delà de 20 minutes de retard, écrivez-nous.',
        category: 'delivery',
        status: 'published',
      },
      {
        slug: 'mot-de-passe',
        locale: 'fr',
        title: 'Mot de passe oublié',
        body: 'Touchez « Mot de passe oublié » et saisissez le code reçu par SMS.',
        category: 'account',
        status: 'published',
      },
    ])
      expect((await write(article)).statusCode).toBe(201);
    const audit = await testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'actor_id'])
      .where('resource', '=', `support_article:${refundFr.id}`)
      .orderBy('id')
      .execute();
    expect(audit.map((row) => row.action)).toEqual(['support.article_created', 'support.article_updated']);
    expect(audit.every((row) => row.actor_id === agent.userId)).toBe(true);
  });

  it('anyone reads a published article in their language (Accept-Language), with its translations', async () => {
    const fr = await request('GET', '/v1/support/articles/remboursement', undefined, undefined, {
      'accept-language': 'fr-CM,fr;q=0.9',
    });
    expect(fr.statusCode, fr.body).toBe(200);
    expect(fr.json()).toMatchObject({
      locale: 'fr',
      title: 'Comment obtenir un remboursement ?',
      translations: ['en'],
    });
    const en = await request('GET', '/v1/support/articles/remboursement?locale=en');
    expect(en.json().title).toBe('How do I get a refund?');
  });

  it('search is full text in the language, accents and word endings aside, every word needed, best first', async () => {
    const search = async (q: string, locale = 'fr') =>
      (await request('GET', `/v1/support/articles?q=${encodeURIComponent(q)}&locale=${locale}`)).json()
        .items as { slug: string }[];
    expect((await search('rembourse')).map((item) => item.slug)).toEqual(['remboursement']);
    expect((await search('LIVREUR retards')).map((item) => item.slug)).toEqual(['livreur-en-retard']);
    expect((await search('refund wallet', 'en')).map((item) => item.slug)).toEqual(['remboursement']);
    expect(await search('livreur remboursement')).toEqual([]);
    expect(await search("' & | !")).toEqual([]);
    const all = await request('GET', '/v1/support/articles?locale=fr&limit=2');
    expect(all.json().items).toHaveLength(2);
    const byCategory = await request('GET', '/v1/support/articles?locale=fr&category=account');
    expect(byCategory.json().items.map((item: { slug: string }) => item.slug)).toEqual(['mot-de-passe']);
  });

  it('opening a ticket answers the published articles closest to it, in the opener’s language', async () => {
    const opened = await request(
      'POST',
      '/v1/support/tickets',
      customer.accessToken,
      { category: 'delivery', subject: 'Livreur en retard', body: 'Mon livreur a 30 minutes de retard.' },
      { 'accept-language': 'fr' },
    );
    expect(opened.statusCode, opened.body).toBe(201);
    expect(opened.json().suggestedArticles[0]).toMatchObject({ slug: 'livreur-en-retard', locale: 'fr' });
    const english = await request(
      'POST',
      '/v1/support/tickets',
      customer.accessToken,
      { category: 'order_problem', subject: 'Refund please', body: 'My order arrived incomplete.' },
      { 'accept-language': 'en' },
    );
    expect(english.json().suggestedArticles.map((item: { slug: string }) => item.slug)).toEqual([
      'remboursement',
    ]);
  });

  it('an archived article leaves search and reading; staff still list it', async () => {
    const archived = await request('PATCH', `/v1/admin/support/articles/${refundFr.id}`, agent.accessToken, {
      version: refundFr.version,
      status: 'archived',
    });
    expect(archived.statusCode).toBe(200);
    expect((await request('GET', '/v1/support/articles/remboursement?locale=fr')).statusCode).toBe(404);
    const list = await request('GET', '/v1/admin/support/articles?status=archived', agent.accessToken);
    expect(list.json().items.map((item: { id: string }) => item.id)).toEqual([refundFr.id]);
    const paged = await request('GET', '/v1/admin/support/articles?limit=1', agent.accessToken);
    const next = await request(
      'GET',
      `/v1/admin/support/articles?limit=1&cursor=${paged.json().nextCursor}`,
      agent.accessToken,
    );
    expect(next.json().items[0].id).not.toBe(paged.json().items[0].id);
  });
});

describe('knowledge base refusals change nothing', () => {
  it('customers and guests cannot author: 401/403', async () => {
    const before = await articleCount();
    const body = { slug: 'x', locale: 'fr', title: 'x', body: 'y' };
    expect((await request('POST', '/v1/admin/support/articles', customer.accessToken, body)).statusCode).toBe(
      403,
    );
    expect((await request('POST', '/v1/admin/support/articles', undefined, body)).statusCode).toBe(401);
    expect((await request('GET', '/v1/admin/support/articles', customer.accessToken)).statusCode).toBe(403);
    expect(await articleCount()).toBe(before);
  });

  it('bad input is a 400 problem: null, NUL, blank, bad slug, unknown locale, huge body, unknown field', async () => {
    const before = await articleCount();
    const base = { slug: 'ok-slug', locale: 'fr', title: 'Titre', body: 'Texte' };
    for (const [change, code] of [
      [{ title: null }, 'validation_failed'],
      [{ body: 'a\u0000b' }, 'invalid_characters'],
      [{ title: '   ' }, 'text_blank'],
      [{ slug: 'Pas Bon' }, 'validation_failed'],
      [{ locale: 'de' }, 'validation_failed'],
      [{ body: 'x'.repeat(20_001) }, 'validation_failed'],
      [{ extra: 1 }, 'validation_failed'],
    ] as const) {
      const refused = await write({ ...base, ...change });
      expect(refused.statusCode, JSON.stringify(change)).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.json().code).toBe(code);
    }
    expect((await request('GET', '/v1/support/articles?q=' + 'x'.repeat(201))).statusCode).toBe(400);
    expect((await request('GET', '/v1/support/articles?limit=500')).statusCode).toBe(400);
    expect(
      (await request('GET', '/v1/admin/support/articles?cursor=nope!', agent.accessToken)).statusCode,
    ).toBe(400);
    expect(await articleCount()).toBe(before);
  });

  it('a slug is unique per language (409); a retry with the same Idempotency-Key answers the same article', async () => {
    const key = randomUUID();
    const body = {
      slug: 'paiement-momo',
      locale: 'fr',
      title: 'Payer par MoMo',
      body: 'Choisissez MTN ou Orange.',
    };
    const first = await write(body, key);
    const replay = await write(body, key);
    expect(first.statusCode).toBe(201);
    expect(replay.statusCode).toBe(201);
    expect(replay.json().id).toBe(first.json().id);
    const taken = await write(body);
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('article_slug_taken');
  });

  it('a change on a stale version is 409 and changes nothing', async () => {
    const article = (await write({ slug: 'stale', locale: 'en', title: 'Stale', body: 'Text' })).json();
    const first = await request('PATCH', `/v1/admin/support/articles/${article.id}`, agent.accessToken, {
      version: 0,
      title: 'New title',
    });
    expect(first.statusCode).toBe(200);
    const stale = await request('PATCH', `/v1/admin/support/articles/${article.id}`, agent.accessToken, {
      version: 0,
      title: 'Other title',
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('article_changed');
    const read = await request('GET', '/v1/support/articles/stale?locale=en', agent.accessToken);
    expect(read.json().title).toBe('New title');
    expect(
      (
        await request('PATCH', `/v1/admin/support/articles/${randomUUID()}`, agent.accessToken, {
          version: 0,
        })
      ).statusCode,
    ).toBe(404);
  });
});
