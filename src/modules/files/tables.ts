import type { ColumnType, Kysely } from 'kysely';

type Json<T> = ColumnType<T, string, string>;

export const PURPOSES = [
  'restaurant_logo',
  'restaurant_cover',
  'menu_item_photo',
  'driver_document',
  'delivery_photo',
  'delivery_signature',
  'order_packed_photo',
  'support_attachment',
] as const;
export type Purpose = (typeof PURPOSES)[number];

/** `photo`: the driver's own portrait, part of an application to drive (dispatch onboarding). */
export const DOCUMENT_KINDS = ['identity', 'licence', 'vehicle_registration', 'insurance', 'photo'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

export type FileStatus = 'clean' | 'pending_scan' | 'infected';
export type RenditionName = 'small' | 'medium' | 'large' | 'original';
export type RenditionFormat = 'webp' | 'jpeg' | 'png' | 'pdf';

/** One stored rendition of a file: its key in the file store and what it is. */
export interface Rendition {
  name: RenditionName;
  format: RenditionFormat;
  width: number | null;
  height: number | null;
  byteSize: number;
  key: string;
  /** The store's strong validator (an HTTP ETag). */
  etag: string;
}

export interface FilesTable {
  id: string;
  purpose: Purpose;
  restaurant_id: string | null;
  menu_item_id: string | null;
  order_id: string | null;
  owner_user_id: string | null;
  document_kind: DocumentKind | null;
  uploaded_by: string;
  content_type: string;
  byte_size: number;
  sha256: string;
  status: FileStatus;
  scanned_by: string | null;
  renditions: Json<Rendition[]>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  delete_after: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  deleted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface FileTables {
  files: FilesTable;
}

/** The database as this context sees it: its own tables only. */
export type FilesDb = Kysely<FileTables>;
