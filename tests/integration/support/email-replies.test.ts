import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { until } from '../payments/helpers.js';

/**
 * E-mail replies to e-mail tickets (docs/support.md "Tickets by e-mail"), end to end on the real
 * database, queue and recording outbox: a signed inbound e-mail opens a ticket, an agent replies,
 * the outbox holds one e-mail with the ticket's reference in its subject and the reply alone in its
 * body, and the customer's answer (signed again, the reference in its subject) lands on that
 * ticket, not on their newer one. A reference to someone else's ticket attaches to nothing of theirs.
 */
const SIGNING_KEY = 'key-support-email-replies-0123456789';
let testApp: TestApp;
let customer: CreatedUser;
let customerEmail: string;
let other: CreatedUser;
let otherEmail: string;
let agent: CreatedUser;

function signed(fields: Record<string, string>) {
  const timestamp = String(Math.floor(Date.now() / 1_000));
  const token = randomBytes(25).toString('hex');
  const signature = createHmac('sha256', SIGNING_KEY)
    .update(timestamp + token)
    .digest('hex');
  return { ...fields, timestamp, token, signature };
}

const email = (from: string, subject: string, text: string, messageId = randomBytes(8).toString('hex')) => ({
  recipient: 'support@example.cm',
  sender: from,
  from: `Client <${from}>`,
  subject,
  'body-plain': `${text}\n\n> Le support a écrit :\n> ancienne réponse`,
  'stripped-text': text,
  'Message-Id': `<${messageId}@mail.example.cm>`,
  'message-headers': JSON.stringify([['X-Mailgun-Spf', 'Pass']]),
});

const post = (fields: Record<string, string>) =>
  testApp.app.inject({
    method: 'POST',
    url: '/v1/webhooks/mailgun/inbound',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });

const inject = (
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  token: string,
  payload?: unknown,
  key?: string,
) =>
  testApp.app.inject({
    method,
    url,
    headers: { ...authHeader(token), ...(key === undefined ? {} : { 'idempotency-key': key }) },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const emailsTo = async (address: string) =>
  (await testApp.services.notifications.outbox!.list({ to: address, channel: 'email', limit: 50 })).filter(
    (item) => item.metadata.kind === 'support.email_reply',
  );
const smsTo = async (phone: string) =>
  testApp.services.notifications.outbox!.list({ to: phone, channel: 'sms', limit: 50 });

const messagesOf = async (ticketId: string) =>
  testApp.services.db
    .selectFrom('support_messages')
    .select(['id', 'author_id', 'from_staff'])
    .where('ticket_id', '=', ticketId)
    .orderBy('position')
    .execute();
const intentsOf = (recipientId: string, kind: string) =>
  testApp.services.db
    .selectFrom('notification_intents')
    .select(['id', 'source_event_id', 'status'])
    .where('recipient_id', '=', recipientId)
    .where('kind', '=', kind)
    .execute();

beforeAll(async () => {
  testApp = await createTestApp({ env: { MAILGUN_WEBHOOK_SIGNING_KEY: SIGNING_KEY } });
  customerEmail = `awa.${randomBytes(4).toString('hex')}@example.cm`;
  otherEmail = `paul.${randomBytes(4).toString('hex')}@example.cm`;
  [customer, other, agent] = await Promise.all([
    createUser(testApp, { roles: ['customer'], email: customerEmail, name: 'Awa Ndongo' }),
    createUser(testApp, { roles: ['customer'], email: otherEmail, name: 'Paul Mbarga' }),
    createUser(testApp, {
      roles: ['support'],
      email: `agent.${randomBytes(4).toString('hex')}@example.cm`,
      name: 'Agent Etoa',
    }),
  ]);
  await testApp.services.support.agents.configure(agent.userId, { supervisor: true }, new Date());
}, 60_000);
afterAll(async () => testApp?.close());

describe('replies to a ticket opened by e-mail', () => {
  let ticketId: string;
  let ref: string;

  it('an e-mail opens a ticket; the agent’s reply goes back as one e-mail carrying the reference, the reply alone, threaded; a retried reply sends no second', async () => {
    const opened = await post(
      signed(email(customerEmail, 'Remboursement de ma commande', 'Je n’ai pas reçu mon remboursement.')),
    );
    expect(opened.json()).toEqual({ outcome: 'opened' });
    const row = await testApp.services.db
      .selectFrom('support_tickets')
      .select(['id', 'source'])
      .where('opener_id', '=', customer.userId)
      .executeTakeFirstOrThrow();
    expect(row.source).toBe('email');
    ticketId = row.id;
    ref = `T-${ticketId.slice(0, 8)}`;

    const key = randomUUID();
    const text = 'Bonjour, votre remboursement de 2 500 FCFA est parti ce matin.\n\nL’équipe support';
    const reply = await inject(
      'POST',
      `/v1/support/tickets/${ticketId}/messages`,
      agent.accessToken,
      { body: text },
      key,
    );
    expect(reply.statusCode, reply.body).toBe(201);
    const sent = await until(
      () => emailsTo(customerEmail),
      (items) => items.length > 0,
      20_000,
    );
    expect(sent).toHaveLength(1);
    const [mail] = sent;
    expect(mail!.subject).toBe(`Re: Remboursement de ma commande [#${ref}]`);
    // The reply and the footer, nothing else: no agent's name or address, no other customer's data.
    expect(mail!.body).toBe(
      `${text}\n\n--\nTicket ${ref}. Répondez à cet e-mail pour continuer (gardez [#${ref}] dans l’objet), ou écrivez-nous dans l’app.`,
    );
    expect(mail!.metadata.thread).toEqual({
      messageId: `support-reply.${reply.json().id}`,
      inReplyTo: `support-ticket.${ticketId}`,
    });
    // The reply went by e-mail, not by the push/SMS notice.
    expect(await intentsOf(customer.userId, 'support.reply')).toHaveLength(0);
    expect((await smsTo(customer.phone)).filter((item) => item.body.includes('remboursement'))).toHaveLength(
      0,
    );

    // The agent's client retries (a lost answer): same message, still one e-mail.
    const retried = await inject(
      'POST',
      `/v1/support/tickets/${ticketId}/messages`,
      agent.accessToken,
      { body: text },
      key,
    );
    expect(retried.statusCode).toBe(201);
    expect(retried.json().id).toBe(reply.json().id);
    expect(await intentsOf(customer.userId, 'support.email_reply')).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await emailsTo(customerEmail)).toHaveLength(1);

    // An internal note sends nothing.
    const note = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, agent.accessToken, {
      body: 'Vérifié dans le grand livre.',
      internal: true,
    });
    expect(note.statusCode).toBe(201);
    expect(await intentsOf(customer.userId, 'support.email_reply')).toHaveLength(1);
  }, 60_000);

  it('the customer’s e-mail answer naming the reference lands on that ticket, not on their newer one; a redelivery writes it once', async () => {
    // A newer ticket from the app: without the reference, an e-mail would continue this one.
    const newer = await inject('POST', '/v1/support/tickets', customer.accessToken, {
      category: 'account',
      subject: 'Mon compte',
      body: 'Une autre question.',
    });
    expect(newer.statusCode, newer.body).toBe(201);
    const before = await messagesOf(ticketId);
    const answer = signed(
      email(customerEmail, `RE: Re: Remboursement de ma commande [#${ref}]`, 'Merci, je l’ai bien reçu.'),
    );
    const first = await post(answer);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ outcome: 'continued' });
    const after = await messagesOf(ticketId);
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toMatchObject({ author_id: customer.userId, from_staff: false });
    expect(await messagesOf(newer.json().id)).toHaveLength(1);
    // Mailgun posts it again (its own retry: new token, same Message-Id): one message.
    const again = await post(signed({ ...answer, timestamp: '', token: '', signature: '' }));
    expect(again.json()).toEqual({ outcome: 'continued' });
    expect(await messagesOf(ticketId)).toHaveLength(before.length + 1);
    const read = await inject('GET', `/v1/support/tickets/${ticketId}`, customer.accessToken);
    expect(read.json().messages.at(-1)).toMatchObject({ from: 'opener', body: 'Merci, je l’ai bien reçu.' });
  }, 60_000);

  it('a reference to someone else’s ticket attaches nothing to it: the sender gets a ticket of their own', async () => {
    const before = await messagesOf(ticketId);
    const forged = await post(
      signed(email(otherEmail, `Re: Remboursement [#${ref}]`, 'Envoyez-moi le remboursement à moi.')),
    );
    expect(forged.statusCode).toBe(200);
    expect(forged.json()).toEqual({ outcome: 'opened' });
    expect(await messagesOf(ticketId)).toEqual(before);
    const theirs = await testApp.services.db
      .selectFrom('support_tickets')
      .select(['id'])
      .where('opener_id', '=', other.userId)
      .execute();
    expect(theirs).toHaveLength(1);
    expect(theirs[0]!.id).not.toBe(ticketId);
    // Its subject is theirs, without the reference.
    const read = await inject('GET', `/v1/support/tickets/${theirs[0]!.id}`, other.accessToken);
    expect(read.json().subject).toBe('Remboursement');
    // The victim's ticket did not leak into any answer: the forger reads 404 on it.
    expect((await inject('GET', `/v1/support/tickets/${ticketId}`, other.accessToken)).statusCode).toBe(404);
  }, 60_000);

  it('a reference to the sender’s own resolved ticket opens a new one rather than writing on it', async () => {
    const resolved = await inject('POST', `/v1/support/tickets/${ticketId}/status`, agent.accessToken, {
      status: 'resolved',
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    const before = await messagesOf(ticketId);
    const late = await post(
      signed(email(customerEmail, `Re: Remboursement [#${ref}]`, 'Encore une question.')),
    );
    expect(late.json()).toEqual({ outcome: 'opened' });
    expect(await messagesOf(ticketId)).toEqual(before);
  }, 60_000);
});

describe('replies to tickets not opened by e-mail', () => {
  it('an app ticket’s reply to an offline opener still goes by the push/SMS notice, no e-mail', async () => {
    const opened = await inject('POST', '/v1/support/tickets', other.accessToken, {
      category: 'other',
      subject: 'Question',
      body: 'Bonjour.',
    });
    expect(opened.statusCode).toBe(201);
    const reply = await inject(
      'POST',
      `/v1/support/tickets/${opened.json().id}/messages`,
      agent.accessToken,
      {
        body: 'Réponse depuis l’app.',
      },
    );
    expect(reply.statusCode).toBe(201);
    await until(
      () => smsTo(other.phone),
      (items) => items.some((item) => item.body.includes('Réponse depuis l’app.')),
      20_000,
    );
    expect(await intentsOf(other.userId, 'support.email_reply')).toHaveLength(0);
    expect(await emailsTo(otherEmail)).toHaveLength(0);
  }, 60_000);

  it('an e-mail ticket’s opener with every ticket channel off gets no e-mail (the in-app centre only)', async () => {
    const address = `mute.${randomBytes(4).toString('hex')}@example.cm`;
    const muted = await createUser(testApp, { roles: ['customer'], email: address });
    const off = { push: false, sms: false, email: false };
    const set = await inject('PUT', '/v1/me/notification-preferences', muted.accessToken, {
      order_updates: off,
      promotions: off,
      wallet: { push: true, sms: true, email: false },
      security: { push: true, sms: true, email: true },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect((await post(signed(email(address, 'Silence', 'Question sans notification.')))).json()).toEqual({
      outcome: 'opened',
    });
    const ticket = await testApp.services.db
      .selectFrom('support_tickets')
      .select('id')
      .where('opener_id', '=', muted.userId)
      .executeTakeFirstOrThrow();
    const reply = await inject('POST', `/v1/support/tickets/${ticket.id}/messages`, agent.accessToken, {
      body: 'Réponse muette.',
    });
    expect(reply.statusCode).toBe(201);
    const [intent] = await until(
      () => intentsOf(muted.userId, 'support.email_reply'),
      (rows) => rows.length === 1 && rows[0]!.status !== 'pending',
      20_000,
    );
    expect(intent!.status).toBe('muted');
    expect(await emailsTo(address)).toHaveLength(0);
  }, 60_000);
});
