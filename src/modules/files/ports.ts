/**
 * What the files context needs from others, by the interfaces it uses: the catalog (owners,
 * items, attaching photos), orders (who an order concerns) and identity's audit log. Each is
 * implemented by its owner (catalog `photos`, orders `parties`, identity `audit`).
 */

/** Structurally identity's `Actor`. */
export interface FilesActor {
  kind: 'user' | 'system' | 'cli' | 'anonymous';
  userId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

/** Structurally identity's `AuditEntry`. */
export interface FilesAuditEntry {
  action: string;
  actor: FilesActor;
  subjectUserId?: string | null;
  resource?: string | null;
  oldValue?: unknown;
  newValue?: unknown;
}

export type FilesAudit = (entry: FilesAuditEntry) => Promise<void>;

export interface PhotoEncoding {
  url: string;
  width: number;
  height: number;
  byteSize: number;
}

/** A photo as the catalog keeps it: the file and its renditions by size and format. */
export interface AttachedPhoto {
  fileId: string;
  renditions: Record<string, Record<string, PhotoEncoding>>;
}

/** Implemented by the catalog (`catalog.photos`). */
export interface CatalogPhotosPort {
  restaurantOwnerId(restaurantId: string): Promise<string | undefined>;
  itemBelongsTo(restaurantId: string, itemId: string): Promise<boolean>;
  setRestaurantImage(
    restaurantId: string,
    slot: 'logo' | 'cover',
    photo: AttachedPhoto,
    actor: FilesActor,
  ): Promise<{ previousFileId: string | null }>;
  setItemPhoto(
    restaurantId: string,
    itemId: string,
    photo: AttachedPhoto,
    actor: FilesActor,
  ): Promise<{ previousFileId: string | null }>;
}

/** Implemented by orders (`parties`): the people an order concerns and its status. */
export interface OrderPartiesPort {
  partiesOf(orderId: string): Promise<
    | {
        orderId: string;
        status: string;
        customerId: string;
        restaurantId: string;
        restaurantOwnerId: string;
        driverId: string | null;
      }
    | undefined
  >;
}

/**
 * Implemented by support (`attachments`): whether a person may read a `support_attachment` through
 * the ticket it is on. Files alone knows only the uploader; support knows the tickets: their
 * opener (messages that are not internal notes), the assigned agent and supervisors.
 */
export interface SupportAttachmentsPort {
  mayRead(viewer: { userId: string; permissions: ReadonlySet<string> }, fileId: string): Promise<boolean>;
}

/**
 * Which orders a support agent may see (support decides): supervisors and admins any, a plain
 * agent only the orders their tickets name. Files asks it for an order's photos and proofs.
 */
export interface SupportOrderFilesPort {
  mayView(viewer: { userId: string; permissions: ReadonlySet<string> }, orderId: string): Promise<boolean>;
}
