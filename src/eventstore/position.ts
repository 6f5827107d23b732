import type { Position } from './types.js';

const HEX_DIGITS = 16;
const POSITION_PATTERN = /^[0-9a-f]{16}-[0-9a-f]{16}$/;

/** Two unsigned 64-bit parts, fixed-width hex: comparable as strings and as tuples. */
export function encodePosition(major: bigint, minor: bigint): Position {
  if (major < 0n || minor < 0n) throw new RangeError('position parts must be non-negative');
  return `${major.toString(16).padStart(HEX_DIGITS, '0')}-${minor.toString(16).padStart(HEX_DIGITS, '0')}` as Position;
}

export function decodePosition(position: Position): { major: bigint; minor: bigint } {
  if (!POSITION_PATTERN.test(position)) throw new RangeError(`not an event store position: ${position}`);
  return { major: BigInt(`0x${position.slice(0, 16)}`), minor: BigInt(`0x${position.slice(17)}`) };
}

export function isPosition(value: unknown): value is Position {
  return typeof value === 'string' && POSITION_PATTERN.test(value);
}

/** Negative, zero or positive; 'start' sorts before every position. */
export function comparePositions(a: Position | 'start', b: Position | 'start'): number {
  if (a === b) return 0;
  if (a === 'start') return -1;
  if (b === 'start') return 1;
  return a < b ? -1 : 1;
}

export function maxPosition(a: Position | 'start', b: Position | 'start'): Position | 'start' {
  return comparePositions(a, b) >= 0 ? a : b;
}
