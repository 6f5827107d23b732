import { describe, expect, it } from 'vitest';
import {
  checkTransition,
  disputeOf,
  escalatedDueAt,
  mayWrite,
  priorityOf,
  raised,
  slaBreaches,
  slaDueAt,
  type SupportPolicy,
} from './rules.js';

const policy: SupportPolicy = {
  slaMinutes: { urgent: 60, high: 240, normal: 1_440, low: 4_320 },
  firstResponseMinutes: { urgent: 15, high: 60, normal: 240, low: 720 },
  highValueOrderXaf: 20_000,
  reopenDays: 7,
};
const at = new Date('2026-12-05T10:00:00Z');
const days = (count: number) => new Date(at.getTime() + count * 86_400_000);

describe('support rules', () => {
  it('derives the priority from the category, one step higher for a high-value order, never past urgent', () => {
    expect(priorityOf('other', undefined, policy)).toBe('low');
    expect(priorityOf('account', 19_999, policy)).toBe('normal');
    expect(priorityOf('account', 20_000, policy)).toBe('high');
    expect(priorityOf('order_problem', 50_000, policy)).toBe('urgent');
    expect(raised('urgent')).toBe('urgent');
  });

  it('gives the SLA due time per priority; an escalation never moves it later', () => {
    expect(slaDueAt(at, 'high', policy).toISOString()).toBe('2026-12-05T14:00:00.000Z');
    const current = slaDueAt(at, 'low', policy);
    expect(escalatedDueAt(current, at, 'normal', policy)).toEqual(slaDueAt(at, 'normal', policy));
    const soon = new Date(at.getTime() + 10 * 60_000);
    expect(escalatedDueAt(soon, at, 'normal', policy)).toEqual(soon);
  });

  it('lets staff run the workflow and the opener only close or reopen', () => {
    const open = { status: 'open' as const, resolvedAt: null };
    expect(checkTransition(open, 'pending', 'staff', at, policy)).toBeUndefined();
    expect(checkTransition(open, 'resolved', 'staff', at, policy)).toBeUndefined();
    expect(checkTransition(open, 'closed', 'staff', at, policy)).toEqual({
      code: 'transition_not_allowed',
      from: 'open',
      to: 'closed',
    });
    expect(checkTransition(open, 'resolved', 'opener', at, policy)?.code).toBe('transition_not_allowed');
    expect(checkTransition(open, 'open', 'staff', at, policy)?.code).toBe('status_unchanged');
    const resolved = { status: 'resolved' as const, resolvedAt: at };
    expect(checkTransition(resolved, 'closed', 'opener', at, policy)).toBeUndefined();
  });

  it('reopens until reopenDays after the resolution, from resolved or closed', () => {
    for (const status of ['resolved', 'closed'] as const) {
      const ticket = { status, resolvedAt: at };
      expect(checkTransition(ticket, 'open', 'opener', days(6.99), policy)).toBeUndefined();
      expect(checkTransition(ticket, 'open', 'staff', days(7), policy)).toEqual({
        code: 'reopen_window_closed',
        closedAt: days(7),
      });
    }
  });

  it('lets staff take an escalated ticket out of escalation, never into it by status, and not the opener', () => {
    const escalated = { status: 'escalated' as const, resolvedAt: null };
    for (const to of ['open', 'pending', 'resolved'] as const)
      expect(checkTransition(escalated, to, 'staff', at, policy)).toBeUndefined();
    expect(checkTransition(escalated, 'closed', 'staff', at, policy)?.code).toBe('transition_not_allowed');
    expect(checkTransition(escalated, 'resolved', 'opener', at, policy)?.code).toBe('transition_not_allowed');
    const open = { status: 'open' as const, resolvedAt: null };
    expect(checkTransition(open, 'escalated', 'staff', at, policy)?.code).toBe('transition_not_allowed');
    expect(mayWrite('escalated', 'opener')).toBe(true);
  });

  it('lets the opener write while open or pending, staff until closed', () => {
    expect(mayWrite('pending', 'opener')).toBe(true);
    expect(mayWrite('resolved', 'opener')).toBe(false);
    expect(mayWrite('resolved', 'staff')).toBe(true);
    expect(mayWrite('closed', 'staff')).toBe(false);
  });

  it("shows the order's dispute from its status", () => {
    expect(disputeOf('DELIVERED')).toBe('none');
    expect(disputeOf('DISPUTED')).toBe('open');
    expect(disputeOf('RESOLVED')).toBe('resolved');
  });

  it('finds the breaches of an open ticket not yet alerted: first response and resolution', () => {
    const minutes = (count: number) => new Date(at.getTime() + count * 60_000);
    const ticket = {
      status: 'open' as const,
      slaDueAt: minutes(240),
      slaAlertedAt: null,
      firstResponseDueAt: minutes(60),
      firstRespondedAt: null,
      firstResponseAlertedAt: null,
    };
    expect(slaBreaches(ticket, minutes(59))).toEqual([]);
    expect(slaBreaches(ticket, minutes(60))).toEqual(['first_response']);
    expect(slaBreaches(ticket, minutes(300))).toEqual(['first_response', 'resolution']);
    expect(slaBreaches({ ...ticket, firstRespondedAt: minutes(30) }, minutes(300))).toEqual(['resolution']);
    expect(
      slaBreaches(
        { ...ticket, firstResponseAlertedAt: minutes(61), slaAlertedAt: minutes(241) },
        minutes(300),
      ),
    ).toEqual([]);
    expect(slaBreaches({ ...ticket, firstResponseDueAt: null }, minutes(100))).toEqual([]);
    expect(slaBreaches({ ...ticket, status: 'escalated' }, minutes(300))).toEqual([
      'first_response',
      'resolution',
    ]);
    expect(slaBreaches({ ...ticket, status: 'pending' }, minutes(300))).toEqual([]);
    expect(slaBreaches({ ...ticket, status: 'resolved' }, minutes(300))).toEqual([]);
  });
});
