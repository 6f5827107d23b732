import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { TestApp } from '../../helpers/app.js';
import { authHeader } from '../../helpers/auth.js';

export interface FilePart {
  field?: string;
  filename?: string;
  contentType?: string;
  body: Buffer;
}

/** A multipart/form-data body written by hand: fields in order, then the file parts. */
export function multipart(fields: [string, string][], files: FilePart[] = []) {
  const boundary = `----files-test-${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of fields)
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  for (const file of files) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.filename ?? 'photo.jpg'}"\r\nContent-Type: ${file.contentType ?? 'image/jpeg'}\r\n\r\n`,
      ),
      file.body,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export async function upload(
  testApp: TestApp,
  token: string | undefined,
  fields: [string, string][] | Record<string, string>,
  files: FilePart[] | FilePart = [],
) {
  const list = Array.isArray(fields) ? fields : Object.entries(fields);
  const { payload, contentType } = multipart(list, Array.isArray(files) ? files : [files]);
  return testApp.app.inject({
    method: 'POST',
    url: '/v1/files',
    headers: { ...(token === undefined ? {} : authHeader(token)), 'content-type': contentType },
    payload,
  });
}

/** A photo-like JPEG: noise compresses badly, like a real photo. */
export async function noisyJpeg(
  width: number,
  height: number,
  options: { quality?: number; exif?: Record<string, Record<string, string>>; orientation?: number } = {},
): Promise<Buffer> {
  let image = sharp({
    create: {
      width,
      height,
      channels: 3,
      background: { r: 128, g: 128, b: 128 },
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  }).jpeg({ quality: options.quality ?? 80 });
  if (options.exif !== undefined || options.orientation !== undefined)
    image = image.withMetadata({
      ...(options.exif === undefined ? {} : { exif: options.exif }),
      ...(options.orientation === undefined ? {} : { orientation: options.orientation }),
    });
  return image.toBuffer();
}

export async function solidPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 20, g: 30, b: 200, alpha: 1 } } })
    .png()
    .toBuffer();
}

/** A small, valid PDF (no scripts, no embedded files). */
export function tinyPdf(extra = ''): Buffer {
  return Buffer.from(
    `%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n${extra}trailer << /Root 1 0 R >>\n%%EOF\n`,
    'latin1',
  );
}

function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A decompression bomb: a PNG of a few hundred bytes whose header claims width x height pixels
 * (8-bit grey), with one compressed row of zeros as its data.
 */
export function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = deflateSync(Buffer.alloc(width + 1), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', rows),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** What the app holds: rows in `files` and every key in the store. */
export async function holdings(testApp: TestApp): Promise<{ rows: number; keys: string[] }> {
  const row = await testApp.services.db
    .selectFrom('files')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  const keys: string[] = [];
  for await (const object of testApp.services.files.store.list('')) keys.push(object.key);
  return { rows: Number(row.count), keys };
}

export async function fetchBytes(testApp: TestApp, url: string, headers: Record<string, string> = {}) {
  const parsed = new URL(url, 'http://127.0.0.1');
  return testApp.app.inject({ method: 'GET', url: `${parsed.pathname}${parsed.search}`, headers });
}
