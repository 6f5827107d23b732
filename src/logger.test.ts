import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, looksPersonal } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

describe('log redaction', () => {
  it('keeps what an operator needs: error codes and dates', () => {
    const { logger, lines } = capture();
    logger.error({ err: { message: 'connect failed', code: 'ECONNREFUSED' } }, 'database down');
    logger.info({
      report: { from: '2026-12-01', to: '2026-12-31T23:59:59.999Z' },
      code: 'validation_failed',
    });
    expect(lines[0]).toMatchObject({ err: { code: 'ECONNREFUSED' } });
    expect(lines[1]).toMatchObject({
      report: { from: '2026-12-01', to: '2026-12-31T23:59:59.999Z' },
      code: 'validation_failed',
    });
  });

  it('hides one-time codes, phone numbers and e-mails under the same keys, and secrets always', () => {
    const { logger, lines } = capture();
    logger.info({ sms: { to: '+237 670 00 00 01', code: '482913' }, from: 'ana@example.cm' });
    logger.info({
      user: { phone: '+237670000001', email: 'x', password: 'hunter2' },
      otp: 'abc',
      code: 1234,
    });
    const text = JSON.stringify(lines);
    for (const secret of [
      '670 00 00 01',
      '482913',
      'ana@example.cm',
      '+237670000001',
      'hunter2',
      'abc',
      '1234',
    ])
      expect(text).not.toContain(secret);
    expect(lines[1]).toMatchObject({
      user: { phone: '[redacted]', email: '[redacted]', password: '[redacted]' },
    });
  });

  it('judges values, not names', () => {
    expect(looksPersonal('ECONNREFUSED')).toBe(false);
    expect(looksPersonal('2026-12-04')).toBe(false);
    expect(looksPersonal('237670000001')).toBe(true);
    expect(looksPersonal('0042')).toBe(true);
  });
});
