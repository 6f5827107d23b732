import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../../helpers/auth.js';
import { noisyJpeg, solidPng, upload } from '../files/helpers.js';
import { act, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';

/**
 * A driver delivers with the customer's PIN and a delivery photo of the order they uploaded
 * (DISPATCH_DELIVERY_PHOTO_REQUIRED, on by default; the shared test environment turns it off for
 * the suites written before it, so it is turned back on here). A signature is optional, and
 * checked when sent. Every refusal is a 4xx problem and leaves the order PICKED_UP.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld({ DISPATCH_DELIVERY_PHOTO_REQUIRED: 'true' });
}, 120_000);
afterAll(async () => {
  await world?.testApp.close();
});

async function pickedUp() {
  const placed = await placeOrder(world, world.actors.customer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  const order = placed.json();
  const accepted = await act(world, order.id, 'accept', world.actors.owner.accessToken, {
    preparationMinutes: 10,
  });
  await act(world, order.id, 'prepare', world.actors.owner.accessToken);
  expect((await act(world, order.id, 'claim', world.driver.accessToken)).statusCode).toBe(200);
  await act(world, order.id, 'ready', world.actors.owner.accessToken);
  const picked = await act(world, order.id, 'pickup', world.driver.accessToken, {
    pickupCode: accepted.json().pickupCode,
  });
  expect(picked.statusCode, picked.body).toBe(200);
  return { orderId: order.id as string, deliveryPin: order.deliveryPin as string };
}

const statusOf = async (orderId: string) =>
  (await world.testApp.services.orders.orders.load(orderId)).state.status;

async function photoOf(orderId: string, token = world.driver.accessToken) {
  const photo = await upload(
    world.testApp,
    token,
    { purpose: 'delivery_photo', orderId },
    { body: await noisyJpeg(400, 300) },
  );
  expect(photo.statusCode, photo.body).toBe(201);
  return photo.json().id as string;
}

describe('a delivery needs its photo', () => {
  it('refuses a delivery without a valid photo (or with a bad signature), then delivers with both', async () => {
    const { orderId, deliveryPin } = await pickedUp();
    const other = await pickedUp();
    const photo = await photoOf(orderId);
    const otherOrdersPhoto = await photoOf(other.orderId);
    const signature = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'delivery_signature', orderId },
      { filename: 'signature.png', contentType: 'image/png', body: await solidPng(300, 120) },
    );
    expect(signature.statusCode, signature.body).toBe(201);
    const document = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'driver_document', documentKind: 'photo' },
      { body: await noisyJpeg(100, 100) },
    );
    expect(document.statusCode, document.body).toBe(201);

    const refusals: [string, Record<string, unknown>, number, string][] = [
      // No photo at all: the PIN alone no longer delivers.
      [world.driver.accessToken, { deliveryPin }, 422, 'delivery_photo_required'],
      // Files that are not this order's delivery photo.
      [
        world.driver.accessToken,
        { deliveryPin, photoFileId: document.json().id },
        422,
        'delivery_proof_invalid',
      ],
      [
        world.driver.accessToken,
        { deliveryPin, photoFileId: otherOrdersPhoto },
        422,
        'delivery_proof_invalid',
      ],
      [
        world.driver.accessToken,
        { deliveryPin, photoFileId: crypto.randomUUID() },
        422,
        'delivery_proof_invalid',
      ],
      // The signature, when sent, must be this order's signature (a photo is not one).
      [
        world.driver.accessToken,
        { deliveryPin, photoFileId: photo, signatureFileId: photo },
        422,
        'delivery_proof_invalid',
      ],
      // Bad input: the schema refuses it before anything is looked up.
      [world.driver.accessToken, { deliveryPin, photoFileId: null }, 400, 'validation_failed'],
      [world.driver.accessToken, { deliveryPin, photoFileId: 42 }, 400, 'validation_failed'],
      [world.driver.accessToken, { deliveryPin, photoFileId: `${photo}\u0000` }, 400, 'invalid_characters'],
      [world.driver.accessToken, { deliveryPin, photoFileId: 'x'.repeat(100_000) }, 400, 'validation_failed'],
      [world.driver.accessToken, { deliveryPin, photoFileId: photo, extra: 1 }, 400, 'validation_failed'],
      // A good photo does not stand in for the PIN (the order's own rule, unchanged).
      [
        world.driver.accessToken,
        { deliveryPin: deliveryPin === '0000' ? '1111' : '0000', photoFileId: photo },
        422,
        '',
      ],
      // Not the order's driver (an order that is not theirs is not shown), not a driver at all.
      [world.otherDriver.accessToken, { deliveryPin, photoFileId: photo }, 404, 'order_not_found'],
      [world.actors.customer.accessToken, { deliveryPin, photoFileId: photo }, 403, ''],
    ];
    for (const [token, payload, status, code] of refusals) {
      const refused = await act(world, orderId, 'deliver', token, payload);
      expect(
        refused.statusCode,
        `${JSON.stringify(payload).slice(0, 120)}: ${refused.body.slice(0, 300)}`,
      ).toBe(status);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      if (code !== '') expect(refused.json().code).toBe(code);
      if (code === 'delivery_proof_invalid')
        expect(refused.json().field ?? refused.json().details?.field).toMatch(/^(photo|signature)FileId$/);
    }
    expect(await statusOf(orderId)).toBe('PICKED_UP');

    // With the PIN, the photo and the signature: delivered; the same request again (a retry with
    // its Idempotency-Key) answers the same and delivers nothing twice.
    const headers = { ...authHeader(world.driver.accessToken), 'idempotency-key': crypto.randomUUID() };
    const payload = { deliveryPin, photoFileId: photo, signatureFileId: signature.json().id };
    const delivered = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/orders/${orderId}/deliver`,
      headers,
      payload,
    });
    expect(delivered.statusCode, delivered.body).toBe(200);
    expect(delivered.json().status).toBe('DELIVERED');
    const retried = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/orders/${orderId}/deliver`,
      headers,
      payload,
    });
    expect(retried.statusCode).toBe(200);
    expect(retried.json().status).toBe('DELIVERED');
    const events = await world.testApp.services.eventStore.readStream(`order-${orderId}`);
    expect(events.filter((event) => event.type === 'OrderDelivered')).toHaveLength(1);

    // The other order delivers with its own photo and no signature (the signature is optional).
    const own = await act(world, other.orderId, 'deliver', world.driver.accessToken, {
      deliveryPin: other.deliveryPin,
      photoFileId: otherOrdersPhoto,
    });
    expect(own.statusCode, own.body).toBe(200);
  });
});
