import { describe, expect, it } from 'vitest';
import { planDispatch } from './delivery.js';

describe('newsletters in notify', () => {
  it("notify sends a newsletter only on the campaign's channels the person allows", () => {
    const preferences = {
      order_updates: { push: true, sms: true, email: false },
      promotions: { push: true, sms: false, email: true },
      wallet: { push: true, sms: true, email: false },
      security: { push: true, sms: true, email: true },
      quietHours: null,
    };
    const intent = {
      id: 'i',
      recipient_id: 'r',
      kind: 'marketing.newsletter',
      priority: 'low' as const,
      requires_ack: false,
      receipt: false,
    };
    const recipient = { phone: '+237650000000', email: 'a@b.cm', preferences };
    const at = new Date('2026-12-07T10:00:00Z');
    const channels = (chosen: string) =>
      planDispatch({ ...intent, paramsClear: { channels: chosen } }, recipient, true, at).channels.map(
        (job) => job.channel,
      );
    expect(channels('email,push,sms')).toEqual(['push', 'email']); // SMS not allowed by the person
    expect(channels('sms')).toEqual([]);
    expect(channels('email')).toEqual(['email']);
    expect(channels('push')).toEqual(['push']);
  });
});
