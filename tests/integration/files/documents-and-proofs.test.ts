import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { act, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { fetchBytes, holdings, noisyJpeg, solidPng, tinyPdf, upload } from './helpers.js';

let world: OrderWorld;
let admin: CreatedUser;
beforeAll(async () => {
  world = await orderWorld();
  admin = world.actors.admin;
}, 120_000);
afterAll(async () => {
  await world.testApp.close();
});

async function getFile(id: string, token?: string) {
  return world.testApp.app.inject({
    method: 'GET',
    url: `/v1/files/${id}`,
    headers: token === undefined ? {} : authHeader(token),
  });
}

describe('driver documents', () => {
  let documentId: string;
  const licence = tinyPdf();

  it('a driver uploads a PDF licence; it is stored as is, privately', async () => {
    const uploaded = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'driver_document', documentKind: 'licence' },
      { body: licence, filename: 'permis.pdf', contentType: 'application/pdf' },
    );
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    documentId = uploaded.json().id;
    expect(uploaded.json()).toMatchObject({
      purpose: 'driver_document',
      documentKind: 'licence',
      contentType: 'application/pdf',
    });
    expect(uploaded.json().renditions).toEqual([
      expect.objectContaining({ name: 'original', format: 'pdf', byteSize: licence.length }),
    ]);
    // No public route serves it.
    expect((await fetchBytes(world.testApp, `/v1/files/${documentId}/small.jpg`)).statusCode).toBe(404);
  });

  it('is readable by that driver and admins through a signed URL; others get 404', async () => {
    for (const reader of [world.driver, admin]) {
      const read = await getFile(documentId, reader.accessToken);
      expect(read.statusCode, read.body).toBe(200);
      expect(read.headers['cache-control']).toBe('private, no-store');
      const url = read.json().renditions[0].url as string;
      expect(url).toMatch(/\/v1\/files\/blobs\/driver_document\/.+\?expires=\d+&name=.+&sig=/);
      const bytes = await fetchBytes(world.testApp, url);
      expect(bytes.statusCode).toBe(200);
      expect(bytes.headers['content-type']).toBe('application/pdf');
      expect(bytes.headers['content-disposition']).toMatch(/^attachment;/);
      expect(bytes.rawPayload).toEqual(licence);
    }
    for (const other of [world.otherDriver, world.actors.customer, world.actors.owner, world.support]) {
      const read = await getFile(documentId, other.accessToken);
      expect(read.statusCode).toBe(404);
      expect(read.json().code).toBe('file_not_found');
    }
    expect((await getFile(documentId)).statusCode).toBe(404);
  });

  it('refuses a signed URL that was altered or has expired (403)', async () => {
    const url = (await getFile(documentId, world.driver.accessToken)).json().renditions[0].url as string;
    const later = url.replace(
      /expires=(\d+)/,
      (_match, expires: string) => `expires=${Number(expires) + 3600}`,
    );
    const altered = await fetchBytes(world.testApp, later);
    expect(altered.statusCode).toBe(403);
    expect(altered.json().code).toBe('signed_url_invalid');
    const row = await world.testApp.services.files.repository.find(documentId);
    const short = await world.testApp.services.files.store.signedUrl(row!.renditions[0]!.key, {
      expiresInSeconds: 1,
    });
    expect((await fetchBytes(world.testApp, short)).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const expired = await fetchBytes(world.testApp, short);
    expect(expired.statusCode).toBe(403);
    expect(expired.json().code).toBe('signed_url_expired');
  });

  it('re-encodes a photographed document as one JPEG; refuses documents from those who neither drive nor may apply', async () => {
    const photographed = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'driver_document', documentKind: 'insurance' },
      { body: await noisyJpeg(3000, 2000) },
    );
    expect(photographed.statusCode, photographed.body).toBe(201);
    expect(photographed.json().renditions).toEqual([
      expect.objectContaining({ name: 'original', format: 'jpeg', width: 2560, height: 1707 }),
    ]);
    // Customers may upload theirs to apply to drive (dispatch onboarding); support staff may not.
    const customer = await upload(
      world.testApp,
      world.support.accessToken,
      { purpose: 'driver_document', documentKind: 'identity' },
      { body: licence, contentType: 'application/pdf' },
    );
    expect(customer.statusCode).toBe(403);
  });

  it('audits uploads and reads of private documents, and deletion removes the bytes', async () => {
    const audit = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'actor_id'])
      .where('resource', '=', `file:${documentId}`)
      .execute();
    expect(audit.filter((row) => row.action === 'file.uploaded')).toHaveLength(1);
    expect(audit.filter((row) => row.action === 'file.read').map((row) => row.actor_id)).toEqual(
      expect.arrayContaining([world.driver.userId, admin.userId]),
    );
    const keysBefore = (await holdings(world.testApp)).keys.filter((key) => key.includes(documentId));
    expect(keysBefore).toHaveLength(1);
    const stranger = await world.testApp.app.inject({
      method: 'DELETE',
      url: `/v1/files/${documentId}`,
      headers: authHeader(world.otherDriver.accessToken),
    });
    expect(stranger.statusCode).toBe(404);
    const deleted = await world.testApp.app.inject({
      method: 'DELETE',
      url: `/v1/files/${documentId}`,
      headers: authHeader(world.driver.accessToken),
    });
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect((await getFile(documentId, world.driver.accessToken)).statusCode).toBe(404);
    expect((await holdings(world.testApp)).keys.filter((key) => key.includes(documentId))).toEqual([]);
    const deletions = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select('actor_id')
      .where('resource', '=', `file:${documentId}`)
      .where('action', '=', 'file.deleted')
      .execute();
    expect(deletions).toEqual([{ actor_id: world.driver.userId }]);
  });
});

describe('order proofs', () => {
  let orderId: string;
  let deliveryPin: string;

  beforeAll(async () => {
    const placed = await placeOrder(world, world.actors.customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    orderId = placed.json().id;
    deliveryPin = placed.json().deliveryPin;
  });

  it('the restaurant attaches a packed-order photo while it has the order; others cannot', async () => {
    const early = await upload(
      world.testApp,
      world.actors.owner.accessToken,
      { purpose: 'order_packed_photo', orderId },
      { body: await noisyJpeg(640, 480) },
    );
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('order_state_refuses_file');
    const accepted = await act(world, orderId, 'accept', world.actors.owner.accessToken, {
      preparationMinutes: 10,
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
    const packed = await upload(
      world.testApp,
      world.actors.owner.accessToken,
      { purpose: 'order_packed_photo', orderId },
      { body: await noisyJpeg(640, 480) },
    );
    expect(packed.statusCode, packed.body).toBe(201);
    const otherOwner = await createUser(world.testApp, { roles: ['customer', 'restaurant_owner'] });
    const before = await holdings(world.testApp);
    const refused = await upload(
      world.testApp,
      otherOwner.accessToken,
      { purpose: 'order_packed_photo', orderId },
      { body: await noisyJpeg(640, 480) },
    );
    expect(refused.statusCode).toBe(404);
    expect(refused.json().code).toBe('order_not_found');
    expect(await holdings(world.testApp)).toEqual(before);
    const pickupCode = accepted.json().pickupCode as string;
    await act(world, orderId, 'prepare', world.actors.owner.accessToken);
    expect((await act(world, orderId, 'claim', world.driver.accessToken)).statusCode).toBe(200);
    await act(world, orderId, 'ready', world.actors.owner.accessToken);
    expect(
      (await act(world, orderId, 'pickup', world.driver.accessToken, { pickupCode })).json().status,
    ).toBe('PICKED_UP');
  });

  it('the driver of the order attaches a delivery photo and a PNG signature, kept for the dispute window and retention', async () => {
    const photo = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'delivery_photo', orderId },
      { body: await noisyJpeg(1200, 900) },
    );
    expect(photo.statusCode, photo.body).toBe(201);
    const signature = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'delivery_signature', orderId },
      { body: await solidPng(400, 200), filename: 'signature.png', contentType: 'image/png' },
    );
    expect(signature.statusCode, signature.body).toBe(201);
    expect(signature.json().renditions).toEqual([
      expect.objectContaining({ name: 'original', format: 'png', width: 400, height: 200 }),
    ]);
    const jpegSignature = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'delivery_signature', orderId },
      { body: await noisyJpeg(400, 200) },
    );
    expect(jpegSignature.statusCode).toBe(422);
    expect(jpegSignature.json().code).toBe('file_type_not_allowed');
    const otherDriver = await upload(
      world.testApp,
      world.otherDriver.accessToken,
      { purpose: 'delivery_photo', orderId },
      { body: await noisyJpeg(300, 300) },
    );
    expect(otherDriver.statusCode).toBe(404);
    const row = await world.testApp.services.files.repository.find(photo.json().id);
    const config = world.testApp.services.runtime.config;
    const retentionMs =
      (config.ORDER_DISPUTE_WINDOW_MINUTES + config.FILES_PROOF_RETENTION_DAYS * 1_440) * 60_000;
    expect(Math.abs(row!.delete_after!.getTime() - (Date.now() + retentionMs))).toBeLessThan(60_000);
    expect((await act(world, orderId, 'deliver', world.driver.accessToken, { deliveryPin })).statusCode).toBe(
      200,
    );
  });

  it('proofs are visible to the customer, the driver, the restaurant, support and admins; not to others', async () => {
    const proofs = await world.testApp.services.db
      .selectFrom('files')
      .select(['id', 'purpose'])
      .where('order_id', '=', orderId)
      .where('deleted_at', 'is', null)
      .execute();
    expect(proofs.map((proof) => proof.purpose).sort()).toEqual([
      'delivery_photo',
      'delivery_signature',
      'order_packed_photo',
    ]);
    const stranger = await createUser(world.testApp, { roles: ['customer'] });
    for (const proof of proofs) {
      for (const reader of [world.actors.customer, world.driver, world.actors.owner, world.support, admin]) {
        const read = await getFile(proof.id, reader.accessToken);
        expect(read.statusCode, `${proof.purpose} for ${reader.roles.join()}`).toBe(200);
        const bytes = await fetchBytes(world.testApp, read.json().renditions[0].url);
        expect(bytes.statusCode).toBe(200);
      }
      for (const other of [stranger, world.otherDriver])
        expect((await getFile(proof.id, other.accessToken)).statusCode).toBe(404);
    }
  });
});

describe('personal data', () => {
  it('exports a driver’s documents and erases them with the account (bytes gone, idempotent)', async () => {
    const uploaded = await upload(
      world.testApp,
      world.otherDriver.accessToken,
      { purpose: 'driver_document', documentKind: 'vehicle_registration' },
      { body: tinyPdf(), contentType: 'application/pdf' },
    );
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const hook = world.testApp.services.platform.personalData.get('files')!;
    const contacts = { phone: world.otherDriver.phone, email: null };
    expect(await hook.export!(world.otherDriver.userId, contacts)).toMatchObject({
      files: [{ id: uploaded.json().id, purpose: 'driver_document', documentKind: 'vehicle_registration' }],
    });
    expect(await hook.erase(world.otherDriver.userId, contacts)).toEqual({ filesDeleted: 1 });
    expect(await hook.erase(world.otherDriver.userId, contacts)).toEqual({ filesDeleted: 0 });
    expect((await holdings(world.testApp)).keys.filter((key) => key.includes(uploaded.json().id))).toEqual(
      [],
    );
    expect((await getFile(uploaded.json().id, admin.accessToken)).statusCode).toBe(404);
  });
});
