/**
 * Uploads through a real clamd (CLAMD_URL), with a signature this file makes: a clean photo is
 * stored `clean` and scanned; a photo carrying the signature is 422 `file_infected`, audited,
 * and nothing is stored; a clamd that does not answer makes uploads 503 and stores nothing.
 * Skipped, visibly, where clamd is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findClamdTools, startClamd, type RunningClamd } from '../../helpers/clamd.js';
import { orderWorld, type OrderWorld } from '../orders/helpers.js';
import { holdings, noisyJpeg, upload } from './helpers.js';

const found = findClamdTools();
if ('missing' in found) console.warn(`scanning.test.ts: uploads through clamd are SKIPPED: ${found.missing}`);

const MALWARE = Buffer.from(
  'fd-files-upload-test:5e1c this comment is what the test calls malware',
  'latin1',
);

describe.skipIf('missing' in found)('uploads scanned by clamd', () => {
  let clamd: RunningClamd;
  let world: OrderWorld;
  const menuPhoto = () => ({
    purpose: 'menu_item_photo',
    restaurantId: world.restaurantId,
    itemId: world.ndoleId,
  });

  beforeAll(async () => {
    if (!('tools' in found)) return;
    clamd = await startClamd(found.tools, {
      signatures: { body: [{ name: 'Test.Upload.Body', bytes: MALWARE }] },
      streamMaxLengthBytes: 25 * 1024 * 1024,
    });
    world = await orderWorld({ CLAMD_URL: `tcp://${clamd.host}:${clamd.port}`, CLAMD_TIMEOUT_MS: '1500' });
  }, 120_000);
  afterAll(async () => {
    await world?.testApp.close();
    await clamd?.stop();
  });

  it('stores a clean photo as scanned, and reports the scanner in readiness', async () => {
    const uploaded = await upload(world.testApp, world.actors.owner.accessToken, menuPhoto(), {
      body: await noisyJpeg(640, 480),
    });
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const row = await world.testApp.services.files.repository.find(uploaded.json().id);
    expect(row).toMatchObject({ status: 'clean', scanned_by: 'clamd' });
    const ready = await world.testApp.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.json().checks).toEqual(
      expect.arrayContaining([{ name: 'virus scanner (clamd)', ok: true }]),
    );
  });

  it('refuses a photo carrying the signature (in a JPEG comment), audits it, stores nothing', async () => {
    const photo = await noisyJpeg(640, 480);
    // A COM segment right after SOI: still a valid JPEG, so only the scanner can object.
    const comment = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.alloc(2), MALWARE]);
    comment.writeUInt16BE(MALWARE.length + 2, 2);
    const infected = Buffer.concat([photo.subarray(0, 2), comment, photo.subarray(2)]);
    const before = await holdings(world.testApp);
    const refused = await upload(world.testApp, world.actors.owner.accessToken, menuPhoto(), {
      body: infected,
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('file_infected');
    expect(refused.body).not.toContain('Test.Upload.Body');
    expect(await holdings(world.testApp)).toEqual(before);
    const audit = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select(['new_value', 'actor_id'])
      .where('action', '=', 'file.refused_infected')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_id).toBe(world.actors.owner.userId);
    expect(JSON.stringify(audit[0]!.new_value)).toContain('Test.Upload.Body');
  });

  it('answers 503 with Retry-After while clamd does not answer, and stores nothing', async () => {
    const before = await holdings(world.testApp);
    clamd.freeze();
    try {
      const refused = await upload(world.testApp, world.actors.owner.accessToken, menuPhoto(), {
        body: await noisyJpeg(320, 240),
      });
      expect(refused.statusCode).toBe(503);
      expect(refused.json().code).toBe('service_unavailable');
      expect(refused.headers['retry-after']).toBe('30');
    } finally {
      clamd.thaw();
    }
    expect(await holdings(world.testApp)).toEqual(before);
  });
});
