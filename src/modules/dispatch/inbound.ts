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

export function driverLocationInbound(dispatch: DispatchService): InboundHandler {
  const prefix = audiences.driver('');
  return {
    path: '/ws/driver',
    type: 'driver-location',
    async handle(data, connection) {
      const driverAudience = connection.audiences.find((audience) => audience.startsWith(prefix));
      if (driverAudience === undefined)
        throw dispatchErrors.of('forbidden', 'not_a_driver', 'Only drivers send positions.');
      const receipt = await dispatch.submitFix(driverAudience.slice(prefix.length), parseFixMessage(data));
      return { ...receipt };
    },
  };
}
