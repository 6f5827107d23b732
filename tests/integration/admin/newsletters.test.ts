import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { orderWorld, type OrderWorld } from '../orders/helpers.js';
import { until } from '../payments/helpers.js';

/**
 * Newsletter campaigns (docs/admin.md "Newsletters") against PostgreSQL, Redis and notify's
 * queues: an admin creates, previews, schedules and cancels (audited); the job sends each
 * consenting account of the segment one message in its language, on the chosen channels only,
 * with a signed one-click unsubscribe link that switches marketing off, idempotently.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld({ NEWSLETTER_BATCH_SIZE: '2' });
}, 120_000);
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const db = () => services().db;
const admin = () => world.actors.admin;
const city = `Newsville-${process.pid}-${Date.now()}`;

const inject = (
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  token: string | undefined,
  payload?: unknown,
  headers: Record<string, string> = {},
) =>
  world.testApp.app.inject({
    method,
    url,
    headers: { ...(token === undefined ? {} : authHeader(token)), ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const TEMPLATE = {
  fr: { title: 'Promo ndolé', body: 'Le ndolé à moitié prix <b>ce soir</b>.', sms: 'Ndolé -50 % ce soir.' },
  en: { title: 'Ndolé deal', body: 'Half-price ndolé tonight.', sms: 'Ndolé half price tonight.' },
};
const campaignBody = (overrides: Record<string, unknown> = {}) => ({
  name: 'Ndolé night',
  segment: { roles: ['customer'], cities: [city] },
  template: TEMPLATE,
  channels: ['sms', 'email'],
  ...overrides,
});

/** A customer living in the test's city, with marketing consent on the given channels. */
async function subscriber(options: { locale?: 'fr' | 'en'; consent?: ('push' | 'sms' | 'email')[] } = {}) {
  const user = await createUser(world.testApp, {
    roles: ['customer'],
    email: `news-${randomUUID()}@example.test`,
  });
  await services().identity.repository.updateUser(user.userId, { locale: options.locale ?? 'fr' });
  await services().identity.repository.insertAddress({
    user_id: user.userId,
    label: 'Home',
    line1: 'Rue 1',
    city,
  });
  const preferences = (await inject('GET', '/v1/me/notification-preferences', user.accessToken)).json();
  const consent = options.consent ?? ['sms', 'email'];
  preferences.promotions = {
    push: consent.includes('push'),
    sms: consent.includes('sms'),
    email: consent.includes('email'),
  };
  const saved = await inject('PUT', '/v1/me/notification-preferences', user.accessToken, preferences);
  expect(saved.statusCode, saved.body).toBe(200);
  return user;
}

const intentsOf = (campaignId: string) =>
  db()
    .selectFrom('notification_intents')
    .select(['id', 'recipient_id', 'category', 'priority'])
    .where('kind', '=', 'marketing.newsletter')
    .where('source_event_id', '=', `newsletter:${campaignId}`)
    .execute();

const sentTo = async (users: CreatedUser[]) =>
  (
    await sql<{ recipient_id: string; channel: string; n: string }>`
      SELECT recipient_id, channel, count(*)::text AS n FROM notification_deliveries
      WHERE recipient_id = ANY(${users.map((user) => user.userId)}::uuid[]) AND status = 'sent'
        AND intent_id IN (SELECT id FROM notification_intents WHERE kind = 'marketing.newsletter')
      GROUP BY recipient_id, channel ORDER BY recipient_id, channel`.execute(db())
  ).rows;

const auditCount = async (action: string, resource: string) =>
  Number(
    (
      await sql<{ n: string }>`SELECT count(*)::text AS n FROM audit_logs
        WHERE action = ${action} AND resource = ${resource}`.execute(db())
    ).rows[0]!.n,
  );

describe('newsletters', () => {
  it('create, preview, schedule; the job sends each consenting account of the segment once, in its language, on the chosen channels; unsubscribe once', async () => {
    const french = await subscriber({ locale: 'fr' });
    const english = await subscriber({ locale: 'en' });
    const third = await subscriber({ locale: 'fr', consent: ['email'] });
    // Not in the audience: no consent (the default), and a driver in the city.
    const silent = await createUser(world.testApp, { roles: ['customer'] });
    await services().identity.repository.insertAddress({
      user_id: silent.userId,
      label: 'Home',
      line1: 'Rue 2',
      city,
    });
    const driver = await createUser(world.testApp, { roles: ['driver'] });
    await services().identity.repository.insertAddress({
      user_id: driver.userId,
      label: 'Home',
      line1: 'Rue 3',
      city,
    });

    const created = await inject('POST', '/v1/admin/newsletters', admin().accessToken, campaignBody());
    expect(created.statusCode, created.body).toBe(201);
    const campaign = created.json();
    expect(created.headers.location).toBe(`/v1/admin/newsletters/${campaign.id}`);
    expect(campaign).toMatchObject({ status: 'draft', recipients: 0, channels: ['email', 'sms'] });
    expect(campaign.segment.cities).toEqual([city.toLowerCase()]);

    const preview = await inject('POST', `/v1/admin/newsletters/${campaign.id}/preview`, admin().accessToken);
    expect(preview.statusCode, preview.body).toBe(200);
    expect(preview.json().audience).toBe(3);
    expect(await intentsOf(campaign.id)).toEqual([]); // a dry run sends nothing

    // Not due yet: the job leaves it.
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await inject(
      'POST',
      `/v1/admin/newsletters/${campaign.id}/schedule`,
      admin().accessToken,
      {
        at: later,
      },
    );
    expect(scheduled.statusCode, scheduled.body).toBe(200);
    expect(scheduled.json()).toMatchObject({ status: 'scheduled', scheduledAt: later });
    await services().admin.newsletters.runDue(new Date());
    expect(await intentsOf(campaign.id)).toEqual([]);

    // Due: three batches of two (the audience of three, then the empty page that ends it).
    await services().admin.newsletters.runDue(new Date(Date.now() + 3_700_000));
    const intents = await intentsOf(campaign.id);
    expect(intents.map((row) => row.recipient_id).sort()).toEqual(
      [french.userId, english.userId, third.userId].sort(),
    );
    expect(new Set(intents.map((row) => `${row.category}/${row.priority}`))).toEqual(
      new Set(['promotions/low']),
    );
    const done = (await inject('GET', `/v1/admin/newsletters/${campaign.id}`, admin().accessToken)).json();
    expect(done).toMatchObject({ status: 'sent', recipients: 3 });
    expect(done.finishedAt).not.toBeNull();

    // Sent on the channels both the campaign and the person allow: SMS and e-mail, e-mail alone.
    const expected = [
      { recipient_id: french.userId, channel: 'email', n: '1' },
      { recipient_id: french.userId, channel: 'sms', n: '1' },
      { recipient_id: english.userId, channel: 'email', n: '1' },
      { recipient_id: english.userId, channel: 'sms', n: '1' },
      { recipient_id: third.userId, channel: 'email', n: '1' },
    ].sort((a, b) => `${a.recipient_id}${a.channel}`.localeCompare(`${b.recipient_id}${b.channel}`));
    const sent = await until(
      () => sentTo([french, english, third, silent, driver]),
      (rows) => rows.length >= expected.length,
      30_000,
    );
    expect(sent).toEqual(expected);
    // In their language, the SMS with its STOP line, the e-mail with the signed unsubscribe link.
    const outbox = await db()
      .selectFrom('notification_outbox')
      .select(['channel', 'recipient', 'body'])
      .where('recipient', 'in', [french.phone, english.phone])
      .where('channel', '=', 'sms')
      .execute();
    expect(outbox.map((row) => row.body).sort()).toEqual(
      ['Ndolé -50 % ce soir. STOP pour ne plus recevoir', 'Ndolé half price tonight. STOP to opt out'].sort(),
    );
    const [mail] = await db()
      .selectFrom('notification_outbox')
      .select(['subject', 'body'])
      .where('channel', '=', 'email')
      .where('body', 'like', `%Half-price ndolé%`)
      .where('body', 'like', `%${english.userId}%`)
      .execute();
    expect(mail!.subject).toBe('Ndolé deal');
    const link = /Unsubscribe: (\S+)/.exec(mail!.body)![1]!;
    const url = new URL(link);
    expect(url.pathname).toBe('/newsletters/unsubscribe');

    // The job again: nothing more is recorded.
    await services().admin.newsletters.runDue(new Date(Date.now() + 3_800_000));
    expect(await intentsOf(campaign.id)).toHaveLength(3);

    // One click: marketing off on every channel, once (audited once); again, the same answer.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const unsubscribed = await inject('GET', `${url.pathname}${url.search}`, undefined);
      expect(unsubscribed.statusCode, unsubscribed.body).toBe(200);
      expect(unsubscribed.json()).toEqual({ unsubscribed: true });
    }
    const preferences = (await inject('GET', '/v1/me/notification-preferences', english.accessToken)).json();
    expect(preferences.promotions).toEqual({ push: false, sms: false, email: false });
    expect(await auditCount('newsletter.unsubscribed', `user:${english.userId}`)).toBe(1);
    // A forged or altered token: 400 in French by default, nothing changes.
    const forged = await inject(
      'GET',
      `/newsletters/unsubscribe?token=${encodeURIComponent(`${french.userId}.${'A'.repeat(43)}`)}`,
      undefined,
    );
    expect(forged.statusCode).toBe(400);
    expect(forged.headers['content-type']).toContain('application/problem+json');
    expect(forged.json().code).toBe('unsubscribe_token_invalid');
    const stillFrench = (await inject('GET', '/v1/me/notification-preferences', french.accessToken)).json();
    expect(stillFrench.promotions).toEqual({ push: false, sms: true, email: true });
    // The unsubscribed person is out of the next preview.
    expect(
      (await inject('POST', `/v1/admin/newsletters/${campaign.id}/preview`, admin().accessToken)).json()
        .audience,
    ).toBe(2);

    for (const action of [
      'admin.newsletter_created',
      'admin.newsletter_scheduled',
      'admin.newsletter_started',
      'admin.newsletter_sent',
    ])
      expect(await auditCount(action, `newsletter:${campaign.id}`), action).toBe(1);
    // Started: it can no longer be cancelled or moved.
    const cancel = await inject('POST', `/v1/admin/newsletters/${campaign.id}/cancel`, admin().accessToken);
    expect(cancel.statusCode).toBe(409);
    expect(cancel.json()).toMatchObject({ code: 'newsletter_started', campaignStatus: 'sent' });
  }, 120_000);

  it('cancelled before it starts: nothing is sent, a repeat answers the same; audited once', async () => {
    await subscriber();
    const campaign = (
      await inject('POST', '/v1/admin/newsletters', admin().accessToken, campaignBody())
    ).json();
    await inject('POST', `/v1/admin/newsletters/${campaign.id}/schedule`, admin().accessToken, {
      at: new Date(Date.now() + 60_000).toISOString(),
    });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const cancelled = await inject(
        'POST',
        `/v1/admin/newsletters/${campaign.id}/cancel`,
        admin().accessToken,
      );
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      expect(cancelled.json().status).toBe('cancelled');
    }
    await services().admin.newsletters.runDue(new Date(Date.now() + 120_000));
    expect(await intentsOf(campaign.id)).toEqual([]);
    expect(await auditCount('admin.newsletter_cancelled', `newsletter:${campaign.id}`)).toBe(1);
    const reschedule = await inject(
      'POST',
      `/v1/admin/newsletters/${campaign.id}/schedule`,
      admin().accessToken,
      {
        at: new Date(Date.now() + 60_000).toISOString(),
      },
    );
    expect(reschedule.statusCode).toBe(409);
  });

  it('bad input is a 400 problem (French by default) and writes nothing; other roles 403, anonymous 401; pages', async () => {
    const before = Number(
      (await sql<{ n: string }>`SELECT count(*)::text AS n FROM admin_newsletter_campaigns`.execute(db()))
        .rows[0]!.n,
    );
    const bad: unknown[] = [
      null,
      {},
      campaignBody({ channels: [] }),
      campaignBody({ channels: ['fax'] }),
      campaignBody({ segment: { roles: ['pirate'], cities: [] } }),
      campaignBody({ segment: { roles: [], cities: [], language: 'de' } }),
      campaignBody({ template: { fr: TEMPLATE.fr } }),
      campaignBody({ template: { ...TEMPLATE, en: { ...TEMPLATE.en, body: 'Hi {{name}}' } } }),
      campaignBody({ template: { ...TEMPLATE, fr: { ...TEMPLATE.fr, sms: '   ' } } }),
      campaignBody({ template: { ...TEMPLATE, fr: { ...TEMPLATE.fr, body: 'x'.repeat(100_000) } } }),
      campaignBody({ name: 'a\u0000b' }),
      campaignBody({ extra: true }),
    ];
    for (const body of bad) {
      const response = await inject('POST', '/v1/admin/newsletters', admin().accessToken, body, {
        'content-type': 'application/json',
      });
      expect(response.statusCode, JSON.stringify(body)?.slice(0, 200)).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    const template = await inject(
      'POST',
      '/v1/admin/newsletters',
      admin().accessToken,
      campaignBody({ template: { ...TEMPLATE, en: { ...TEMPLATE.en, title: '$t(secret)' } } }),
    );
    expect(template.json()).toMatchObject({ code: 'newsletter_template_invalid' });
    expect(template.json().detail).toBe(
      'Chaque texte doit être fait de mots simples, non vide, sans syntaxe de gabarit.',
    );
    const campaign = (
      await inject('POST', '/v1/admin/newsletters', admin().accessToken, campaignBody())
    ).json();
    for (const at of [
      'yesterday',
      new Date(Date.now() - 86_400_000).toISOString(),
      new Date(Date.now() + 400 * 86_400_000).toISOString(),
    ]) {
      const response = await inject(
        'POST',
        `/v1/admin/newsletters/${campaign.id}/schedule`,
        admin().accessToken,
        { at },
      );
      expect(response.statusCode, at).toBe(400);
    }
    expect(
      (await inject('GET', `/v1/admin/newsletters/${campaign.id}`, admin().accessToken)).json().status,
    ).toBe('draft');
    expect(
      (await inject('GET', `/v1/admin/newsletters/${randomUUID()}`, admin().accessToken)).statusCode,
    ).toBe(404);
    const after = Number(
      (await sql<{ n: string }>`SELECT count(*)::text AS n FROM admin_newsletter_campaigns`.execute(db()))
        .rows[0]!.n,
    );
    expect(after).toBe(before + 1);

    for (const actor of [world.actors.customer, world.actors.owner, world.support])
      for (const [method, url] of [
        ['GET', '/v1/admin/newsletters'],
        ['POST', `/v1/admin/newsletters/${campaign.id}/preview`],
        ['POST', `/v1/admin/newsletters/${campaign.id}/cancel`],
      ] as const)
        expect((await inject(method, url, actor.accessToken)).statusCode, `${method} ${url}`).toBe(403);
    expect((await inject('GET', '/v1/admin/newsletters', undefined)).statusCode).toBe(401);
    expect(
      (await inject('GET', `/v1/admin/newsletters/${campaign.id}`, admin().accessToken)).json().status,
    ).toBe('draft');

    // Cursor pages, newest first, each campaign once; a forged cursor 400.
    const made = [campaign.id];
    for (let index = 0; index < 3; index += 1)
      made.push(
        (
          await inject(
            'POST',
            '/v1/admin/newsletters',
            admin().accessToken,
            campaignBody({ name: `Page ${index}` }),
          )
        ).json().id as string,
      );
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 1_000; page += 1) {
      const response = await inject(
        'GET',
        `/v1/admin/newsletters?status=draft&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
        admin().accessToken,
      );
      expect(response.statusCode, response.body).toBe(200);
      const { items, nextCursor } = response.json() as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...items.map((item) => item.id));
      cursor = nextCursor;
      if (cursor === null) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    // Newest first: the four drafts of this test lead, every one of them once.
    expect(seen.slice(0, 4)).toEqual([...made].reverse());
    expect((await inject('GET', '/v1/admin/newsletters?cursor=forged', admin().accessToken)).statusCode).toBe(
      400,
    );
  }, 120_000);

  it('Idempotency-Key: a replay answers the same campaign, created once', async () => {
    const key = `newsletter-${randomUUID()}`;
    const first = await inject('POST', '/v1/admin/newsletters', admin().accessToken, campaignBody(), {
      'idempotency-key': key,
    });
    const again = await inject('POST', '/v1/admin/newsletters', admin().accessToken, campaignBody(), {
      'idempotency-key': key,
    });
    expect(first.statusCode, first.body).toBe(201);
    expect(again.json().id).toBe(first.json().id);
    expect(await auditCount('admin.newsletter_created', `newsletter:${first.json().id}`)).toBe(1);
  });
});
