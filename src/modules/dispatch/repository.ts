/** All SQL of the dispatch context. */
import { sql } from 'kysely';
import type { PositionFix, Vehicle } from './fix-rules.js';
import type { DispatchDb, DriverAvailabilityTable } from './tables.js';

export type AvailabilityRow = Pick<
  DriverAvailabilityTable,
  | 'driver_id'
  | 'online'
  | 'vehicle'
  | 'since'
  | 'last_latitude'
  | 'last_longitude'
  | 'last_accuracy_meters'
  | 'last_heading'
  | 'last_speed_kmh'
  | 'last_recorded_at'
  | 'last_accepted_at'
>;

const availabilityColumns = [
  'driver_id',
  'online',
  'vehicle',
  'since',
  'last_latitude',
  'last_longitude',
  'last_accuracy_meters',
  'last_heading',
  'last_speed_kmh',
  'last_recorded_at',
  'last_accepted_at',
] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One accepted fix to store as its driver's last, if nobody stored another since `previousAcceptedAt`. */
export interface FixToStore {
  driverId: string;
  fix: PositionFix;
  previousAcceptedAt: Date | null;
  acceptedAt: Date;
}

export function createDispatchRepository(db: DispatchDb) {
  return {
    /** The shift rows of many drivers in one statement (the batched ingest path). */
    async availabilityMany(driverIds: readonly string[]): Promise<Map<string, AvailabilityRow>> {
      const ids = [...new Set(driverIds.filter((id) => UUID.test(id)))];
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom('driver_availability')
        .select(availabilityColumns)
        .where('driver_id', 'in', ids)
        .execute();
      return new Map(rows.map((row) => [row.driver_id, row]));
    },

    /**
     * `storeFix` for many drivers in one statement (arrays unnested: the same statement whatever
     * the batch size). Each row keeps its own compare-and-set; when a batch holds two fixes of one
     * driver, the first is tried and the second loses, as it would have lost the race alone.
     * Answers, per input, whether it was stored.
     */
    async storeFixes(items: readonly FixToStore[]): Promise<boolean[]> {
      const first = new Map<string, number>();
      items.forEach((item, index) => {
        if (UUID.test(item.driverId) && !first.has(item.driverId)) first.set(item.driverId, index);
      });
      if (first.size === 0) return items.map(() => false);
      const chosen = [...first.values()].map((index) => items[index]!);
      const column = <T>(read: (item: FixToStore) => T) => chosen.map(read);
      const result = await sql<{ driver_id: string }>`
        UPDATE driver_availability AS d SET
          last_latitude = v.latitude,
          last_longitude = v.longitude,
          last_accuracy_meters = v.accuracy,
          last_heading = v.heading,
          last_speed_kmh = v.speed,
          last_recorded_at = v.recorded_at,
          last_accepted_at = v.accepted_at
        FROM unnest(
          ${column((item) => item.driverId)}::uuid[],
          ${column((item) => item.fix.latitude)}::float8[],
          ${column((item) => item.fix.longitude)}::float8[],
          ${column((item) => item.fix.accuracyMeters)}::real[],
          ${column((item) => item.fix.heading ?? null)}::real[],
          ${column((item) => item.fix.speedKmh ?? null)}::real[],
          ${column((item) => new Date(item.fix.recordedAt).toISOString())}::timestamptz[],
          ${column((item) => item.previousAcceptedAt?.toISOString() ?? null)}::timestamptz[],
          ${column((item) => item.acceptedAt.toISOString())}::timestamptz[]
        ) AS v(driver_id, latitude, longitude, accuracy, heading, speed, recorded_at, previous, accepted_at)
        WHERE d.driver_id = v.driver_id
          AND d.online
          AND d.last_accepted_at IS NOT DISTINCT FROM v.previous
        RETURNING d.driver_id`.execute(db);
      const stored = new Set(result.rows.map((row) => row.driver_id));
      return items.map((item, index) => first.get(item.driverId) === index && stored.has(item.driverId));
    },

    async availability(driverId: string): Promise<AvailabilityRow | undefined> {
      return db
        .selectFrom('driver_availability')
        .select(availabilityColumns)
        .where('driver_id', '=', driverId)
        .executeTakeFirst();
    },

    /**
     * Sets the shift state; a change (and only a change) is appended to the shift audit trail in
     * the same transaction, so a repeated PUT records nothing new. Returns whether it changed.
     */
    async setAvailability(driverId: string, online: boolean, vehicle: Vehicle | undefined, at: Date) {
      return db.transaction().execute(async (trx) => {
        const current = await trx
          .selectFrom('driver_availability')
          .select(['online', 'vehicle'])
          .where('driver_id', '=', driverId)
          .forUpdate()
          .executeTakeFirst();
        const nextVehicle = vehicle ?? current?.vehicle ?? 'motorbike';
        const changed = current === undefined || current.online !== online;
        if (current === undefined) {
          await trx
            .insertInto('driver_availability')
            .values({ driver_id: driverId, online, vehicle: nextVehicle, since: at })
            .execute();
        } else {
          await trx
            .updateTable('driver_availability')
            .set({
              online,
              vehicle: nextVehicle,
              ...(changed ? { since: at } : {}),
              updated_at: at,
            })
            .where('driver_id', '=', driverId)
            .execute();
        }
        if (changed || (vehicle !== undefined && vehicle !== current?.vehicle))
          await trx
            .insertInto('driver_shift_events')
            .values({ driver_id: driverId, online, vehicle: nextVehicle, at })
            .execute();
        return changed;
      });
    },

    /**
     * Stores an accepted fix as the driver's last, if the driver is still online and nobody
     * stored another since `previousAcceptedAt` (two fixes racing: one wins). False otherwise.
     */
    async storeFix(driverId: string, fix: PositionFix, previousAcceptedAt: Date | null, acceptedAt: Date) {
      const result = await db
        .updateTable('driver_availability')
        .set({
          last_latitude: fix.latitude,
          last_longitude: fix.longitude,
          last_accuracy_meters: fix.accuracyMeters,
          last_heading: fix.heading ?? null,
          last_speed_kmh: fix.speedKmh ?? null,
          last_recorded_at: new Date(fix.recordedAt),
          last_accepted_at: acceptedAt,
        })
        .where('driver_id', '=', driverId)
        .where('online', '=', true)
        .where(sql<boolean>`last_accepted_at IS NOT DISTINCT FROM ${previousAcceptedAt}`)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async flag(row: {
      driverId: string;
      reason: string;
      fix: PositionFix;
      previous: { latitude: number; longitude: number; recordedAt: number } | undefined;
      speedKmh: number | null;
      limitKmh: number | null;
      vehicle: Vehicle;
    }) {
      return db
        .insertInto('driver_location_flags')
        .values({
          driver_id: row.driverId,
          reason: row.reason,
          latitude: row.fix.latitude,
          longitude: row.fix.longitude,
          recorded_at: new Date(row.fix.recordedAt),
          previous_latitude: row.previous?.latitude ?? null,
          previous_longitude: row.previous?.longitude ?? null,
          previous_recorded_at: row.previous === undefined ? null : new Date(row.previous.recordedAt),
          speed_kmh: row.speedKmh,
          limit_kmh: row.limitKmh,
          vehicle: row.vehicle,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
        .then((inserted) => String(inserted.id));
    },

    async flagsOf(driverId: string, limit = 100) {
      return db
        .selectFrom('driver_location_flags')
        .selectAll()
        .where('driver_id', '=', driverId)
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
    },

    /** Appends a point to an order's trail unless it already holds `maxPoints` (one statement). */
    async appendTrail(orderId: string, driverId: string, fix: PositionFix, maxPoints: number) {
      await sql`
        INSERT INTO order_driver_trails (order_id, seq, driver_id, latitude, longitude, recorded_at)
        SELECT ${orderId}::uuid, COALESCE(MAX(seq), 0) + 1, ${driverId}::uuid, ${fix.latitude}, ${fix.longitude},
               ${new Date(fix.recordedAt)}
          FROM order_driver_trails WHERE order_id = ${orderId}::uuid
        HAVING COALESCE(MAX(seq), 0) < ${maxPoints}
        ON CONFLICT DO NOTHING`.execute(db);
    },

    async trailOf(orderId: string) {
      return db
        .selectFrom('order_driver_trails')
        .select(['seq', 'latitude', 'longitude', 'recorded_at'])
        .where('order_id', '=', orderId)
        .orderBy('seq')
        .execute();
    },

    async shiftsOf(driverId: string, limit = 500) {
      return db
        .selectFrom('driver_shift_events')
        .select(['online', 'vehicle', 'at'])
        .where('driver_id', '=', driverId)
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
    },

    /** Erasure (issue #15): the driver's positions, flags, shifts and trails. */
    async erase(driverId: string) {
      return db.transaction().execute(async (trx) => {
        const trails = await trx
          .deleteFrom('order_driver_trails')
          .where('driver_id', '=', driverId)
          .executeTakeFirst();
        const flags = await trx
          .deleteFrom('driver_location_flags')
          .where('driver_id', '=', driverId)
          .executeTakeFirst();
        const shifts = await trx
          .deleteFrom('driver_shift_events')
          .where('driver_id', '=', driverId)
          .executeTakeFirst();
        await trx.deleteFrom('driver_availability').where('driver_id', '=', driverId).execute();
        return {
          trailPointsDeleted: Number(trails.numDeletedRows),
          flagsDeleted: Number(flags.numDeletedRows),
          shiftEventsDeleted: Number(shifts.numDeletedRows),
        };
      });
    },
  };
}

export type DispatchRepository = ReturnType<typeof createDispatchRepository>;
