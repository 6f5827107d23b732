/**
 * Every bad upload gets a clear 4xx problem and changes nothing: no row in `files`, no key in
 * the store (both compared before and after each refusal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEIC_DECODABLE } from '../../../src/modules/files/images.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { orderWorld, type OrderWorld } from '../orders/helpers.js';
import { holdings, multipart, noisyJpeg, pngBomb, tinyPdf, upload, type FilePart } from './helpers.js';

const IMAGE_LIMIT_BYTES = 300_000;
let world: OrderWorld;
let photo: Buffer;
beforeAll(async () => {
  world = await orderWorld({ FILES_MAX_IMAGE_BYTES: String(IMAGE_LIMIT_BYTES) });
  photo = await noisyJpeg(320, 240);
}, 120_000);
afterAll(async () => {
  await world.testApp.close();
});

function menuPhoto(): Record<string, string> {
  return { purpose: 'menu_item_photo', restaurantId: world.restaurantId, itemId: world.ndoleId };
}

/** Sends the upload and checks the refusal: status, code, problem+json, and nothing stored. */
async function refused(
  status: number,
  code: string,
  fields: Record<string, string> | [string, string][],
  files: FilePart | FilePart[],
  token = world.actors.owner.accessToken,
) {
  const before = await holdings(world.testApp);
  const response = await upload(world.testApp, token, fields, files);
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json().code).toBe(code);
  expect(await holdings(world.testApp)).toEqual(before);
  return response.json();
}

describe('bad uploads are refused and store nothing', () => {
  it('wrong magic bytes under an image name and type', async () => {
    await refused(422, 'file_type_unknown', menuPhoto(), {
      body: Buffer.from('this is plain text pretending to be a photo\n'.repeat(20)),
      filename: 'ndole.jpg',
      contentType: 'image/jpeg',
    });
    const problem = await refused(422, 'file_type_not_allowed', menuPhoto(), {
      body: tinyPdf(),
      filename: 'ndole.jpg',
      contentType: 'image/jpeg',
    });
    expect(problem.detected).toBe('application/pdf');
  });

  it('polyglots: a JPEG with a PDF or HTML appended; a PDF that is also HTML; a PDF behind a JPEG header', async () => {
    const withPdf = await refused(422, 'file_polyglot', menuPhoto(), {
      body: Buffer.concat([photo, tinyPdf()]),
    });
    expect(withPdf.found).toBe('%pdf-');
    await refused(422, 'file_polyglot', menuPhoto(), {
      body: Buffer.concat([photo, Buffer.from('<html><script>alert(1)</script></html>')]),
    });
    const document = { purpose: 'driver_document', documentKind: 'licence' };
    const driver = world.driver.accessToken;
    await refused(
      422,
      'file_polyglot',
      document,
      {
        body: Buffer.from(
          `%PDF-1.4\n<html><body><script>alert(1)</script></body></html>\n${tinyPdf().toString('latin1').slice(9)}`,
          'latin1',
        ),
        contentType: 'application/pdf',
      },
      driver,
    );
    // JPEG magic bytes in front of a PDF: it is judged a JPEG, and does not decode as one.
    const disguised = await refused(
      422,
      'image_undecodable',
      document,
      { body: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), tinyPdf()]) },
      driver,
    );
    expect(disguised.reason).toEqual(expect.any(String));
    await refused(
      422,
      'pdf_active_content',
      document,
      {
        body: tinyPdf('4 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\n'),
        contentType: 'application/pdf',
      },
      driver,
    );
    await refused(
      422,
      'pdf_invalid',
      document,
      { body: tinyPdf().subarray(0, 120), contentType: 'application/pdf' },
      driver,
    );
  });

  it('HEIC where this sharp cannot decode it: refused by its type, naming the accepted ones', async () => {
    // An ISO-BMFF `ftyp` box of brand `heic`: what file-type reads as image/heic.
    const ftyp = Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from('ftypheic', 'latin1'),
      Buffer.from([0, 0, 0, 0]),
      Buffer.from('mif1heic', 'latin1'),
    ]);
    const heic = Buffer.concat([ftyp, Buffer.alloc(2_000, 7)]);
    if (HEIC_DECODABLE) {
      await refused(422, 'image_undecodable', menuPhoto(), { body: heic, filename: 'IMG_0001.HEIC' });
    } else {
      const problem = await refused(422, 'file_type_not_allowed', menuPhoto(), {
        body: heic,
        filename: 'IMG_0001.HEIC',
      });
      expect(problem).toMatchObject({
        detected: 'image/heic',
        allowed: ['image/jpeg', 'image/png', 'image/webp'],
      });
    }
  });

  it('an empty file, an oversize file', async () => {
    await refused(400, 'file_empty', menuPhoto(), { body: Buffer.alloc(0) });
    const big = await noisyJpeg(1200, 900, { quality: 95 });
    expect(big.length).toBeGreaterThan(IMAGE_LIMIT_BYTES);
    const problem = await refused(413, 'file_too_large', menuPhoto(), { body: big });
    expect(problem.maxBytes).toBe(IMAGE_LIMIT_BYTES);
  });

  it('a decompression bomb: a tiny PNG claiming 50,000 x 50,000 pixels', async () => {
    const bomb = pngBomb(50_000, 50_000);
    expect(bomb.length).toBeLessThan(1_000);
    const problem = await refused(422, 'image_too_many_pixels', menuPhoto(), {
      body: bomb,
      filename: 'bomb.png',
      contentType: 'image/png',
    });
    expect(problem).toMatchObject({ width: 50_000, height: 50_000, maxPixels: 40_000_000 });
  });

  it('a truncated JPEG', async () => {
    const whole = await noisyJpeg(800, 600);
    const problem = await refused(422, 'image_undecodable', menuPhoto(), {
      body: whole.subarray(0, Math.floor(whole.length * 0.6)),
    });
    expect(problem.reason).toMatch(/premature end|truncated/i);
  });

  it('too many files, a missing file part, a missing or unknown purpose, missing or bad fields', async () => {
    await refused(400, 'too_many_files', menuPhoto(), [{ body: photo }, { body: photo }]);
    await refused(400, 'file_missing', menuPhoto(), []);
    await refused(400, 'purpose_missing', { restaurantId: world.restaurantId }, { body: photo });
    await refused(400, 'purpose_invalid', { purpose: 'avatar' }, { body: photo });
    await refused(
      400,
      'field_missing',
      { purpose: 'menu_item_photo', restaurantId: world.restaurantId },
      { body: photo },
    );
    await refused(400, 'field_invalid', { ...menuPhoto(), itemId: '../../etc/passwd' }, { body: photo });
    await refused(
      400,
      'field_unknown',
      { ...menuPhoto(), key: 'menu_item_photo/x/small.webp' },
      { body: photo },
    );
    await refused(400, 'field_unknown', menuPhoto(), { body: photo, field: 'photo' });
    await refused(400, 'field_repeated', [...Object.entries(menuPhoto()), ['purpose', 'restaurant_logo']], {
      body: photo,
    });
  });

  it('NUL bytes in a field', async () => {
    await refused(
      400,
      'invalid_characters',
      { ...menuPhoto(), purpose: 'menu_item_photo\u0000' },
      { body: photo },
    );
  });

  it('an upload for someone else’s restaurant item or order', async () => {
    await refused(
      404,
      'menu_item_not_found',
      { ...menuPhoto(), itemId: '00000000-0000-4000-8000-000000000000' },
      { body: photo },
    );
    await refused(
      404,
      'order_not_found',
      { purpose: 'delivery_photo', orderId: '00000000-0000-4000-8000-000000000000' },
      { body: photo },
      world.driver.accessToken,
    );
    const otherOwner = await createUser(world.testApp, { roles: ['customer', 'restaurant_owner'] });
    await refused(403, 'not_restaurant_owner', menuPhoto(), { body: photo }, otherOwner.accessToken);
    // A customer passes the door (they may upload driver documents to apply to drive) and is
    // refused by the service: the restaurant is not theirs.
    await refused(
      403,
      'not_restaurant_owner',
      menuPhoto(),
      { body: photo },
      world.actors.customer.accessToken,
    );
  });

  it('a body that is not multipart, and a malformed multipart body', async () => {
    const json = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/files',
      headers: authHeader(world.actors.owner.accessToken),
      payload: menuPhoto(),
    });
    expect(json.statusCode).toBe(415);
    expect(json.json().code).toBe('multipart_required');
    const { payload, contentType } = multipart(Object.entries(menuPhoto()), [{ body: photo }]);
    const cut = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/files',
      headers: { ...authHeader(world.actors.owner.accessToken), 'content-type': contentType },
      payload: payload.subarray(0, payload.length - 200),
    });
    expect(cut.statusCode).toBe(400);
    expect(cut.json().code).toBe('multipart_malformed');
  });

  it('ignores the name: a path traversal in the file name still lands under the file’s own key', async () => {
    const before = await holdings(world.testApp);
    const response = await upload(world.testApp, world.actors.owner.accessToken, menuPhoto(), {
      body: photo,
      filename: '../../../../etc/passwd.jpg',
    });
    expect(response.statusCode, response.body).toBe(201);
    const id = response.json().id as string;
    const after = await holdings(world.testApp);
    expect(after.rows).toBe(before.rows + 1);
    const added = after.keys.filter((key) => !before.keys.includes(key));
    expect(added.sort()).toEqual(
      ['small', 'medium', 'large']
        .flatMap((size) => [`menu_item_photo/${id}/${size}.jpg`, `menu_item_photo/${id}/${size}.webp`])
        .sort(),
    );
  });
});

describe('Idempotency-Key on uploads', () => {
  it('a retried upload answers the first file and stores nothing more; the key with another file is 409', async () => {
    const key = `upload-${Date.now()}`;
    const send = async (body: Buffer) => {
      const { payload, contentType } = multipart(Object.entries(menuPhoto()), [{ body }]);
      return world.testApp.app.inject({
        method: 'POST',
        url: '/v1/files',
        headers: {
          ...authHeader(world.actors.owner.accessToken),
          'content-type': contentType,
          'idempotency-key': key,
        },
        payload,
      });
    };
    const first = await send(photo);
    expect(first.statusCode, first.body).toBe(201);
    const after = await holdings(world.testApp);
    const replay = await send(photo);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(first.json().id);
    expect(replay.headers.location).toBe(first.headers.location);
    const other = await send(await noisyJpeg(300, 200));
    expect(other.statusCode).toBe(409);
    expect(other.json().code).toBe('idempotency_key_reused');
    expect(await holdings(world.testApp)).toEqual(after);
  });
});
