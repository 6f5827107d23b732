import { describe, expect, it } from 'vitest';
import { smsCommandOf, smsPreferencesAfter } from './sms-commands.js';

describe('SMS commands', () => {
  it('given STATUS in any case, French or with words after, then status', () => {
    for (const text of ['STATUS', 'status', ' Status please', 'STATUT', 'suivi 123', 'Status\n'])
      expect(smsCommandOf(text)).toBe('status');
  });

  it('given STOP or ARRÊT in any case, then stop; given START or DÉMARRER, then start', () => {
    for (const text of ['STOP', 'stop', ' Stop please', 'ARRET', 'arrêt', 'Arrêt\n'])
      expect(smsCommandOf(text)).toBe('stop');
    for (const text of ['START', 'start', 'Démarrer', 'DEMARRER svp'])
      expect(smsCommandOf(text)).toBe('start');
  });

  it('given anything else, empty or huge, then help', () => {
    for (const text of [
      '',
      'HELLO',
      'STATU',
      'STATUSES',
      'STOPPED',
      'STARTS',
      '1',
      'x'.repeat(100_000),
      ` ${'STATUS'.padStart(200)}`,
      ` ${'STOP'.padStart(200)}`,
    ])
      expect(smsCommandOf(text)).toBe('help');
  });
});

describe('SMS opt-out preferences', () => {
  it('given the defaults, when STOP, then no SMS for orders, wallet or promotions; push, e-mail and security untouched', () => {
    const { before, after, changed } = smsPreferencesAfter(null, 'stop');
    expect(changed).toBe(true);
    expect(before.order_updates.sms).toBe(true);
    expect(after.order_updates).toEqual({ push: true, sms: false, email: false });
    expect(after.wallet).toEqual({ push: true, sms: false, email: false });
    expect(after.promotions.sms).toBe(false);
    expect(after.security).toEqual(before.security);
    expect(after.quietHours).toBeNull();
  });

  it('given a stopped person, when STOP again, then nothing changes', () => {
    const { after } = smsPreferencesAfter(null, 'stop');
    expect(smsPreferencesAfter(after, 'stop').changed).toBe(false);
  });

  it('given a stopped person with quiet hours, when START, then orders and wallet SMS again but not promotions', () => {
    const stored = {
      ...smsPreferencesAfter(null, 'stop').after,
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Africa/Douala' },
    };
    const { after, changed } = smsPreferencesAfter(stored, 'start');
    expect(changed).toBe(true);
    expect(after.order_updates.sms).toBe(true);
    expect(after.wallet.sms).toBe(true);
    expect(after.promotions.sms).toBe(false);
    expect(after.quietHours).toEqual(stored.quietHours);
    expect(smsPreferencesAfter(after, 'start').changed).toBe(false);
  });
});
