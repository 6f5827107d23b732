/**
 * Public tracking tokens: base64url(order id, 16 bytes) + base64url(secret, 16 random bytes),
 * 44 characters. The order id half makes the lookup a stream read (no table, no projection lag);
 * the 128-bit secret half, compared in constant time with the one in OrderCreated, makes the
 * token unguessable.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const TRACKING_SECRET_BYTES = 16;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{44}$/;

export function newTrackingSecret(): string {
  return randomBytes(TRACKING_SECRET_BYTES).toString('base64url');
}

export function trackingToken(orderId: string, secret: string): string {
  return Buffer.from(orderId.replaceAll('-', ''), 'hex').toString('base64url') + secret;
}

export function parseTrackingToken(token: string): { orderId: string; secret: string } | undefined {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const hex = Buffer.from(token.slice(0, 22), 'base64url').toString('hex');
  if (hex.length !== 32) return undefined;
  const orderId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { orderId, secret: token.slice(22) };
}

export function secretMatches(expected: string, given: string): boolean {
  const left = Buffer.from(expected);
  const right = Buffer.from(given);
  return left.length === right.length && timingSafeEqual(left, right);
}
