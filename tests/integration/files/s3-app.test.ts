/**
 * The files context with FILES_STORE=s3 (docs/files-s3.md): the app as production would run it
 * against S3-compatible storage, here the S3-protocol test server. A driver's document goes into
 * the bucket, its signed URL is S3's presigned GET (not the API's blob route), it reads the bytes
 * for the driver and is refused once tampered with; the readiness check names the S3 store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../../helpers/auth.js';
import { startS3Server, type S3TestServer } from '../../helpers/s3-server.js';
import { orderWorld, type OrderWorld } from '../orders/helpers.js';
import { tinyPdf, upload } from './helpers.js';

let s3: S3TestServer;
let world: OrderWorld;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['files-app'] });
  world = await orderWorld({
    FILES_STORE: 's3',
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: s3.region,
    S3_BUCKET: 'files-app',
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
  });
}, 120_000);
afterAll(async () => {
  await world?.testApp.close();
  await s3?.stop();
});

describe('files on S3-compatible storage', () => {
  it('stores a driver document in the bucket and reads it back through a presigned URL', async () => {
    const licence = tinyPdf();
    const uploaded = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'driver_document', documentKind: 'licence' },
      { body: licence, filename: 'permis.pdf', contentType: 'application/pdf' },
    );
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const read = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/files/${uploaded.json().id}`,
      headers: authHeader(world.driver.accessToken),
    });
    expect(read.statusCode, read.body).toBe(200);
    const url = read.json().renditions[0].url as string;
    expect(url.startsWith(`${s3.endpoint}/files-app/`)).toBe(true);
    expect(url).toContain('X-Amz-Signature=');
    const fetched = await fetch(url);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(licence)).toBe(true);
    const tampered = await fetch(
      url.replace(
        /X-Amz-Signature=([0-9a-f])/,
        (_all, first: string) => `X-Amz-Signature=${first === '0' ? '1' : '0'}`,
      ),
    );
    expect(tampered.status).toBe(403);
    await tampered.body?.cancel();
    // The API's own blob route is not registered: S3 serves the bytes.
    const blob = await world.testApp.app.inject({ method: 'GET', url: '/v1/files/blobs/a/b/c' });
    expect(blob.statusCode).toBe(404);
  });

  it('says in readiness that the S3 store answers', async () => {
    const ready = await world.testApp.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.body).toContain('file store (s3)');
  });
});
