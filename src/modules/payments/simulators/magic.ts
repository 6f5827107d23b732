/**
 * Magic test phone numbers: the last four digits of any MTN or Orange number choose what the
 * simulators do with it, so every path (failure, cancellation, duplicate or missing webhook,
 * outage, timeout) can be reached from the API with a real-looking number.
 *
 * `0005` (503: not processed) and `0006` (timeout) break only the primary (CamPay): the router
 * fails over to MTN MoMo after the 503, and keeps the timed-out one with CamPay (it may have
 * acted). `0007` (500) breaks every simulator.
 */
export type MagicBehaviour =
  | 'succeed'
  | 'fail'
  | 'pending_forever'
  | 'webhook_twice'
  | 'no_webhook'
  | 'server_error'
  | 'unavailable'
  | 'timeout';

export type SimulatorName = 'campay' | 'mtn_momo' | 'orange_money';

export const MAGIC_ENDINGS = {
  '0001': 'fail',
  '0002': 'pending_forever',
  '0003': 'webhook_twice',
  '0004': 'no_webhook',
  '0005': 'unavailable', // CamPay only: 503, nothing created
  '0006': 'timeout', // CamPay only
  '0007': 'server_error', // every simulator
} as const satisfies Record<string, MagicBehaviour>;

/** Example numbers per operator, for docs and tests (MTN 67x, Orange 69x). */
export const MAGIC_NUMBERS = {
  MTN: {
    fail: '+237670000001',
    pendingForever: '+237670000002',
    webhookTwice: '+237670000003',
    noWebhook: '+237670000004',
    primaryServerError: '+237670000005',
    primaryTimeout: '+237670000006',
    everywhereServerError: '+237670000007',
    succeed: '+237670001234',
  },
  ORANGE: {
    fail: '+237690000001',
    pendingForever: '+237690000002',
    webhookTwice: '+237690000003',
    noWebhook: '+237690000004',
    primaryServerError: '+237690000005',
    primaryTimeout: '+237690000006',
    everywhereServerError: '+237690000007',
    succeed: '+237690001234',
  },
} as const;

/** What `simulator` does with a number (any spelling; only the last four digits count). */
export function magicBehaviour(phone: string, simulator: SimulatorName): MagicBehaviour {
  const ending = phone.replace(/\D/g, '').slice(-4) as keyof typeof MAGIC_ENDINGS;
  const behaviour: MagicBehaviour = MAGIC_ENDINGS[ending] ?? 'succeed';
  const primaryOnly = ending === '0005' || ending === '0006';
  if (primaryOnly && simulator !== 'campay') return 'succeed';
  return behaviour;
}

/** How many webhooks a settled transaction sends. */
export function webhookCopies(behaviour: MagicBehaviour): number {
  if (behaviour === 'webhook_twice') return 2;
  if (behaviour === 'no_webhook') return 0;
  return 1;
}
