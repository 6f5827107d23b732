import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

/**
 * Inbound e-mail to support (`POST /v1/webhooks/mailgun/inbound`): Mailgun's parsed format,
 * signed with the webhook signing key (hex HMAC-SHA256 of timestamp + token, computed here as
 * Mailgun does); the text continues the sender's open ticket or opens one.
 */
const SIGNING_KEY = 'key-support-email-test-0123456789';
let testApp: TestApp;
let customer: CreatedUser;
let customerEmail: string;

function signed(fields: Record<string, string>, key = SIGNING_KEY, at = Math.floor(Date.now() / 1_000)) {
  const timestamp = String(at);
  const token = randomBytes(25).toString('hex');
  const signature = createHmac('sha256', key)
    .update(timestamp + token)
    .digest('hex');
  return { ...fields, timestamp, token, signature };
}

const message = (from: string, subject: string, text: string, extra: Record<string, string> = {}) => ({
  recipient: 'support@example.cm',
  sender: from,
  from: `Awa Ndongo <${from}>`,
  subject,
  'body-plain': `${text}\n\n> Le 5 déc., Support a écrit :\n> ancienne réponse`,
  'stripped-text': text,
  'Message-Id': `<${randomBytes(8).toString('hex')}@mail.example.cm>`,
  'message-headers': JSON.stringify([
    ['X-Mailgun-Spf', 'Pass'],
    ['Subject', subject],
  ]),
  ...extra,
});

const post = (fields: Record<string, string>) =>
  testApp.app.inject({
    method: 'POST',
    url: '/v1/webhooks/mailgun/inbound',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });

function multipartBody(fields: Record<string, string>, file: { name: string; bytes: Buffer }) {
  const boundary = `----mg${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields))
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="attachment-1"; filename="${file.name}"\r\nContent-Type: application/pdf\r\n\r\n`,
    ),
    file.bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { boundary, payload: Buffer.concat(parts) };
}

const ticketsOf = (userId: string) =>
  testApp.services.db
    .selectFrom('support_tickets')
    .select(['id', 'category', 'status', 'source'])
    .where('opener_id', '=', userId)
    .orderBy('created_at')
    .execute();
const rowCounts = async () => ({
  tickets: (await testApp.services.db.selectFrom('support_tickets').select('id').execute()).length,
  messages: (await testApp.services.db.selectFrom('support_messages').select('id').execute()).length,
});

beforeAll(async () => {
  testApp = await createTestApp({ env: { MAILGUN_WEBHOOK_SIGNING_KEY: SIGNING_KEY } });
  customerEmail = `awa.${randomBytes(4).toString('hex')}@example.cm`;
  customer = await createUser(testApp, { roles: ['customer'], email: customerEmail });
}, 60_000);
afterAll(async () => testApp?.close());

describe('tickets by e-mail', () => {
  let ticketId: string;

  it('a signed e-mail from a customer’s address opens a ticket from its reply text; a redelivery writes nothing new', async () => {
    const fields = signed(
      message(
        customerEmail.toUpperCase(),
        'Re: Remboursement de ma commande',
        'Je n’ai pas reçu mon remboursement.',
      ),
    );
    const answer = await post(fields);
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toEqual({ outcome: 'opened' });
    const tickets = await ticketsOf(customer.userId);
    expect(tickets).toEqual([
      expect.objectContaining({ source: 'email', status: 'open', category: 'payment' }),
    ]);
    ticketId = tickets[0]!.id;
    const read = await testApp.app.inject({
      method: 'GET',
      url: `/v1/support/tickets/${ticketId}`,
      headers: authHeader(customer.accessToken),
    });
    expect(read.json()).toMatchObject({ subject: 'Remboursement de ma commande' });
    // The quoted part of the e-mail is not kept.
    expect(read.json().messages).toEqual([
      expect.objectContaining({ from: 'opener', body: 'Je n’ai pas reçu mon remboursement.' }),
    ]);
    const before = await rowCounts();
    // Mailgun delivers again (a timeout on its side): new token and signature, same message.
    const again = await post(signed({ ...fields, timestamp: '', token: '', signature: '' }));
    expect(again.statusCode).toBe(200);
    expect(await rowCounts()).toEqual(before);
    // Its audit names the channel.
    const audit = await testApp.services.db
      .selectFrom('audit_logs')
      .select('user_agent')
      .where('resource', '=', `support_ticket:${ticketId}`)
      .where('action', '=', 'support.ticket_opened')
      .executeTakeFirstOrThrow();
    expect(audit.user_agent).toBe('email');
  });

  it('the next e-mail, with an attachment (multipart), continues the ticket; the attachment is dropped', async () => {
    const fields = signed(message(customerEmail, 'Re: Remboursement', 'Voici la capture du paiement.'));
    const { boundary, payload } = multipartBody(fields, { name: 'recu.pdf', bytes: randomBytes(40_000) });
    const answer = await testApp.app.inject({
      method: 'POST',
      url: '/v1/webhooks/mailgun/inbound',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toEqual({ outcome: 'continued' });
    expect(await ticketsOf(customer.userId)).toHaveLength(1);
    const read = await testApp.app.inject({
      method: 'GET',
      url: `/v1/support/tickets/${ticketId}`,
      headers: authHeader(customer.accessToken),
    });
    expect(read.json().messages.at(-1)).toMatchObject({
      body: 'Voici la capture du paiement.',
      attachments: [],
    });
  });

  it('a bad, missing, stale or other key’s signature is 403 and stores nothing', async () => {
    const before = await rowCounts();
    const good = signed(message(customerEmail, 'Bonjour', 'Texte.'));
    const cases = [
      { ...good, signature: '0'.repeat(64) },
      { ...good, token: 'another-token' },
      Object.fromEntries(Object.entries(good).filter(([name]) => name !== 'signature')),
      signed(message(customerEmail, 'Bonjour', 'Texte.'), 'key-someone-else-0123456789'),
      signed(
        message(customerEmail, 'Bonjour', 'Texte.'),
        SIGNING_KEY,
        Math.floor(Date.now() / 1_000) - 3_600,
      ),
      { ...good, signature: 'not-hex' },
    ];
    for (const fields of cases) {
      const answer = await post(fields);
      expect(answer.statusCode, answer.body).toBe(403);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json().code).toBe('email_signature_invalid');
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('a huge body is 413, NUL bytes are 400, an unsigned malformed form is 403, and nothing is stored', async () => {
    const before = await rowCounts();
    const huge = await post(signed(message(customerEmail, 'Gros', 'x'.repeat(600_000))));
    expect(huge.statusCode).toBe(413);
    const nul = await post(signed(message(customerEmail, 'Nul', 'avant\u0000après')));
    expect(nul.statusCode).toBe(400);
    expect(nul.json().code).toBe('invalid_characters');
    const garbage = await testApp.app.inject({
      method: 'POST',
      url: '/v1/webhooks/mailgun/inbound',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'from=%E0%A4%A&&&=',
    });
    expect(garbage.statusCode).toBe(403);
    expect(await rowCounts()).toEqual(before);
  });

  it('an unknown sender, a message flagged as spam, a failed SPF and DKIM check, or a blank text are acknowledged and change nothing', async () => {
    const stranger = `nobody.${randomBytes(4).toString('hex')}@example.cm`;
    const before = await rowCounts();
    const cases = [
      message(stranger, 'Bonjour', 'Je ne suis pas client.'),
      message(customerEmail, 'Gagnez', 'Offre incroyable', {
        'message-headers': JSON.stringify([['X-Mailgun-Sflag', 'Yes']]),
      }),
      message(customerEmail, 'Usurpé', 'Envoyez-moi le code', {
        'message-headers': JSON.stringify([
          ['X-Mailgun-Spf', 'Fail'],
          ['X-Mailgun-Dkim-Check-Result', 'Fail'],
        ]),
      }),
      message(customerEmail, 'Vide', '   ', { 'body-plain': '  ' }),
      message('pas une adresse', 'Bonjour', 'Texte.'),
    ];
    for (const fields of cases) {
      const answer = await post(signed(fields));
      expect(answer.statusCode, answer.body).toBe(200);
      expect(answer.json()).toEqual({ outcome: 'ignored' });
    }
    expect(await rowCounts()).toEqual(before);
    // The log names what happened, never the address or the text.
    const lines = JSON.stringify(testApp.logs.filter((line) => line.msg === 'support e-mail intake'));
    expect(lines).toContain('unknown_sender');
    expect(lines).toContain('spam');
    expect(lines).toContain('sender_unverified');
    expect(lines).not.toContain(stranger);
    expect(lines).not.toContain(customerEmail);
    expect(lines).not.toContain('Offre incroyable');
  });
});
