/**
 * A failed delivery with its proof (issue #20): the driver of a picked-up order reports why
 * (customer absent, wrong address, unsafe) with a delivery photo of that order they uploaded
 * (files context, purpose delivery_photo) and where they are (the position rules of a fix). The
 * proof is kept here (positions are personal data: not in the order's events); the order moves to
 * DELIVERY_FAILED through orders' public `execute`, with the reason code as its reason.
 */
import type { OrderCommand } from '../orders/index.js';
import { dispatchErrors } from './errors.js';
import { judgeFix, type FixPolicy } from './fix-rules.js';
import type { DispatchDb } from './tables.js';

export const FAILURE_REASONS = ['customer_absent', 'wrong_address', 'unsafe'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface DeliveryPhotoLookup {
  find(fileId: string): Promise<
    | {
        purpose: string;
        order_id: string | null;
        uploaded_by: string;
        status: string;
        deleted_at: Date | null;
      }
    | undefined
  >;
}

export interface FailedDeliveryInput {
  reason: FailureReason;
  photoFileId: string;
  latitude: number;
  longitude: number;
  accuracyMeters: number;
  recordedAt: number;
  note?: string | undefined;
}

type ProofFile = Awaited<ReturnType<DeliveryPhotoLookup['find']>>;

/** Whether `file` is a clean, live file of `purpose` for this order, uploaded by this driver (pure). */
export function isProofOf(
  file: ProofFile,
  purpose: 'delivery_photo' | 'delivery_signature',
  orderId: string,
  driverId: string,
): boolean {
  return (
    file !== undefined &&
    file.purpose === purpose &&
    file.order_id === orderId &&
    file.uploaded_by === driverId &&
    file.status === 'clean' &&
    file.deleted_at === null
  );
}

export function createDeliveryProof(deps: {
  db: DispatchDb;
  files: () => DeliveryPhotoLookup;
  /** A successful delivery needs its photo (DISPATCH_DELIVERY_PHOTO_REQUIRED). */
  photoRequired?: boolean;
  orders: () => {
    execute(orderId: string, command: OrderCommand, metadata?: Record<string, unknown>): Promise<unknown>;
  };
  policy: FixPolicy;
  now?: () => number;
}) {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  function view(row: {
    order_id: string;
    reason: string;
    photo_file_id: string;
    latitude: number;
    longitude: number;
    accuracy_meters: number;
    recorded_at: Date;
    note: string | null;
  }) {
    return {
      orderId: row.order_id,
      reason: row.reason,
      photoFileId: row.photo_file_id,
      position: {
        latitude: row.latitude,
        longitude: row.longitude,
        accuracyMeters: row.accuracy_meters,
        recordedAt: row.recorded_at.toISOString(),
      },
      note: row.note,
    };
  }

  return {
    async failDelivery(driverId: string, orderId: string, input: FailedDeliveryInput) {
      const verdict = judgeFix(
        {
          latitude: input.latitude,
          longitude: input.longitude,
          accuracyMeters: input.accuracyMeters,
          recordedAt: input.recordedAt,
        },
        undefined,
        'motorbike',
        deps.policy,
        now(),
      );
      if (verdict.outcome !== 'accepted')
        throw dispatchErrors.of('validation', verdict.code, verdict.message);
      const photo = await deps.files().find(input.photoFileId);
      if (!isProofOf(photo, 'delivery_photo', orderId, driverId))
        throw dispatchErrors.of(
          'unprocessable',
          'delivery_photo_required',
          'Send a delivery photo of this order you uploaded (POST /v1/files, purpose delivery_photo).',
        );
      const inserted = await db
        .insertInto('driver_delivery_failures')
        .values({
          order_id: orderId,
          driver_id: driverId,
          reason: input.reason,
          photo_file_id: input.photoFileId,
          latitude: input.latitude,
          longitude: input.longitude,
          accuracy_meters: input.accuracyMeters,
          recorded_at: new Date(input.recordedAt),
          note: input.note ?? null,
        })
        .onConflict((conflict) => conflict.column('order_id').doNothing())
        .returning('order_id')
        .executeTakeFirst();
      try {
        await deps.orders().execute(
          orderId,
          {
            type: 'FailDelivery',
            data: { by: { role: 'driver', id: driverId }, reason: input.reason, at: new Date(now()) },
          },
          { actorRole: 'driver', actorId: driverId },
        );
      } catch (error) {
        // Refused (not this driver's order, not PICKED_UP): the proof of this attempt goes too.
        if (inserted !== undefined)
          await db.deleteFrom('driver_delivery_failures').where('order_id', '=', orderId).execute();
        throw error;
      }
      const row = await db
        .selectFrom('driver_delivery_failures')
        .selectAll()
        .where('order_id', '=', orderId)
        .executeTakeFirstOrThrow();
      return view(row);
    },

    /**
     * orders' DeliveryProofPort: a driver's delivery (PIN checked by orders afterwards) needs a
     * delivery photo of this order they uploaded, when required; a photo or signature that is sent
     * must be one (a clean file of that purpose for this order, by this driver) either way.
     */
    async checkDelivery(
      orderId: string,
      driverId: string,
      proof: { photoFileId?: string | undefined; signatureFileId?: string | undefined },
    ): Promise<void> {
      if (proof.photoFileId === undefined && deps.photoRequired === true)
        throw dispatchErrors.of(
          'unprocessable',
          'delivery_photo_required',
          'Send `photoFileId`: a delivery photo of this order you uploaded (POST /v1/files, purpose delivery_photo).',
        );
      for (const [field, purpose, fileId] of [
        ['photoFileId', 'delivery_photo', proof.photoFileId],
        ['signatureFileId', 'delivery_signature', proof.signatureFileId],
      ] as const) {
        if (fileId === undefined) continue;
        if (!isProofOf(await deps.files().find(fileId), purpose, orderId, driverId))
          throw dispatchErrors.of(
            'unprocessable',
            'delivery_proof_invalid',
            `\`${field}\` is not a clean ${purpose} of this order that you uploaded.`,
            { details: { field } },
          );
      }
    },

    async proofOf(orderId: string) {
      const row = await db
        .selectFrom('driver_delivery_failures')
        .selectAll()
        .where('order_id', '=', orderId)
        .executeTakeFirst();
      return row === undefined ? undefined : view(row);
    },

    async erase(driverId: string): Promise<number> {
      const result = await db
        .deleteFrom('driver_delivery_failures')
        .where('driver_id', '=', driverId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async exportOf(driverId: string) {
      const rows = await db
        .selectFrom('driver_delivery_failures')
        .selectAll()
        .where('driver_id', '=', driverId)
        .limit(1_000)
        .execute();
      return rows.map(view);
    },
  };
}

export type DeliveryProof = ReturnType<typeof createDeliveryProof>;
