import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import { identityErrors } from './errors.js';
import type { KeyValue } from './kv.js';

/**
 * What every SMS the identity context sends on a stranger's request costs (SMS pumping: one
 * address asking codes for hundreds of premium numbers). Three hourly budgets are spent together
 * or not at all: per number (harassment and pumping of one number), per address (one client
 * spraying many numbers) and for the whole platform (the bill, whatever the spread). The counters
 * live in the key-value store (Redis, or in-process) under keyed hashes, never the number or the
 * address in clear. A window starts with its first SMS and lasts an hour.
 */
export const SMS_WINDOW_MS = 3_600_000;

/** Every route that sends an SMS on request; the `route` label of the metrics. */
export const SMS_ROUTES = ['register', 'guest', 'phone_change', 'password_reset', 'social_link'] as const;
export type SmsRoute = (typeof SMS_ROUTES)[number];

export const SMS_REFUSALS = ['per_number', 'per_address', 'global'] as const;
export type SmsRefusal = (typeof SMS_REFUSALS)[number];

export interface SmsLimits {
  perNumberPerHour: number;
  perAddressPerHour: number;
  perHour: number;
}

export interface SmsBudget {
  /** Spends one SMS of each budget or throws (429 per number or address, 503 globally). */
  spend(route: SmsRoute, phone: string, ip: string | null): Promise<void>;
  /** The same, returning the refusal instead of throwing (routes that answer the same either way). */
  trySpend(route: SmsRoute, phone: string, ip: string | null): Promise<SmsRefusal | undefined>;
  /** Counts an SMS that left (after the transport accepted it). */
  sent(route: SmsRoute): void;
  /** `identity_sms_sent_total{route}` and `identity_sms_refused_total{route,reason}`. */
  readonly metrics: readonly Counter[];
}

export function createSmsBudget(options: {
  kv: KeyValue;
  limits: SmsLimits;
  limitKey: (value: string) => string;
  logger?: Pick<Logger, 'warn'>;
}): SmsBudget {
  const { kv, limits, limitKey } = options;
  const sentTotal = new Counter({
    name: 'identity_sms_sent_total',
    help: 'SMS sent on request (codes, reset links, account notices) by route',
    labelNames: ['route'] as const,
    registers: [],
  });
  const refusedTotal = new Counter({
    name: 'identity_sms_refused_total',
    help: 'SMS refused by the hourly budgets, by route and by the budget that was spent',
    labelNames: ['route', 'reason'] as const,
    registers: [],
  });

  async function trySpend(route: SmsRoute, phone: string, ip: string | null) {
    const budgets: { key: string; limit: number; reason: SmsRefusal }[] = [
      { key: `sms:n:${limitKey(phone)}`, limit: limits.perNumberPerHour, reason: 'per_number' },
      ...(ip === null
        ? []
        : [
            {
              key: `sms:a:${limitKey(`ip:${ip}`)}`,
              limit: limits.perAddressPerHour,
              reason: 'per_address' as const,
            },
          ]),
      { key: 'sms:all', limit: limits.perHour, reason: 'global' },
    ];
    const refused = await kv.incrementBelow(budgets, SMS_WINDOW_MS);
    if (refused === null) return { refusal: undefined, retryAfterSeconds: 0 };
    const reason = budgets[refused.exhausted]!.reason;
    refusedTotal.inc({ route, reason });
    if (reason === 'global') options.logger?.warn({ route }, 'the hourly SMS budget is spent');
    return { refusal: reason, retryAfterSeconds: Math.max(1, Math.ceil(refused.retryAfterMs / 1000)) };
  }

  return {
    async spend(route, phone, ip) {
      const { refusal, retryAfterSeconds } = await trySpend(route, phone, ip);
      if (refusal === undefined) return;
      if (refusal === 'global') {
        throw identityErrors.of(
          'unavailable',
          'sms_budget_exhausted',
          'No more codes can be sent for now; retry later.',
          { retryAfterSeconds },
        );
      }
      throw identityErrors.of(
        'rate_limited',
        'otp_rate_limited',
        refusal === 'per_number'
          ? 'Too many codes were sent to this number; retry later.'
          : 'Too many codes were requested from this network; retry later.',
        { retryAfterSeconds, details: { limit: refusal === 'per_number' ? 'number' : 'address' } },
      );
    },
    trySpend: async (route, phone, ip) => (await trySpend(route, phone, ip)).refusal,
    sent: (route) => sentTotal.inc({ route }),
    metrics: [sentTotal, refusedTotal],
  };
}
