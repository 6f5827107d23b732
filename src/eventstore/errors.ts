import type { ExpectedRevision } from './types.js';

/** The expected revision of an append did not hold: another writer got there first. */
export class WrongExpectedVersion extends Error {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** The stream's current revision, or 'no_stream'. */
    readonly actual: bigint | 'no_stream',
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedVersion';
  }
}

export class StreamNotFound extends Error {
  constructor(readonly stream: string) {
    super(`stream ${stream} not found`);
    this.name = 'StreamNotFound';
  }
}

export class EventTooLarge extends Error {
  constructor(
    readonly stream: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
    readonly what: 'event' | 'append' = 'event',
  ) {
    super(`${what} for stream ${stream} is ${sizeBytes} bytes; the limit is ${limitBytes} bytes`);
    this.name = 'EventTooLarge';
  }
}

/** Event ids reused for different events (not a retry of the same append). */
export class DuplicateEventIds extends Error {
  constructor(readonly stream: string) {
    super(`stream ${stream}: the event ids were already used by another append`);
    this.name = 'DuplicateEventIds';
  }
}

/** A bad argument from our own code (a bug, not an operating error). */
export class InvalidAppend extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAppend';
  }
}
