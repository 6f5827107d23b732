import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../../helpers/auth.js';
import { noisyJpeg, upload } from '../files/helpers.js';
import { act, NEAR, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';

/**
 * A failed delivery needs its reason, a delivery photo of the order uploaded by its driver and the
 * driver's position; the proof is kept by dispatch and the order moves to DELIVERY_FAILED. Every
 * refusal leaves the order PICKED_UP and stores no proof.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
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
  expect(
    (
      await act(world, order.id, 'pickup', world.driver.accessToken, {
        pickupCode: accepted.json().pickupCode,
      })
    ).statusCode,
  ).toBe(200);
  return order.id as string;
}

const statusOf = async (orderId: string) =>
  (await world.testApp.services.orders.orders.load(orderId)).state.status;
const proofRows = (orderId: string) =>
  world.testApp.services.db
    .selectFrom('driver_delivery_failures')
    .selectAll()
    .where('order_id', '=', orderId)
    .execute();

describe('failed delivery with proof', () => {
  it('refuses a report without a valid photo or position, then records one with both', async () => {
    const orderId = await pickedUp();
    const photo = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'delivery_photo', orderId },
      { body: await noisyJpeg(400, 300) },
    );
    expect(photo.statusCode, photo.body).toBe(201);
    const notAPhoto = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'driver_document', documentKind: 'photo' },
      { body: await noisyJpeg(100, 100) },
    );
    const body = {
      reason: 'customer_absent',
      photoFileId: photo.json().id,
      latitude: NEAR.latitude,
      longitude: NEAR.longitude,
      accuracyMeters: 15,
      recordedAt: new Date().toISOString(),
    };
    const url = `/v1/drivers/me/orders/${orderId}/delivery-failed`;
    const post = (token: string, payload: object) =>
      world.testApp.app.inject({ method: 'POST', url, headers: authHeader(token), payload });

    const refusals: [string, object, number, string][] = [
      [
        world.driver.accessToken,
        { ...body, photoFileId: notAPhoto.json().id },
        422,
        'delivery_photo_required',
      ],
      [
        world.driver.accessToken,
        { ...body, photoFileId: crypto.randomUUID() },
        422,
        'delivery_photo_required',
      ],
      [world.driver.accessToken, { ...body, accuracyMeters: 900 }, 400, 'location_invalid'],
      [
        world.driver.accessToken,
        { ...body, recordedAt: new Date(Date.now() - 3_600_000).toISOString() },
        400,
        'location_too_old',
      ],
      [world.driver.accessToken, { ...body, reason: 'tired' }, 400, 'validation_failed'],
      [world.driver.accessToken, { ...body, latitude: null }, 400, 'validation_failed'],
      [world.driver.accessToken, { ...body, note: 'a\u0000' }, 400, 'invalid_characters'],
      // Another driver, even with this photo's id: not theirs.
      [world.otherDriver.accessToken, body, 422, 'delivery_photo_required'],
      [world.actors.customer.accessToken, body, 403, 'permission_denied'],
    ];
    for (const [token, payload, status, code] of refusals) {
      const refused = await post(token, payload);
      expect(refused.statusCode, refused.body).toBe(status);
      expect(refused.json().code).toBe(code);
    }
    // The driver can no longer fail it without proof on orders' own route (staff only).
    const bare = await act(world, orderId, 'delivery-failed', world.driver.accessToken, { reason: 'absent' });
    expect(bare.statusCode).toBe(403);
    expect(await statusOf(orderId)).toBe('PICKED_UP');
    expect(await proofRows(orderId)).toEqual([]);

    const failed = await post(world.driver.accessToken, body);
    expect(failed.statusCode, failed.body).toBe(200);
    expect(failed.json()).toMatchObject({
      orderId,
      reason: 'customer_absent',
      photoFileId: photo.json().id,
      position: { latitude: NEAR.latitude, longitude: NEAR.longitude, accuracyMeters: 15 },
    });
    expect(await statusOf(orderId)).toBe('DELIVERY_FAILED');
    // A second report is refused by the order (no longer PICKED_UP) and keeps the first proof.
    const again = await post(world.driver.accessToken, { ...body, reason: 'unsafe' });
    expect(again.statusCode).toBe(409);
    expect((await proofRows(orderId)).map((row) => row.reason)).toEqual(['customer_absent']);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const performance = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/drivers/me/performance?from=${from}&to=${to}`,
      headers: authHeader(world.driver.accessToken),
    });
    expect(performance.json()).toMatchObject({ deliveries: 0, failedDeliveries: 1, successRate: 0 });
  });
});
