import { randomUUID } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PURPOSES } from '../../../src/modules/files/index.js';
import { ORPHAN_GRACE_MS } from '../../../src/modules/files/service.js';
import { createUser } from '../../helpers/auth.js';
import { orderWorld, type OrderWorld } from '../orders/helpers.js';
import { fetchBytes, holdings, noisyJpeg, solidPng, upload } from './helpers.js';

let world: OrderWorld;
beforeAll(async () => {
  world = await orderWorld();
}, 120_000);
afterAll(async () => {
  await world.testApp.close();
});

type Encoding = { url: string; width: number; height: number; byteSize: number };

async function menuItem(itemId: string) {
  const menu = await world.testApp.app.inject({
    method: 'GET',
    url: `/v1/restaurants/${world.restaurantId}/menu`,
  });
  expect(menu.statusCode).toBe(200);
  const items = (menu.json().categories as { items: { id: string }[] }[]).flatMap(
    (category) => category.items,
  );
  return {
    item: items.find((candidate) => candidate.id === itemId) as Record<string, unknown>,
    etag: menu.headers.etag,
  };
}

describe('menu photos', () => {
  it('an owner’s photo shows in the menu as small, medium and large renditions in WebP and JPEG', async () => {
    const { etag: before } = await menuItem(world.ndoleId);
    const photo = await noisyJpeg(2000, 1500);
    const uploaded = await upload(
      world.testApp,
      world.actors.owner.accessToken,
      { purpose: 'menu_item_photo', restaurantId: world.restaurantId, itemId: world.ndoleId },
      { body: photo },
    );
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    expect(uploaded.headers.location).toBe(`/v1/files/${uploaded.json().id}`);
    expect(uploaded.json()).toMatchObject({
      purpose: 'menu_item_photo',
      status: 'clean',
      contentType: 'image/jpeg',
      byteSize: photo.length,
    });

    const { item, etag } = await menuItem(world.ndoleId);
    expect(etag).not.toBe(before);
    const renditions = item.photo as Record<string, Record<string, Encoding>>;
    const expected = { small: [320, 240], medium: [640, 480], large: [1280, 960] } as const;
    for (const [size, [width, height]] of Object.entries(expected)) {
      for (const [format, sharpFormat] of [
        ['webp', 'webp'],
        ['jpeg', 'jpeg'],
      ] as const) {
        const encoding = renditions[size]![format]!;
        expect(encoding).toMatchObject({ width, height });
        const served = await fetchBytes(world.testApp, encoding.url);
        expect(served.statusCode).toBe(200);
        expect(served.headers['content-type']).toBe(`image/${format}`);
        expect(served.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(served.rawPayload.length).toBe(encoding.byteSize);
        const decoded = await sharp(served.rawPayload).metadata();
        expect(decoded).toMatchObject({ format: sharpFormat, width, height });
      }
    }
  });

  it('answers 304 to If-None-Match with the rendition’s ETag', async () => {
    const { item } = await menuItem(world.ndoleId);
    const url = (item.photo as Record<string, Record<string, Encoding>>).small!.webp!.url;
    const first = await fetchBytes(world.testApp, url);
    expect(first.headers.etag).toMatch(/^"[0-9a-f]{64}"$/);
    const again = await fetchBytes(world.testApp, url, { 'if-none-match': first.headers.etag as string });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
  });

  it('strips EXIF and GPS, and turns the image upright by its orientation first', async () => {
    const photo = await noisyJpeg(800, 600, {
      orientation: 6,
      exif: {
        IFD0: { Make: 'TestPhone', Model: 'Secret Model 9', Copyright: 'Mama Ngono' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '4/1 3/1 0/1',
          GPSLongitudeRef: 'E',
          GPSLongitude: '9/1 42/1 0/1',
        },
      },
    });
    const source = await sharp(photo).metadata();
    expect(source.exif).toBeDefined();
    expect(source.exif!.includes(Buffer.from('Secret Model 9'))).toBe(true);
    const uploaded = await upload(
      world.testApp,
      world.actors.owner.accessToken,
      { purpose: 'menu_item_photo', restaurantId: world.restaurantId, itemId: world.jusId },
      { body: photo },
    );
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    for (const rendition of uploaded.json().renditions as Encoding[]) {
      const served = await fetchBytes(world.testApp, rendition.url);
      const metadata = await sharp(served.rawPayload).metadata();
      expect(metadata.exif).toBeUndefined();
      expect(metadata.xmp).toBeUndefined();
      expect(metadata.orientation).toBeUndefined();
      expect(served.rawPayload.includes(Buffer.from('Secret Model 9'))).toBe(false);
      expect(served.rawPayload.includes(Buffer.from('TestPhone'))).toBe(false);
      // Orientation 6 is a quarter turn: the 800 x 600 sensor image is shown 600 wide, 800 high.
      expect(metadata.height!).toBeGreaterThan(metadata.width!);
    }
  });

  it('a re-upload replaces the photo in the menu and schedules the old file for deletion', async () => {
    const { item: before } = await menuItem(world.ndoleId);
    const oldUrl = (before.photo as Record<string, Record<string, Encoding>>).small!.jpeg!.url;
    const oldId = oldUrl.split('/')[3]!;
    const replaced = await upload(
      world.testApp,
      world.actors.owner.accessToken,
      { purpose: 'menu_item_photo', restaurantId: world.restaurantId, itemId: world.ndoleId },
      { body: await solidPng(500, 500), filename: 'new.png', contentType: 'image/png' },
    );
    expect(replaced.statusCode, replaced.body).toBe(201);
    const { item: after } = await menuItem(world.ndoleId);
    const small = (after.photo as Record<string, Record<string, Encoding>>).small!;
    expect(small.jpeg!.url).toContain(replaced.json().id);
    expect(small.webp).toMatchObject({ width: 320, height: 320 });
    const old = await world.testApp.services.db
      .selectFrom('files')
      .select(['delete_after', 'deleted_at'])
      .where('id', '=', oldId)
      .executeTakeFirstOrThrow();
    expect(old.deleted_at).toBeNull();
    expect(old.delete_after!.getTime()).toBeGreaterThan(Date.now());
    // Still served during the grace period (phones holding the older menu), gone after the sweep.
    expect((await fetchBytes(world.testApp, oldUrl)).statusCode).toBe(200);
    await world.testApp.services.db
      .updateTable('files')
      .set({ delete_after: new Date(Date.now() - 1000) })
      .where('id', '=', oldId)
      .execute();
    expect(await world.testApp.services.files.sweep()).toBeGreaterThanOrEqual(1);
    expect((await fetchBytes(world.testApp, oldUrl)).statusCode).toBe(404);
    const { keys } = await holdings(world.testApp);
    expect(keys.filter((key) => key.includes(oldId))).toEqual([]);
  });

  it('shows the logo and cover on the restaurant', async () => {
    for (const purpose of ['restaurant_logo', 'restaurant_cover']) {
      const uploaded = await upload(
        world.testApp,
        world.actors.owner.accessToken,
        { purpose, restaurantId: world.restaurantId },
        { body: await noisyJpeg(1600, 900) },
      );
      expect(uploaded.statusCode, uploaded.body).toBe(201);
    }
    const restaurant = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants/${world.restaurantId}`,
    });
    expect(restaurant.json().logo.large.webp).toMatchObject({ width: 1280, height: 720 });
    expect(restaurant.json().cover.small.jpeg).toMatchObject({ width: 320, height: 180 });
    expect(restaurant.json().cover.small.jpeg.url).toMatch(/^\/v1\/files\/[0-9a-f-]{36}\/small\.jpg$/);
  });

  it('refuses a photo for someone else’s restaurant, and stores nothing', async () => {
    const otherOwner = await createUser(world.testApp, { roles: ['customer', 'restaurant_owner'] });
    const before = await holdings(world.testApp);
    const refused = await upload(
      world.testApp,
      otherOwner.accessToken,
      { purpose: 'menu_item_photo', restaurantId: world.restaurantId, itemId: world.ndoleId },
      { body: await noisyJpeg(400, 300) },
    );
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('not_restaurant_owner');
    const driverTry = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'restaurant_logo', restaurantId: world.restaurantId },
      { body: await noisyJpeg(400, 300) },
    );
    expect(driverTry.statusCode).toBe(403);
    expect(await holdings(world.testApp)).toEqual(before);
  });

  it('audits every upload', async () => {
    const rows = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'actor_id', 'resource'])
      .where('action', '=', 'file.uploaded')
      .execute();
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(rows.every((row) => row.actor_id === world.actors.owner.userId)).toBe(true);
  });
});

describe('orphan sweep', () => {
  it('deletes old objects no live file names, keeps young ones and every live file’s', async () => {
    const { services } = world.testApp;
    const uploaded = await upload(
      world.testApp,
      world.actors.owner.accessToken,
      { purpose: 'restaurant_cover', restaurantId: world.restaurantId },
      { body: await noisyJpeg(400, 300) },
    );
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const liveId = uploaded.json().id as string;
    const sameSlice = (id: string) => `${liveId[0]}${id.slice(1)}`;
    const oldOrphan = `restaurant_cover/${sameSlice(randomUUID())}/small.webp`;
    const youngOrphan = `restaurant_cover/${sameSlice(randomUUID())}/small.webp`;
    for (const key of [oldOrphan, youngOrphan])
      await services.files.store.put(key, Buffer.from('left behind'), { contentType: 'image/webp' });
    // Age the old orphan and the live file's objects past the grace period.
    const objects = path.join(services.runtime.config.DATA_DIR, 'files', 'objects');
    const old = new Date(Date.now() - ORPHAN_GRACE_MS - 60_000);
    const liveKeys = (await holdings(world.testApp)).keys.filter((key) => key.includes(liveId));
    for (const key of [oldOrphan, ...liveKeys]) await utimes(path.join(objects, key), old, old);

    const slice = PURPOSES.indexOf('restaurant_cover') * 16 + Number.parseInt(liveId[0]!, 16);
    const swept = await services.files.sweepOrphans(slice);
    expect(swept).toMatchObject({ prefix: `restaurant_cover/${liveId[0]}`, deleted: 1 });
    const keys = (await holdings(world.testApp)).keys;
    expect(keys).not.toContain(oldOrphan);
    expect(keys).toContain(youngOrphan);
    expect(keys.filter((key) => key.includes(liveId))).toEqual(liveKeys);
  });
});
