import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { fetchBytes, solidPng, tinyPdf, upload } from '../files/helpers.js';

/** Support attachments: a `support_attachment` upload, attached to a ticket, read by its owner and staff. */
let testApp: TestApp;
let customer: CreatedUser;
let other: CreatedUser;
let agent: CreatedUser;

beforeAll(async () => {
  testApp = await createTestApp();
  [customer, other, agent] = await Promise.all([
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['support'] }),
  ]);
  // A supervisor sees every ticket; plain agents only theirs (assignment.test.ts).
  await testApp.services.support.agents.configure(agent.userId, { supervisor: true }, new Date());
}, 120_000);
afterAll(async () => testApp?.close());

const getFile = (id: string, token: string) =>
  testApp.app.inject({ method: 'GET', url: `/v1/files/${id}`, headers: authHeader(token) });

const screenshotOf = async (token: string) => {
  const uploaded = await upload(
    testApp,
    token,
    { purpose: 'support_attachment' },
    { body: await solidPng(20, 20), filename: 'capture.png', contentType: 'image/png' },
  );
  expect(uploaded.statusCode, uploaded.body).toBe(201);
  return uploaded.json().id as string;
};

describe('support attachments scoped to their ticket', () => {
  it('a plain agent reads those of the tickets assigned to them only; a supervisor reads any attached one, not an unattached one', async () => {
    const [assigned, unassigned] = await Promise.all([
      createUser(testApp, { roles: ['support'] }),
      createUser(testApp, { roles: ['support'] }),
    ]);
    const [attached, loose] = [
      await screenshotOf(customer.accessToken),
      await screenshotOf(customer.accessToken),
    ];
    const opened = await testApp.app.inject({
      method: 'POST',
      url: '/v1/support/tickets',
      headers: authHeader(customer.accessToken),
      payload: {
        category: 'payment',
        subject: 'Capture',
        body: 'Voici la capture.',
        attachments: [attached],
      },
    });
    expect(opened.statusCode, opened.body).toBe(201);
    const ticketId = opened.json().id as string;
    const assign = await testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/support/tickets/${ticketId}/assign`,
      headers: authHeader(agent.accessToken),
      payload: { assigneeId: assigned.userId },
    });
    expect(assign.statusCode, assign.body).toBe(200);
    expect((await getFile(attached, assigned.accessToken)).statusCode).toBe(200);
    expect((await getFile(attached, unassigned.accessToken)).statusCode).toBe(404);
    expect((await getFile(attached, agent.accessToken)).statusCode).toBe(200);
    // Not on any ticket: its uploader alone (and admins) read it.
    expect((await getFile(loose, agent.accessToken)).statusCode).toBe(404);
    expect((await getFile(loose, customer.accessToken)).statusCode).toBe(200);
  });

  it('the opener reads a file staff attached to a reply, not one on an internal note', async () => {
    const opened = await testApp.app.inject({
      method: 'POST',
      url: '/v1/support/tickets',
      headers: authHeader(customer.accessToken),
      payload: { category: 'other', subject: 'Question', body: 'Une question.' },
    });
    const ticketId = opened.json().id as string;
    const [replyFile, noteFile] = [
      await screenshotOf(agent.accessToken),
      await screenshotOf(agent.accessToken),
    ];
    for (const [file, internal] of [
      [replyFile, false],
      [noteFile, true],
    ] as const) {
      const written = await testApp.app.inject({
        method: 'POST',
        url: `/v1/support/tickets/${ticketId}/messages`,
        headers: authHeader(agent.accessToken),
        payload: {
          body: internal ? 'Note interne.' : 'Voici la marche à suivre.',
          internal,
          attachments: [file],
        },
      });
      expect(written.statusCode, written.body).toBe(201);
    }
    expect((await getFile(replyFile, customer.accessToken)).statusCode).toBe(200);
    expect((await getFile(noteFile, customer.accessToken)).statusCode).toBe(404);
    expect((await getFile(replyFile, other.accessToken)).statusCode).toBe(404);
  });
});

describe('support attachments', () => {
  it('a customer uploads a screenshot and a PDF receipt, attaches them to a ticket; staff read them, another customer gets 404', async () => {
    const screenshot = await upload(
      testApp,
      customer.accessToken,
      { purpose: 'support_attachment' },
      {
        body: await solidPng(40, 30),
        filename: 'capture.png',
        contentType: 'image/png',
      },
    );
    expect(screenshot.statusCode, screenshot.body).toBe(201);
    const receipt = await upload(
      testApp,
      customer.accessToken,
      { purpose: 'support_attachment' },
      {
        body: tinyPdf(),
        filename: 'recu.pdf',
        contentType: 'application/pdf',
      },
    );
    expect(receipt.statusCode, receipt.body).toBe(201);
    const ids = [screenshot.json().id as string, receipt.json().id as string];
    const opened = await testApp.app.inject({
      method: 'POST',
      url: '/v1/support/tickets',
      headers: authHeader(customer.accessToken),
      payload: { category: 'payment', subject: 'Reçu', body: 'Voici le reçu.', attachments: ids },
    });
    expect(opened.statusCode, opened.body).toBe(201);
    expect(opened.json().messages[0].attachments).toEqual(ids);
    for (const id of ids) {
      for (const reader of [customer, agent]) {
        const read = await getFile(id, reader.accessToken);
        expect(read.statusCode, read.body).toBe(200);
        const bytes = await fetchBytes(testApp, read.json().renditions[0].url);
        expect(bytes.statusCode).toBe(200);
      }
      expect((await getFile(id, other.accessToken)).statusCode).toBe(404);
    }
  });

  it('another customer cannot attach someone else’s file: 422, no ticket', async () => {
    const mine = await upload(
      testApp,
      customer.accessToken,
      { purpose: 'support_attachment' },
      {
        body: await solidPng(20, 20),
        filename: 'a.png',
        contentType: 'image/png',
      },
    );
    expect(mine.statusCode).toBe(201);
    const before = await testApp.services.db.selectFrom('support_tickets').select('id').execute();
    const refused = await testApp.app.inject({
      method: 'POST',
      url: '/v1/support/tickets',
      headers: authHeader(other.accessToken),
      payload: { category: 'other', subject: 'x', body: 'y', attachments: [mine.json().id] },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('attachment_not_found');
    expect(await testApp.services.db.selectFrom('support_tickets').select('id').execute()).toHaveLength(
      before.length,
    );
  });

  it('a support attachment takes no subject field and refuses other types', async () => {
    const withField = await upload(
      testApp,
      customer.accessToken,
      { purpose: 'support_attachment', orderId: 'x' },
      {
        body: await solidPng(20, 20),
        contentType: 'image/png',
      },
    );
    expect(withField.statusCode).toBe(400);
    const text = await upload(
      testApp,
      customer.accessToken,
      { purpose: 'support_attachment' },
      {
        body: Buffer.from('just some text, not an image'),
        filename: 'a.txt',
        contentType: 'text/plain',
      },
    );
    expect(text.statusCode).toBe(422);
  });
});
