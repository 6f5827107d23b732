/**
 * Fault schedules for a support reply on a ticket opened by e-mail (docs/support.md "Replies by
 * e-mail"): the reply must reach the customer's mailbox once, whatever fails between the agent's
 * send and the SMTP server's acceptance. Two app instances share one database and Redis; e-mail
 * goes through the real SMTP adapter (nodemailer) to the repository's SMTP stand-in, behind a
 * wrapper that makes the connection fail a set number of times first (an SMTP server having a
 * bad minute). Support, notify, the queue and the database are the real ones.
 *
 * - the SMTP connection fails twice, then recovers: the queue's retries send one e-mail, threaded;
 * - the agent's client retries the reply on both instances at once while SMTP is failing: one
 *   message in the thread, one intent, one e-mail.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpAdapter } from '../../src/modules/notifications/email-smtp.js';
import type { ChannelAdapter } from '../../src/modules/notifications/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../helpers/auth.js';
import { startSmtpStandIn } from '../integration/notifications/stand-ins.js';
import { until } from '../integration/payments/helpers.js';

const SIGNING_KEY = 'key-support-email-faults-0123456789';
const SMTP = { user: 'mailer', pass: 'smtp-secret-for-tests' };
const shared = {
  // The recording outbox off: e-mail goes through the adapter installed below.
  OUTBOX_ENABLED: 'false',
  MAILGUN_WEBHOOK_SIGNING_KEY: SIGNING_KEY,
  REDIS_KEY_PREFIX: `se${randomBytes(3).toString('hex')}:`,
  ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  JWT_SECRET: randomBytes(24).toString('hex'),
  JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
};
let first: TestApp;
let second: TestApp;
let smtp: Awaited<ReturnType<typeof startSmtpStandIn>>;
let agent: CreatedUser;
/** Connection failures still to inject, and every attempt the adapter saw (both instances). */
const faults = { failuresLeft: 0, attempts: 0 };

function flaky(adapter: ChannelAdapter): ChannelAdapter {
  return {
    name: adapter.name,
    async send(message) {
      faults.attempts += 1;
      if (faults.failuresLeft > 0) {
        faults.failuresLeft -= 1;
        throw Object.assign(new Error('connect ECONNRESET 127.0.0.1'), { code: 'ECONNRESET' });
      }
      return adapter.send(message);
    },
  };
}

function signed(fields: Record<string, string>) {
  const timestamp = String(Math.floor(Date.now() / 1_000));
  const token = randomBytes(25).toString('hex');
  const signature = createHmac('sha256', SIGNING_KEY)
    .update(timestamp + token)
    .digest('hex');
  return { ...fields, timestamp, token, signature };
}

async function emailTicket(customer: CreatedUser, address: string, subject: string): Promise<string> {
  const answer = await first.app.inject({
    method: 'POST',
    url: '/v1/webhooks/mailgun/inbound',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(
      signed({
        from: `Client <${address}>`,
        subject,
        'stripped-text': 'My refund has not arrived.',
        'Message-Id': `<${randomBytes(8).toString('hex')}@mail.example.cm>`,
      }),
    ).toString(),
  });
  expect(answer.json()).toEqual({ outcome: 'opened' });
  const row = await first.services.db
    .selectFrom('support_tickets')
    .select('id')
    .where('opener_id', '=', customer.userId)
    .where('source', '=', 'email')
    .executeTakeFirstOrThrow();
  return row.id;
}

const reply = (app: TestApp, ticketId: string, body: string, key: string) =>
  app.app.inject({
    method: 'POST',
    url: `/v1/support/tickets/${ticketId}/messages`,
    headers: { ...authHeader(agent.accessToken), 'idempotency-key': key },
    payload: { body },
  });

const mailsTo = (address: string) => smtp.messages.filter((mail) => mail.to.includes(address));

beforeAll(async () => {
  smtp = await startSmtpStandIn(SMTP);
  first = await createTestApp({ env: shared });
  second = await createTestApp({ database: first.database, env: shared });
  for (const app of [first, second])
    app.services.notifications.useAdapter(
      'email',
      flaky(
        createSmtpAdapter({
          host: '127.0.0.1',
          port: smtp.port,
          user: SMTP.user,
          pass: SMTP.pass,
          from: 'Support <support@example.cm>',
          timeoutMs: 5_000,
        }),
      ),
    );
  agent = await createUser(first, { roles: ['support'] });
  await first.services.support.agents.configure(agent.userId, { supervisor: true }, new Date());
}, 120_000);

afterAll(async () => {
  await second?.close();
  await first?.close();
  await smtp?.close();
});

describe('a reply by e-mail when SMTP fails', () => {
  it('fails twice then succeeds: one e-mail, with the reference and the thread headers', async () => {
    const address = `awa.${randomBytes(4).toString('hex')}@example.cm`;
    const customer = await createUser(first, { roles: ['customer'], email: address });
    const ticketId = await emailTicket(customer, address, 'Refund for my order');
    faults.failuresLeft = 2;
    faults.attempts = 0;
    const answer = await reply(first, ticketId, 'Your refund left this morning.', randomUUID());
    expect(answer.statusCode, answer.body).toBe(201);
    const mails = await until(
      async () => mailsTo(address),
      (found) => found.length > 0,
      40_000,
    );
    expect(faults.attempts).toBe(3);
    // A later look still finds one: no retry sent it again.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(mailsTo(address)).toHaveLength(1);
    // Headers unfolded (long ones are folded onto the next line).
    const raw = mails[0]!.raw.replace(/\r\n[ \t]+/g, ' ');
    expect(raw).toContain(`Subject: Re: Refund for my order [#T-${ticketId.slice(0, 8)}]`);
    expect(raw).toContain(`Message-ID: <support-reply.${answer.json().id}@example.cm>`);
    expect(raw).toContain(`In-Reply-To: <support-ticket.${ticketId}@example.cm>`);
    expect(raw).toContain(`References: <support-ticket.${ticketId}@example.cm>`);
    const delivery = await first.services.db
      .selectFrom('notification_deliveries')
      .innerJoin('notification_intents', 'notification_intents.id', 'notification_deliveries.intent_id')
      .select(['notification_deliveries.status', 'notification_deliveries.channel'])
      .where('notification_intents.recipient_id', '=', customer.userId)
      .execute();
    expect(delivery).toEqual([{ status: 'sent', channel: 'email' }]);
  }, 90_000);

  it('the reply retried on two instances at once while SMTP fails: one message, one intent, one e-mail', async () => {
    const address = `paul.${randomBytes(4).toString('hex')}@example.cm`;
    const customer = await createUser(first, { roles: ['customer'], email: address });
    const ticketId = await emailTicket(customer, address, 'Missing dish');
    faults.failuresLeft = 3;
    const key = randomUUID();
    const text = 'We are sending the missing dish.';
    const answers = await Promise.all([
      reply(first, ticketId, text, key),
      reply(second, ticketId, text, key),
      reply(first, ticketId, text, key),
      reply(second, ticketId, text, key),
    ]);
    for (const answer of answers) expect([201, 409]).toContain(answer.statusCode);
    const ids = new Set(
      answers.filter((answer) => answer.statusCode === 201).map((answer) => answer.json().id),
    );
    expect(ids.size).toBe(1);
    await until(
      async () => mailsTo(address),
      (found) => found.length > 0,
      60_000,
    );
    // The three failures were met (the queue's retries went through them) before the one e-mail.
    expect(faults.failuresLeft).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(mailsTo(address)).toHaveLength(1);
    const staffMessages = await first.services.db
      .selectFrom('support_messages')
      .select('id')
      .where('ticket_id', '=', ticketId)
      .where('from_staff', '=', true)
      .execute();
    expect(staffMessages).toHaveLength(1);
    const intents = await first.services.db
      .selectFrom('notification_intents')
      .select('id')
      .where('kind', '=', 'support.email_reply')
      .where('recipient_id', '=', customer.userId)
      .execute();
    expect(intents).toHaveLength(1);
  }, 120_000);
});
