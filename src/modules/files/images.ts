/**
 * Images are decoded and re-encoded with sharp (libvips): only pixels survive, so EXIF, GPS,
 * XMP, comments and anything appended to the file are gone (sharp writes no metadata unless
 * asked with `withMetadata`, which this file never calls). The pixel count is checked from the
 * header before any decoding (`limitInputPixels`): a decompression bomb is refused for what it
 * claims, not after it has filled the memory.
 */
import sharp, { type Metadata } from 'sharp';
import { filesErrors } from './errors.js';
import type { ImageMime } from './inspect.js';
import type { RenditionFormat, RenditionName } from './tables.js';

/**
 * Whether this sharp decodes HEIC (iPhone photos, HEVC-coded): the prebuilt sharp's libheif reads
 * AVIF only, and says so in its suffixes. Without it HEIC is not accepted (the type is refused
 * before anything is decoded, and the problem says which types are).
 */
export const HEIC_DECODABLE = sharp.format.heif?.input.fileSuffix?.includes('.heic') ?? false;

/** The longest side of each photo rendition (never enlarged): 2G phones ask for the smallest. */
export const PHOTO_SIZES = { small: 320, medium: 640, large: 1280 } as const;
/** The longest side of a document or proof image kept whole: legible, yet bounded. */
export const DOCUMENT_MAX_SIDE = 2_560;
const WEBP_QUALITY = 78;
const JPEG_QUALITY = 80;

export interface EncodedImage {
  name: RenditionName;
  format: RenditionFormat;
  width: number;
  height: number;
  body: Buffer;
}

const SHARP_FORMAT: Record<ImageMime, string> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/heic': 'heif',
};

function undecodable(reason: string): never {
  throw filesErrors.of('unprocessable', 'image_undecodable', `The image cannot be decoded: ${reason}.`, {
    details: { reason },
  });
}

/** Reads the header: refuses a bomb by its declared size and a header that disagrees with the bytes. */
async function probe(
  body: Buffer,
  mime: ImageMime,
  maxPixels: number,
): Promise<{ width: number; height: number }> {
  let metadata: Metadata;
  try {
    metadata = await sharp(body, { limitInputPixels: false }).metadata();
  } catch (error) {
    return undecodable((error as Error).message.replace(/^Input buffer/, 'the file'));
  }
  const { width, height, format } = metadata;
  if (width === undefined || height === undefined || width < 1 || height < 1)
    return undecodable('no dimensions');
  if (format !== SHARP_FORMAT[mime]) return undecodable(`the header says ${format}, the bytes say ${mime}`);
  if (width * height > maxPixels)
    throw filesErrors.of(
      'unprocessable',
      'image_too_many_pixels',
      `The image claims ${width} x ${height} pixels; at most ${maxPixels} are accepted.`,
      { details: { width, height, maxPixels } },
    );
  return { width, height };
}

/** Decodes the whole image (oriented by its EXIF, then bounded), failing on truncated data. */
async function decode(body: Buffer, maxPixels: number, maxSide: number) {
  try {
    return await sharp(body, { limitInputPixels: maxPixels, failOn: 'truncated', sequentialRead: true })
      .rotate()
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = (error as Error).message;
    // sharp's HEIF decoder reads AVIF only: an HEVC-coded HEIC (iPhone photos) cannot be decoded.
    return undecodable(
      /heif|hevc|compression format/i.test(message) ? `${message} (send a JPEG instead)` : message,
    );
  }
}

type Decoded = Awaited<ReturnType<typeof decode>>;

function fromRaw(decoded: Decoded) {
  const { width, height, channels } = decoded.info;
  return sharp(decoded.data, { raw: { width, height, channels } });
}

async function encode(
  decoded: Decoded,
  name: RenditionName,
  format: 'webp' | 'jpeg' | 'png',
  side: number,
): Promise<EncodedImage> {
  let pipeline = fromRaw(decoded).resize({
    width: side,
    height: side,
    fit: 'inside',
    withoutEnlargement: true,
  });
  if (format === 'webp') pipeline = pipeline.webp({ quality: WEBP_QUALITY });
  else if (format === 'jpeg')
    pipeline = pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: JPEG_QUALITY, mozjpeg: true });
  else pipeline = pipeline.png({ compressionLevel: 9 });
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  return { name, format, width: info.width, height: info.height, body: data };
}

/** Small, medium and large renditions, each in WebP and JPEG (menu photos, delivery proofs). */
export async function renderPhoto(body: Buffer, mime: ImageMime, maxPixels: number): Promise<EncodedImage[]> {
  await probe(body, mime, maxPixels);
  const decoded = await decode(body, maxPixels, PHOTO_SIZES.large);
  const renditions: EncodedImage[] = [];
  for (const [name, side] of Object.entries(PHOTO_SIZES) as [RenditionName, number][]) {
    renditions.push(await encode(decoded, name, 'webp', side), await encode(decoded, name, 'jpeg', side));
  }
  return renditions;
}

/** One legible re-encoded copy: JPEG for documents, PNG for signatures (lines stay sharp). */
export async function renderWhole(
  body: Buffer,
  mime: ImageMime,
  maxPixels: number,
  format: 'jpeg' | 'png',
): Promise<EncodedImage[]> {
  await probe(body, mime, maxPixels);
  const decoded = await decode(body, maxPixels, DOCUMENT_MAX_SIDE);
  return [await encode(decoded, 'original', format, DOCUMENT_MAX_SIDE)];
}
