/**
 * What each upload purpose takes, who may upload it and who may read it. Public purposes are
 * menu photos (served to anyone, cacheable forever under their file id); every other file is
 * private, read through short-lived signed URLs by the people it concerns.
 */
import type { Config } from '../../config/index.js';
import { HEIC_DECODABLE } from './images.js';
import { IMAGE_MIME_TYPES, type UploadMime } from './inspect.js';
import type { Purpose } from './tables.js';

export type SubjectField = 'restaurantId' | 'itemId' | 'orderId' | 'documentKind';

export interface PurposeRule {
  visibility: 'public' | 'private';
  /** The types the bytes may be (decided by magic bytes). */
  allowed: readonly UploadMime[];
  /** The largest upload, from configuration. */
  maxBytes(config: FilesLimits): number;
  /** The fields naming what the file is of (required). */
  fields: readonly SubjectField[];
  /** photo: small/medium/large in WebP and JPEG; whole: one JPEG (or the PDF as is); signature: one PNG. */
  render: 'photo' | 'whole' | 'signature';
  /** Order statuses in which the proof may be attached (order purposes only). */
  orderStatuses?: readonly string[];
}

export type FilesLimits = Pick<
  Config,
  'FILES_MAX_IMAGE_BYTES' | 'FILES_MAX_DOCUMENT_BYTES' | 'FILES_MAX_SIGNATURE_BYTES'
>;

/** JPEG, PNG, WebP, and HEIC where sharp decodes it. */
const IMAGES = IMAGE_MIME_TYPES.filter((mime) => mime !== 'image/heic' || HEIC_DECODABLE);
const image = (config: FilesLimits) => config.FILES_MAX_IMAGE_BYTES;
const restaurantPhoto: PurposeRule = {
  visibility: 'public',
  allowed: IMAGES,
  maxBytes: image,
  fields: ['restaurantId'],
  render: 'photo',
};
/** A driver attaches proof once the food is on its way, or right after the handover. */
const DELIVERY_STATUSES = ['PICKED_UP', 'DELIVERED', 'DELIVERY_FAILED'];

export const PURPOSE_RULES: Record<Purpose, PurposeRule> = {
  restaurant_logo: restaurantPhoto,
  restaurant_cover: restaurantPhoto,
  menu_item_photo: { ...restaurantPhoto, fields: ['restaurantId', 'itemId'] },
  driver_document: {
    visibility: 'private',
    allowed: [...IMAGES, 'application/pdf'],
    maxBytes: (config) => config.FILES_MAX_DOCUMENT_BYTES,
    fields: ['documentKind'],
    render: 'whole',
  },
  delivery_photo: {
    visibility: 'private',
    allowed: IMAGES,
    maxBytes: image,
    fields: ['orderId'],
    render: 'photo',
    orderStatuses: DELIVERY_STATUSES,
  },
  delivery_signature: {
    visibility: 'private',
    // A signature comes from a canvas: PNG only.
    allowed: ['image/png'],
    maxBytes: (config) => config.FILES_MAX_SIGNATURE_BYTES,
    fields: ['orderId'],
    render: 'signature',
    orderStatuses: DELIVERY_STATUSES,
  },
  order_packed_photo: {
    visibility: 'private',
    allowed: IMAGES,
    maxBytes: image,
    fields: ['orderId'],
    render: 'photo',
    // Quality control: while the kitchen has the order, up to the handover to the driver.
    orderStatuses: ['ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP'],
  },
  /** A screenshot or receipt a person attaches to a support ticket (read by them and support staff). */
  support_attachment: {
    visibility: 'private',
    allowed: [...IMAGES, 'application/pdf'],
    maxBytes: (config) => config.FILES_MAX_DOCUMENT_BYTES,
    fields: [],
    render: 'whole',
  },
};

/** The largest upload any purpose takes: the multipart parser's own limit. */
export function largestUpload(config: FilesLimits): number {
  return Math.max(...Object.values(PURPOSE_RULES).map((rule) => rule.maxBytes(config)));
}

/** How a rendition's format is named in a URL and served. */
export const EXTENSION_OF = { webp: 'webp', jpeg: 'jpg', png: 'png', pdf: 'pdf' } as const;
export const CONTENT_TYPE_OF = {
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
  pdf: 'application/pdf',
} as const;
