/**
 * What an upload is, decided from its bytes alone (never its name or the client's header), and
 * the refusals that come before decoding: unknown or disallowed types, polyglots, broken PDFs.
 *
 * Polyglots (one file that is two formats) are refused when the second format could be acted on
 * by whoever opens the stored file or a copy of the upload: bytes after an image's end that hold
 * a PDF, HTML, SVG, script, ZIP/JAR or executable signature, and a PDF that carries HTML or
 * script near its start, JavaScript, launch actions or embedded files. Other bytes after an
 * image's end (cameras' trailers, a phone's motion-photo clip) are not refused: re-encoding
 * drops them, since only decoded pixels are stored.
 */
import { fileTypeFromBuffer } from 'file-type';
import { filesErrors } from './errors.js';

export const IMAGE_MIME_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic'] as const;
export type ImageMime = (typeof IMAGE_MIME_TYPES)[number];
export type UploadMime = ImageMime | 'application/pdf';

/** Signatures of content a browser, reader or OS would act on (case-insensitive for text). */
const ACTIVE_TEXT = [
  '%pdf-',
  '<html',
  '<!doctype',
  '<script',
  '<svg',
  '<?php',
  '<?xml',
  '<iframe',
  '<body',
  'javascript:',
];
const ACTIVE_BINARY = [
  Buffer.from('PK\x03\x04', 'latin1'),
  Buffer.from('\x7fELF', 'latin1'),
  Buffer.from('MZ', 'latin1'),
];
/** PDF names that run code or carry other files. */
const PDF_ACTIVE_NAMES = ['/JavaScript', '/JS', '/Launch', '/EmbeddedFile', '/RichMedia', '/XFA'];
/** A PDF's `%%EOF` may be followed by line ends and an incremental-save remainder this long. */
const PDF_TAIL_BYTES = 1_024;

export interface Detected {
  mime: UploadMime;
}

/** The type by magic bytes, or a refusal naming what the bytes are (or that nothing is known). */
export async function detectType(body: Buffer, allowed: readonly UploadMime[]): Promise<Detected> {
  const found = await fileTypeFromBuffer(body);
  // file-type names HEIC `image/heic` and its sequence form `image/heic-sequence`; AVIF is not ours.
  const mime = found?.mime === 'image/heic-sequence' ? 'image/heic' : found?.mime;
  if (mime === undefined)
    throw filesErrors.of(
      'unprocessable',
      'file_type_unknown',
      'The file is none of the types this upload takes.',
      {
        details: { allowed },
      },
    );
  if (!(allowed as readonly string[]).includes(mime))
    throw filesErrors.of('unprocessable', 'file_type_not_allowed', `A ${mime} file is not accepted here.`, {
      details: { detected: mime, allowed },
    });
  return { mime: mime as UploadMime };
}

function indexOfText(haystack: Buffer, needle: string, from = 0): number {
  return haystack.toString('latin1', from).toLowerCase().indexOf(needle);
}

/** The first active-content signature in the bytes, if any. */
export function activeContentIn(bytes: Buffer): string | undefined {
  for (const marker of ACTIVE_TEXT) if (indexOfText(bytes, marker) >= 0) return marker;
  for (const marker of ACTIVE_BINARY) {
    // `MZ` only counts at the start of the trailer: two bytes occur by chance in pixel data.
    if (marker.length === 2 ? bytes.subarray(0, 2).equals(marker) : bytes.includes(marker))
      return marker.toString('latin1').replace(/[^\x20-\x7e]/g, '');
  }
  return undefined;
}

/** Where a JPEG's EOI marker ends, walking its segments and entropy-coded data. */
function jpegEnd(body: Buffer): number | undefined {
  let offset = 2; // after SOI
  while (offset + 4 <= body.length) {
    if (body[offset] !== 0xff) return undefined;
    const marker = body[offset + 1]!;
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0xd9) return offset + 2;
    if (marker >= 0xd0 && marker <= 0xd7) {
      offset += 2;
      continue;
    }
    const length = body.readUInt16BE(offset + 2);
    offset += 2 + length;
    if (marker !== 0xda) continue;
    // Entropy-coded data after SOS: 0xFF is followed by 0x00 (stuffing) or RSTn; anything else is a marker.
    while (offset + 1 < body.length) {
      if (body[offset] === 0xff) {
        const next = body[offset + 1]!;
        if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7) && next !== 0xff) break;
      }
      offset += 1;
    }
  }
  return undefined;
}

/** Where a PNG's IEND chunk (and its CRC) ends. */
function pngEnd(body: Buffer): number | undefined {
  let offset = 8;
  while (offset + 12 <= body.length) {
    const length = body.readUInt32BE(offset);
    const type = body.toString('latin1', offset + 4, offset + 8);
    offset += 12 + length;
    if (type === 'IEND') return offset;
  }
  return undefined;
}

/** Where a WebP's RIFF container ends (its declared size). */
function webpEnd(body: Buffer): number | undefined {
  if (body.length < 12) return undefined;
  return 8 + body.readUInt32LE(4);
}

/**
 * Refuses an image with active content appended after its end. A missing end (a truncated file)
 * is left to the decoder, which says so.
 */
export function refuseImagePolyglot(body: Buffer, mime: ImageMime): void {
  const end =
    mime === 'image/jpeg'
      ? jpegEnd(body)
      : mime === 'image/png'
        ? pngEnd(body)
        : mime === 'image/webp'
          ? webpEnd(body)
          : undefined;
  if (end === undefined || end >= body.length) return;
  const marker = activeContentIn(body.subarray(end));
  if (marker !== undefined)
    throw filesErrors.of(
      'unprocessable',
      'file_polyglot',
      'The image carries another file after its end (a polyglot); upload the image alone.',
      { details: { trailingBytes: body.length - end, found: marker } },
    );
}

/**
 * Checks a PDF before it is stored as is: `%PDF-` at the start, `%%EOF` at the end, no HTML or
 * script in its head (a PDF/HTML polyglot), no JavaScript, launch actions or embedded files.
 */
export function checkPdf(body: Buffer): void {
  if (!body.subarray(0, 5).equals(Buffer.from('%PDF-')))
    throw filesErrors.of('unprocessable', 'pdf_invalid', 'The PDF does not start with %PDF-.', {
      details: { reason: 'missing_header' },
    });
  const tail = body.subarray(Math.max(0, body.length - PDF_TAIL_BYTES)).toString('latin1');
  if (!tail.includes('%%EOF'))
    throw filesErrors.of(
      'unprocessable',
      'pdf_invalid',
      'The PDF does not end with %%EOF: it is truncated or not a PDF.',
      {
        details: { reason: 'missing_eof' },
      },
    );
  const head = body.subarray(5, 2_048);
  const markup = ACTIVE_TEXT.filter((marker) => marker !== '%pdf-' && marker !== '<?xml').find(
    (marker) => indexOfText(head, marker) >= 0,
  );
  if (markup !== undefined)
    throw filesErrors.of(
      'unprocessable',
      'file_polyglot',
      'The PDF also reads as HTML or script (a polyglot).',
      {
        details: { found: markup },
      },
    );
  const text = body.toString('latin1');
  const active = PDF_ACTIVE_NAMES.find((name) =>
    new RegExp(`${name.replace('/', '\\/')}(?![A-Za-z])`).test(text),
  );
  if (active !== undefined)
    throw filesErrors.of(
      'unprocessable',
      'pdf_active_content',
      'The PDF carries scripts, actions or embedded files; print it to PDF again.',
      {
        details: { found: active },
      },
    );
}
