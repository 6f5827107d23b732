import { describe, expect, it } from 'vitest';
import { LedgerOverloadedError, LedgerSubmissionTooLargeError, LedgerUnavailableError } from './errors.js';
import { decodeRelayValue, encodeError, encodeRelayValue, resultOf } from './relay-codec.js';

describe('relay codec', () => {
  it('round-trips bigints exactly, beyond the safe integer range, and leaves look-alikes alone', () => {
    const value = {
      amountMinor: 2n ** 63n - 1n,
      nested: [{ timestamp: 1_733_000_000_000_000_001n, negative: -5n }],
      userData: { $bigint: 'x', other: '1' },
      text: '12345678901234567890',
    };
    expect(decodeRelayValue(encodeRelayValue(value))).toEqual(value);
  });

  it("answers with the result, or throws the holder's error as the caller's own class", () => {
    expect(resultOf(encodeRelayValue({ ok: [{ id: 't1', result: 'ok', timestamp: 7n }] }))).toEqual([
      { id: 't1', result: 'ok', timestamp: 7n },
    ]);
    expect(resultOf(encodeRelayValue({ ok: null }))).toBeNull();
    const thrown = (error: Error) => {
      try {
        resultOf(encodeRelayValue(encodeError(error)));
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('no error');
    };
    expect(thrown(new LedgerOverloadedError('full'))).toBeInstanceOf(LedgerOverloadedError);
    expect(thrown(new LedgerSubmissionTooLargeError('big'))).toBeInstanceOf(LedgerSubmissionTooLargeError);
    expect(thrown(new TypeError('bad transfer'))).toBeInstanceOf(TypeError);
    const known = thrown(new LedgerUnavailableError('down', false));
    expect(known).toBeInstanceOf(LedgerUnavailableError);
    expect((known as LedgerUnavailableError).outcomeUnknown).toBe(false);
    // Anything else (a broken invariant on the holder): whether it appended is unknown.
    const other = thrown(new Error('invariant broken'));
    expect(other).toBeInstanceOf(LedgerUnavailableError);
    expect((other as LedgerUnavailableError).outcomeUnknown).toBe(true);
  });
});
