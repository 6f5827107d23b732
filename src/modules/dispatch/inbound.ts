/**
 * Position fixes over the WebSocket: `{"type":"driver-location","id":…,"data":{latitude, longitude,
 * accuracyMeters, recordedAt, heading?, speedKmh?}}` on /ws/driver (identity's role namespace),
 * the same message and rules as `PUT /v1/drivers/me/location`. The driver is the `driver:<id>`
 * audience the endpoint granted at the upgrade; the answer is `driver-location-ack` with the
 * receipt, or an `error` message with the same code the REST route answers.
 */
import { audiences, type InboundHandler } from '../../realtime/index.js';
import { dispatchErrors } from './errors.js';
import type { PositionFix } from './fix-rules.js';
import type { OffersService } from './offers.js';
import type { DispatchService } from './service.js';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function invalid(message: string) {
  return dispatchErrors.of('validation', 'validation_failed', message);
}

function optionalNumber(value: unknown, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max)
    throw invalid(`${name} must be a number from 0 to ${max}.`);
  return value;
}

/** The message's data as a fix, or a validation error like the REST route's schema. */
export function parseFixMessage(data: unknown): PositionFix {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw invalid('data must be an object.');
  const body = data as Record<string, unknown>;
  for (const key of Object.keys(body))
    if (!['latitude', 'longitude', 'accuracyMeters', 'recordedAt', 'heading', 'speedKmh'].includes(key))
      throw invalid(`Unknown field ${key.slice(0, 40)}.`);
  for (const key of ['latitude', 'longitude', 'accuracyMeters'])
    if (typeof body[key] !== 'number' || !Number.isFinite(body[key]))
      throw invalid(`${key} must be a number.`);
  if (
    typeof body.recordedAt !== 'string' ||
    !ISO_INSTANT.test(body.recordedAt) ||
    Number.isNaN(Date.parse(body.recordedAt))
  )
    throw invalid('recordedAt must be an ISO 8601 date-time.');
  return {
    latitude: body.latitude as number,
    longitude: body.longitude as number,
    accuracyMeters: body.accuracyMeters as number,
    recordedAt: Date.parse(body.recordedAt),
    heading: optionalNumber(body.heading, 'heading', 360),
    speedKmh: optionalNumber(body.speedKmh, 'speedKmh', 400),
  };
}

/** The driver behind a /ws/driver connection: the `driver:<id>` audience granted at the upgrade. */
function driverOfConnection(connection: { audiences: readonly string[] }, doing: string): string {
  const prefix = audiences.driver('');
  const driverAudience = connection.audiences.find((audience) => audience.startsWith(prefix));
  if (driverAudience === undefined)
    throw dispatchErrors.of('forbidden', 'not_a_driver', `Only drivers ${doing}.`);
  return driverAudience.slice(prefix.length);
}

export function driverLocationInbound(dispatch: DispatchService): InboundHandler {
  return {
    path: '/ws/driver',
    type: 'driver-location',
    async handle(data, connection) {
      const driverId = driverOfConnection(connection, 'send positions');
      const receipt = await dispatch.submitFix(driverId, parseFixMessage(data));
      return { ...receipt };
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `{offerId, reason?}` of an offer's answer, checked as the REST route's schema checks it. */
export function parseOfferAnswer(data: unknown, accept: boolean): { offerId: string; reason: string | null } {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw invalid('data must be an object.');
  const body = data as Record<string, unknown>;
  const allowed = accept ? ['offerId'] : ['offerId', 'reason'];
  for (const key of Object.keys(body))
    if (!allowed.includes(key)) throw invalid(`Unknown field ${key.slice(0, 40)}.`);
  if (typeof body.offerId !== 'string' || !UUID.test(body.offerId)) throw invalid('offerId must be a UUID.');
  if (
    body.reason !== undefined &&
    (typeof body.reason !== 'string' || body.reason.length < 1 || body.reason.length > 200)
  )
    throw invalid('reason must be a string of 1 to 200 characters.');
  return { offerId: body.offerId, reason: (body.reason as string | undefined) ?? null };
}

/**
 * Answers to an offer over the socket: `offer-accept` `{offerId}` and `offer-decline`
 * `{offerId, reason?}` on /ws/driver, the same service path as the REST routes (so the same
 * answer, the same refusals, and a retry answers the same).
 */
export function offerAnswerInbound(offers: Pick<OffersService, 'answer'>): InboundHandler[] {
  return (['accept', 'decline'] as const).map((action) => ({
    path: '/ws/driver',
    type: `offer-${action}`,
    async handle(data, connection) {
      const driverId = driverOfConnection(connection, 'answer offers');
      const { offerId, reason } = parseOfferAnswer(data, action === 'accept');
      return { ...(await offers.answer(driverId, offerId, action === 'accept', reason)) };
    },
  }));
}
