import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewsletters, unsubscribeTokens } from '../../src/modules/admin/newsletters.js';
import type { AdminDb } from '../../src/modules/admin/tables.js';
import { authHeader, createUser } from '../helpers/auth.js';
import { orderWorld, type OrderWorld } from '../integration/orders/helpers.js';
import { until } from '../integration/payments/helpers.js';

/**
 * Fault schedules for newsletters (docs/admin.md "Newsletters"): the sending job dies after a
 * batch was handed to notify and before it saved its place, then runs again; two instances run
 * the same campaign at once. Each consenting recipient gets one message per channel, the
 * campaign's count is exact.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld({ NEWSLETTER_BATCH_SIZE: '3' });
}, 120_000);
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const db = () => services().db;

/** Another instance of the sending job over the same database, with a fault hook. */
function instance(afterBatchSent?: (campaignId: string, batch: number) => void) {
  const { identity, notify } = services();
  return createNewsletters({
    db: db() as unknown as AdminDb,
    audit: identity.audit,
    audience: {
      page: (query, afterId, limit) =>
        identity.repository.marketingAudience({
          ...query,
          ...(afterId === undefined ? {} : { afterId }),
          limit,
        }),
      count: (query) => identity.repository.countMarketingAudience(query),
      unsubscribe: (userId) => identity.repository.unsubscribeMarketing(userId),
    },
    send: (messages) => notify.newsletter(messages),
    tokens: unsubscribeTokens((userId) => `sig-${userId.replaceAll('-', '')}`),
    publicBaseUrl: 'http://127.0.0.1',
    batchSize: 3,
    logger: world.testApp.app.log as never,
    ...(afterBatchSent === undefined ? {} : { afterBatchSent }),
  });
}

async function campaignFor(recipients: number) {
  const city = `Faultville-${randomUUID()}`;
  const users = [];
  for (let index = 0; index < recipients; index += 1) {
    const user = await createUser(world.testApp, { roles: ['customer'] });
    await services().identity.repository.insertAddress({
      user_id: user.userId,
      label: 'Home',
      line1: 'Rue',
      city,
    });
    const preferences = (
      await world.testApp.app.inject({
        method: 'GET',
        url: '/v1/me/notification-preferences',
        headers: authHeader(user.accessToken),
      })
    ).json();
    preferences.promotions = { push: false, sms: true, email: false };
    const saved = await world.testApp.app.inject({
      method: 'PUT',
      url: '/v1/me/notification-preferences',
      headers: authHeader(user.accessToken),
      payload: preferences,
    });
    expect(saved.statusCode, saved.body).toBe(200);
    users.push(user);
  }
  const admin = { kind: 'user' as const, userId: world.actors.admin.userId };
  const campaign = await services().admin.newsletters.create(
    {
      name: 'Fault night',
      segment: { roles: [], cities: [city] },
      template: {
        fr: { title: 'Titre', body: 'Corps', sms: 'Court' },
        en: { title: 'Title', body: 'Body', sms: 'Short' },
      },
      channels: ['sms'],
    },
    admin,
  );
  await services().admin.newsletters.schedule(campaign.id, { at: new Date().toISOString() }, admin);
  return { campaign, users };
}

/** Per recipient: intents recorded and SMS sent (each must be 1). */
async function perRecipient(campaignId: string, userIds: string[]) {
  return (
    await sql<{ recipient_id: string; intents: string; sent: string }>`
      SELECT i.recipient_id, count(DISTINCT i.id)::text AS intents,
        count(d.id) FILTER (WHERE d.status = 'sent')::text AS sent
      FROM notification_intents i LEFT JOIN notification_deliveries d ON d.intent_id = i.id
      WHERE i.source_event_id = ${`newsletter:${campaignId}`} AND i.recipient_id = ANY(${userIds}::uuid[])
      GROUP BY i.recipient_id`.execute(db())
  ).rows;
}

const recipientsCount = async (campaignId: string) =>
  (await services().admin.newsletters.get(campaignId)).recipients;

describe('newsletter fault schedules', () => {
  it('the job dies after handing a batch to notify and before saving its place: the retry sends each recipient once', async () => {
    const { campaign, users } = await campaignFor(7);
    const crashing = instance((_, batch) => {
      if (batch === 1) throw new Error('process killed after the batch was sent');
    });
    await expect(crashing.runDue(new Date(Date.now() + 1_000))).rejects.toThrow('process killed');
    // Two batches of three were recorded; the place was saved after the first only.
    expect((await services().admin.newsletters.get(campaign.id)).status).toBe('sending');
    await services().admin.newsletters.runDue(new Date(Date.now() + 2_000));
    const ids = users.map((user) => user.userId);
    const rows = await until(
      () => perRecipient(campaign.id, ids),
      (found) => found.length === 7 && found.every((row) => row.sent === '1'),
      30_000,
    );
    expect(rows.every((row) => row.intents === '1' && row.sent === '1')).toBe(true);
    expect(await recipientsCount(campaign.id)).toBe(7);
    expect((await services().admin.newsletters.get(campaign.id)).status).toBe('sent');
  }, 120_000);

  it('two instances run the same campaign at once: each recipient once, the count exact, sent audited once', async () => {
    const { campaign, users } = await campaignFor(8);
    const at = new Date(Date.now() + 1_000);
    await Promise.all([
      instance().runDue(at),
      services().admin.newsletters.runDue(at),
      instance().runDue(at),
    ]);
    const ids = users.map((user) => user.userId);
    const rows = await until(
      () => perRecipient(campaign.id, ids),
      (found) => found.length === 8 && found.every((row) => row.sent === '1'),
      30_000,
    );
    expect(rows.every((row) => row.intents === '1' && row.sent === '1')).toBe(true);
    expect(await recipientsCount(campaign.id)).toBe(8);
    const audits = await sql<{ action: string; n: string }>`SELECT action, count(*)::text AS n FROM audit_logs
      WHERE resource = ${`newsletter:${campaign.id}`} GROUP BY action ORDER BY action`.execute(db());
    expect(audits.rows).toEqual([
      { action: 'admin.newsletter_created', n: '1' },
      { action: 'admin.newsletter_scheduled', n: '1' },
      { action: 'admin.newsletter_sent', n: '1' },
      { action: 'admin.newsletter_started', n: '1' },
    ]);
  }, 120_000);
});
