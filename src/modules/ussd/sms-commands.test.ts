import { describe, expect, it } from 'vitest';
import { smsCommandOf } from './sms-commands.js';

describe('SMS commands', () => {
  it('given STATUS in any case, French or with words after, then status', () => {
    for (const text of ['STATUS', 'status', ' Status please', 'STATUT', 'suivi 123', 'Status\n'])
      expect(smsCommandOf(text)).toBe('status');
  });

  it('given anything else, empty or huge, then help', () => {
    for (const text of [
      '',
      'HELLO',
      'STATU',
      'STATUSES',
      '1',
      'x'.repeat(100_000),
      ` ${'STATUS'.padStart(200)}`,
    ])
      expect(smsCommandOf(text)).toBe('help');
  });
});
