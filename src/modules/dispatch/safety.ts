/**
 * Drivers' safety (issue #20): the emergency button (support and administrators hear it at once
 * over WebSocket with the driver's last accepted position, by push and SMS through notify, and an
 * event `DriverEmergencyRaised` on the stream `driver-safety-<reportId>` records it), incident
 * reports with photos the driver uploaded, and speed alerts: each speeding leg of a carried order
 * stored as fixes arrive (speed-alerts.ts), told live to staff and the driver (socket and phone).
 */
import { randomUUID } from 'node:crypto';

import type { EventStore } from '../../eventstore/index.js';
import { audiences, type RealtimeBus } from '../../realtime/index.js';
import { dispatchErrors } from './errors.js';
import type { Vehicle } from './fix-rules.js';
import { distanceMeters } from './geo.js';
import type { OnboardingActor, OnboardingIdentity } from './onboarding.js';
import type { Throttle } from './throttle.js';
import type { SpeedAlerts } from './speed-alerts.js';
import type { DispatchDb, DriverSafetyReportsTable } from './tables.js';

export const INCIDENT_CATEGORIES = [
  'accident',
  'theft',
  'assault',
  'harassment',
  'vehicle_breakdown',
  'other',
] as const;
export type IncidentCategory = (typeof INCIDENT_CATEGORIES)[number];
export const INCIDENT_PHOTOS_MAX = 5;
export const SAFETY_PAGE_MAX = 100;
export const SAFETY_STREAM_PREFIX = 'driver-safety-';
/** A driver who keeps speeding is told (and staff hear of it) at most once in this long. */
export const SPEED_ALERT_REPEAT_MS = 5 * 60_000;

/** A driver's emergency for notify to tell staff by push and SMS (named after the report: once). */
export type EmergencyNotice = (alert: {
  reportId: string;
  driverId: string;
  at: Date;
  position: { latitude: number; longitude: number } | null;
}) => Promise<unknown>;

/** A stored speed alert told to the driver's phone through notify (named after the alert: once). */
export type SpeedWarningNotice = (warning: {
  alertId: string;
  driverId: string;
  orderId: string;
  speedKmh: number;
  limitKmh: number;
}) => Promise<unknown>;

/** What safety needs of the files context: who uploaded a file and whether it is usable. */
export interface UploadedFileLookup {
  find(fileId: string): Promise<{ uploaded_by: string; status: string; deleted_at: Date | null } | undefined>;
}

export type SpeedThresholds = Record<Vehicle, number>;

export interface SpeedAlert {
  orderId: string;
  speedKmh: number;
  limitKmh: number;
  from: { latitude: number; longitude: number; recordedAt: string };
  to: { latitude: number; longitude: number; recordedAt: string };
}

/** Pure: consecutive trail points of one order whose implied speed passes the threshold. */
export function speedAlertsOf(
  points: readonly { order_id: string; latitude: number; longitude: number; recorded_at: Date }[],
  limitKmh: number,
): SpeedAlert[] {
  const alerts: SpeedAlert[] = [];
  for (let index = 1; index < points.length; index += 1) {
    const previous = points[index - 1]!;
    const point = points[index]!;
    if (previous.order_id !== point.order_id) continue;
    const seconds = (point.recorded_at.getTime() - previous.recorded_at.getTime()) / 1000;
    if (seconds <= 0) continue;
    const speedKmh = (distanceMeters(previous, point) / seconds) * 3.6;
    if (speedKmh > limitKmh)
      alerts.push({
        orderId: point.order_id,
        speedKmh: Math.round(speedKmh),
        limitKmh,
        from: {
          latitude: previous.latitude,
          longitude: previous.longitude,
          recordedAt: previous.recorded_at.toISOString(),
        },
        to: {
          latitude: point.latitude,
          longitude: point.longitude,
          recordedAt: point.recorded_at.toISOString(),
        },
      });
  }
  return alerts;
}

type ReportRow = Pick<
  DriverSafetyReportsTable,
  | 'id'
  | 'driver_id'
  | 'kind'
  | 'category'
  | 'order_id'
  | 'description'
  | 'latitude'
  | 'longitude'
  | 'position_recorded_at'
> & { photos: string[]; status: 'open' | 'resolved'; created_at: Date };

export function reportView(row: ReportRow) {
  return {
    id: row.id,
    driverId: row.driver_id,
    kind: row.kind,
    category: row.category,
    orderId: row.order_id,
    description: row.description,
    position:
      row.latitude === null || row.longitude === null
        ? null
        : {
            latitude: row.latitude,
            longitude: row.longitude,
            recordedAt: row.position_recorded_at?.toISOString() ?? null,
          },
    photos: row.photos,
    status: row.status,
    createdAt: row.created_at.toISOString(),
  };
}

export function createSafety(deps: {
  db: DispatchDb;
  bus: RealtimeBus;
  eventStore: Pick<EventStore, 'append'>;
  files: () => UploadedFileLookup;
  identity: OnboardingIdentity;
  thresholds: SpeedThresholds;
  lastPosition: (
    driverId: string,
  ) => Promise<{ latitude: number; longitude: number; recordedAt: string } | undefined>;
  /** Staff told by SMS (push first) of an emergency: notify's driverEmergency. */
  emergencyNotice?: EmergencyNotice;
  /** Across instances: one speed alert per driver per SPEED_ALERT_REPEAT_MS. */
  throttle?: Throttle;
  /** Where speed alerts are stored (one row per speeding leg). */
  stored: SpeedAlerts;
  /** The driver's phone told of a stored alert, off the socket: notify's driverSpeedWarning. */
  speedWarning?: SpeedWarningNotice;
}) {
  const { db } = deps;

  async function find(id: string): Promise<ReportRow | undefined> {
    return db
      .selectFrom('driver_safety_reports')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst() as Promise<ReportRow | undefined>;
  }

  async function alertStaff(row: ReportRow): Promise<void> {
    const view = reportView(row);
    await deps.bus.publish([
      {
        audiences: [audiences.admin, audiences.support],
        message: {
          type: row.kind === 'emergency' ? 'DriverEmergency' : 'DriverIncident',
          channel: 'system-alerts',
          at: view.createdAt,
          data: view,
        },
      },
    ]);
  }

  async function noticeOf(row: ReportRow): Promise<void> {
    await deps.emergencyNotice?.({
      reportId: row.id,
      driverId: row.driver_id,
      at: row.created_at,
      position:
        row.latitude === null || row.longitude === null
          ? null
          : { latitude: row.latitude, longitude: row.longitude },
    });
  }

  return {
    /**
     * A driver's accepted fix while carrying `orderId` (PICKED_UP): the speed since the order's
     * last trail point before it, against the vehicle's alert threshold. Too fast: the alert is
     * stored (once per leg across instances); then staff hear `DriverSpeeding` on `system-alerts`,
     * the driver `SpeedWarning` on `safety` and on their phone through notify, at most once per
     * driver per SPEED_ALERT_REPEAT_MS across instances. Not a refusal: the fix stands.
     */
    async speedCheck(
      driverId: string,
      vehicle: Vehicle,
      orderId: string,
      fix: { latitude: number; longitude: number; recordedAt: Date },
    ): Promise<SpeedAlert | undefined> {
      const previous = await db
        .selectFrom('order_driver_trails')
        .select(['order_id', 'latitude', 'longitude', 'recorded_at'])
        .where('order_id', '=', orderId)
        .where('recorded_at', '<', fix.recordedAt)
        .orderBy('recorded_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (previous === undefined) return undefined;
      const [alert] = speedAlertsOf(
        [
          previous,
          {
            order_id: orderId,
            latitude: fix.latitude,
            longitude: fix.longitude,
            recorded_at: fix.recordedAt,
          },
        ],
        deps.thresholds[vehicle],
      );
      if (alert === undefined) return undefined;
      // Stored first: only the check whose row landed tells anyone (a second instance, a retry).
      const { id, stored } = await deps.stored.store(driverId, vehicle, alert);
      if (!stored) return undefined;
      if (
        deps.throttle !== undefined &&
        !(await deps.throttle.pass(`dispatch:speed:${driverId}`, SPEED_ALERT_REPEAT_MS))
      )
        return undefined;
      const at = new Date().toISOString();
      await deps.bus.publish([
        {
          audiences: [audiences.admin, audiences.support],
          message: {
            type: 'DriverSpeeding',
            channel: 'system-alerts',
            at,
            data: { driverId, vehicle, ...alert },
          },
        },
        {
          audiences: [audiences.driver(driverId)],
          message: {
            type: 'SpeedWarning',
            channel: 'safety',
            at,
            data: { orderId, speedKmh: alert.speedKmh, limitKmh: alert.limitKmh },
          },
        },
      ]);
      // The driver's phone, off the socket (push, SMS fallback), named after the stored alert.
      await deps.speedWarning?.({
        alertId: id,
        driverId,
        orderId,
        speedKmh: alert.speedKmh,
        limitKmh: alert.limitKmh,
      });
      return alert;
    },

    /**
     * The emergency button: a report with the last accepted position, told to support and admins
     * now. `id` (from the Idempotency-Key) makes a retried press one report and one alert.
     */
    async emergency(
      driverId: string,
      input: { note?: string | undefined; orderId?: string | undefined },
      id: string = randomUUID(),
    ) {
      const existing = await find(id);
      if (existing !== undefined) {
        if (existing.driver_id !== driverId)
          throw dispatchErrors.of('conflict', 'idempotency_key_reused', 'Use another key.');
        // A retried press makes good an SMS that could not be recorded the first time (named after
        // the report: recorded once however often asked).
        await noticeOf(existing);
        return reportView(existing);
      }
      const position = await deps.lastPosition(driverId);
      await db
        .insertInto('driver_safety_reports')
        .values({
          id,
          driver_id: driverId,
          kind: 'emergency',
          category: null,
          order_id: input.orderId ?? null,
          description: input.note ?? null,
          latitude: position?.latitude ?? null,
          longitude: position?.longitude ?? null,
          position_recorded_at: position === undefined ? null : new Date(position.recordedAt),
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
      const row = (await find(id))!;
      // For notify (SMS to staff): no personal data in the event, the report holds the position.
      await deps.eventStore.append(`${SAFETY_STREAM_PREFIX}${id}`, [
        {
          id,
          type: 'DriverEmergencyRaised',
          data: { reportId: id, driverId, at: row.created_at.toISOString() },
        },
      ]);
      await alertStaff(row);
      await noticeOf(row);
      return reportView(row);
    },

    async incident(
      driverId: string,
      input: {
        category: IncidentCategory;
        description: string;
        orderId?: string | undefined;
        photos: string[];
      },
      id: string = randomUUID(),
    ) {
      const existing = await find(id);
      if (existing !== undefined) {
        if (existing.driver_id !== driverId)
          throw dispatchErrors.of('conflict', 'idempotency_key_reused', 'Use another key.');
        return reportView(existing);
      }
      const photos = [...new Set(input.photos)];
      for (const fileId of photos) {
        const file = await deps.files().find(fileId);
        if (
          file === undefined ||
          file.uploaded_by !== driverId ||
          file.status !== 'clean' ||
          file.deleted_at !== null
        )
          throw dispatchErrors.of(
            'unprocessable',
            'incident_photo_invalid',
            'A photo is not a file you uploaded.',
            {
              details: { fileId },
            },
          );
      }
      const position = await deps.lastPosition(driverId);
      await db
        .insertInto('driver_safety_reports')
        .values({
          id,
          driver_id: driverId,
          kind: 'incident',
          category: input.category,
          order_id: input.orderId ?? null,
          description: input.description,
          latitude: position?.latitude ?? null,
          longitude: position?.longitude ?? null,
          position_recorded_at: position === undefined ? null : new Date(position.recordedAt),
          photos: JSON.stringify(photos),
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
      const row = (await find(id))!;
      await alertStaff(row);
      return reportView(row);
    },

    async mine(driverId: string, limit: number) {
      const rows = (await db
        .selectFrom('driver_safety_reports')
        .selectAll()
        .where('driver_id', '=', driverId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(Math.max(1, Math.min(limit, SAFETY_PAGE_MAX)))
        .execute()) as ReportRow[];
      return { items: rows.map(reportView) };
    },

    /** One report of this driver; another driver's is answered as none. */
    async mineById(driverId: string, id: string) {
      const row = await find(id);
      if (row === undefined || row.driver_id !== driverId)
        throw dispatchErrors.of('not_found', 'report_not_found', 'There is no such report of yours.');
      return reportView(row);
    },

    /** Staff: open (or resolved) reports, newest first. */
    async queue(status: 'open' | 'resolved', limit: number) {
      const rows = (await db
        .selectFrom('driver_safety_reports')
        .selectAll()
        .where('status', '=', status)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(Math.max(1, Math.min(limit, SAFETY_PAGE_MAX)))
        .execute()) as ReportRow[];
      return { items: rows.map(reportView) };
    },

    async resolve(id: string, note: string, actor: OnboardingActor) {
      const row = await find(id);
      if (row === undefined)
        throw dispatchErrors.of('not_found', 'report_not_found', 'There is no such report.');
      if (row.status !== 'resolved') {
        await db
          .updateTable('driver_safety_reports')
          .set({ status: 'resolved' })
          .where('id', '=', id)
          .execute();
        await deps.identity.audit({
          action: 'driver_safety_report.resolved',
          actor,
          subjectUserId: row.driver_id,
          resource: `driver_safety_report:${id}`,
          oldValue: { status: row.status },
          newValue: { status: 'resolved', note },
        });
      }
      return reportView((await find(id))!);
    },

    /** A driver's stored speed alerts, newest first (the threshold shown is their vehicle's now). */
    async speedAlerts(
      driverId: string,
      vehicle: Vehicle,
      query: { from?: Date | undefined; to?: Date | undefined; cursor?: string | undefined; limit: number },
    ) {
      const page = await deps.stored.list(driverId, query);
      return { vehicle, limitKmh: deps.thresholds[vehicle], ...page };
    },

    async erase(driverId: string): Promise<number> {
      const result = await db
        .deleteFrom('driver_safety_reports')
        .where('driver_id', '=', driverId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async exportOf(driverId: string) {
      return (await this.mine(driverId, SAFETY_PAGE_MAX)).items;
    },
  };
}

export type Safety = ReturnType<typeof createSafety>;
