import { Counter, type Metric } from 'prom-client';

/** Messages and their cost per channel; registered on /metrics by the context's routes. */
export function createNotifyMetrics() {
  const intents = new Counter({
    name: 'notify_intents_total',
    help: 'Notification intents recorded (new ones only; a replay counts nothing), by kind',
    labelNames: ['kind'] as const,
    registers: [],
  });
  const messages = new Counter({
    name: 'notify_messages_total',
    help: 'Sends of notification intents by channel and outcome (sent, retried, capped, dead_lettered, expired)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [],
  });
  const costXaf = new Counter({
    name: 'notify_cost_xaf_total',
    help: 'What the messages sent cost, in XAF, by channel (NOTIFY_SMS_COST_XAF, NOTIFY_EMAIL_COST_XAF)',
    labelNames: ['channel'] as const,
    registers: [],
  });
  return { intents, messages, costXaf, all: [intents, messages, costXaf] as Metric[] };
}

export type NotifyMetrics = ReturnType<typeof createNotifyMetrics>;
