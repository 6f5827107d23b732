/**
 * Stored speed alerts (issue #20): one row per speeding leg of a carried order, written when the
 * fix that closes the leg is checked (safety.ts `speedCheck`). The row's id is derived from the
 * order and that fix's time, so the same leg checked twice (two instances, a retried check)
 * stores one row, and only the check whose insert landed tells anyone. Staff read the rows
 * (newest first, by cursor); they are the driver's personal data (export and erasure).
 */
import { dispatchErrors } from './errors.js';
import type { Vehicle } from './fix-rules.js';
import { derivedUuid } from './onboarding.js';
import type { SpeedAlert } from './safety.js';
import type { DispatchDb, DispatchSpeedAlertsTable } from './tables.js';

export const SPEED_ALERTS_PAGE_MAX = 100;
/** Erasure and export take at most this many rows of one driver per statement. */
export const SPEED_ALERTS_EXPORT_MAX = 1_000;

type Row = Omit<DispatchSpeedAlertsTable, 'created_at'> & { created_at: Date };

export function speedAlertView(row: Row) {
  return {
    id: row.id,
    driverId: row.driver_id,
    orderId: row.order_id,
    vehicle: row.vehicle,
    speedKmh: row.speed_kmh,
    limitKmh: row.limit_kmh,
    from: {
      latitude: row.from_latitude,
      longitude: row.from_longitude,
      recordedAt: row.from_recorded_at.toISOString(),
    },
    to: {
      latitude: row.to_latitude,
      longitude: row.to_longitude,
      recordedAt: row.to_recorded_at.toISOString(),
    },
    createdAt: row.created_at.toISOString(),
  };
}
export type SpeedAlertView = ReturnType<typeof speedAlertView>;

const SEPARATOR = '|';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeSpeedAlertCursor(row: Pick<Row, 'to_recorded_at' | 'id'>): string {
  return Buffer.from(`${row.to_recorded_at.toISOString()}${SEPARATOR}${row.id}`).toString('base64url');
}

export function decodeSpeedAlertCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split(SEPARATOR);
  const when = new Date(at ?? '');
  if (id === undefined || !UUID.test(id) || Number.isNaN(when.getTime()))
    throw dispatchErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API gave.');
  return { at: when, id };
}

/** The id of the alert closed by the fix at `recordedAt` on `orderId`: the same leg, the same id. */
export const speedAlertId = (orderId: string, recordedAt: Date) =>
  derivedUuid(`speed-alert:${orderId}:${recordedAt.toISOString()}`);

export function createSpeedAlerts(db: DispatchDb) {
  return {
    /** Stores the alert; true when this call's insert landed (the caller tells), false when it was known. */
    async store(
      driverId: string,
      vehicle: Vehicle,
      alert: SpeedAlert,
    ): Promise<{ id: string; stored: boolean }> {
      const to = new Date(alert.to.recordedAt);
      const id = speedAlertId(alert.orderId, to);
      const inserted = await db
        .insertInto('dispatch_speed_alerts')
        .values({
          id,
          driver_id: driverId,
          order_id: alert.orderId,
          vehicle,
          speed_kmh: alert.speedKmh,
          limit_kmh: alert.limitKmh,
          from_latitude: alert.from.latitude,
          from_longitude: alert.from.longitude,
          from_recorded_at: new Date(alert.from.recordedAt),
          to_latitude: alert.to.latitude,
          to_longitude: alert.to.longitude,
          to_recorded_at: to,
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      return { id, stored: inserted !== undefined };
    },

    /** A driver's alerts in [from, to) by the fix's time, newest first, after the cursor. */
    async list(
      driverId: string,
      query: { from?: Date | undefined; to?: Date | undefined; cursor?: string | undefined; limit: number },
    ) {
      const bounded = Math.max(1, Math.min(query.limit, SPEED_ALERTS_PAGE_MAX));
      const after = query.cursor === undefined ? undefined : decodeSpeedAlertCursor(query.cursor);
      const rows = (await db
        .selectFrom('dispatch_speed_alerts')
        .selectAll()
        .where('driver_id', '=', driverId)
        .$if(query.from !== undefined, (q) => q.where('to_recorded_at', '>=', query.from!))
        .$if(query.to !== undefined, (q) => q.where('to_recorded_at', '<', query.to!))
        .$if(after !== undefined, (q) =>
          q.where((eb) =>
            eb.or([
              eb('to_recorded_at', '<', after!.at),
              eb.and([eb('to_recorded_at', '=', after!.at), eb('id', '<', after!.id)]),
            ]),
          ),
        )
        .orderBy('to_recorded_at', 'desc')
        .orderBy('id', 'desc')
        .limit(bounded + 1)
        .execute()) as Row[];
      const page = rows.slice(0, bounded);
      return {
        items: page.map(speedAlertView),
        nextCursor: rows.length > bounded ? encodeSpeedAlertCursor(page[page.length - 1]!) : null,
      };
    },

    /** How many alerts a driver had in [from, to) (performance's safety counts). */
    async count(driverId: string, from: Date, to: Date): Promise<number> {
      const row = await db
        .selectFrom('dispatch_speed_alerts')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('driver_id', '=', driverId)
        .where('to_recorded_at', '>=', from)
        .where('to_recorded_at', '<', to)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    async erase(driverId: string): Promise<number> {
      const result = await db
        .deleteFrom('dispatch_speed_alerts')
        .where('driver_id', '=', driverId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async exportOf(driverId: string): Promise<SpeedAlertView[]> {
      const rows = (await db
        .selectFrom('dispatch_speed_alerts')
        .selectAll()
        .where('driver_id', '=', driverId)
        .orderBy('to_recorded_at', 'desc')
        .limit(SPEED_ALERTS_EXPORT_MAX)
        .execute()) as Row[];
      return rows.map(speedAlertView);
    },
  };
}

export type SpeedAlerts = ReturnType<typeof createSpeedAlerts>;
