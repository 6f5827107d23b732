/**
 * SMS commands for customers without the app (issue #25, docs/ussd.md): an inbound SMS whose
 * first word is a keyword. Pure: the service looks up what the answer needs.
 */
import { preferencesOf, type NotificationPreferences } from '../identity/index.js';

export type SmsCommand = 'status' | 'stop' | 'start' | 'help';

/** Longer messages are no command (and are not read further). */
const MAX_COMMAND_CHARS = 160;

const KEYWORDS: Record<string, SmsCommand> = {
  STATUS: 'status',
  STATUT: 'status',
  SUIVI: 'status',
  STOP: 'stop',
  ARRET: 'stop',
  ARRÊT: 'stop',
  START: 'start',
  DEMARRER: 'start',
  DÉMARRER: 'start',
};

/** `STATUS`, `statut`, ` Status please` → status; `STOP`/`ARRÊT` → stop; `START` → start; else help. */
export function smsCommandOf(text: string): SmsCommand {
  const word = text.slice(0, MAX_COMMAND_CHARS).trim().split(/\s+/, 1)[0]?.toUpperCase() ?? '';
  return KEYWORDS[word] ?? 'help';
}

/** The notification kinds whose SMS `STOP` silences and `START` brings back. */
const STOPPED_KINDS = ['order_updates', 'wallet', 'promotions'] as const;
const STARTED_KINDS = ['order_updates', 'wallet'] as const;

/**
 * The preferences after `STOP` (no SMS for orders, wallet or promotions) or `START` (SMS for
 * orders and wallet again; promotions stay as they are: marketing needs its own opt-in). Security
 * messages (codes the person asks for) ignore the switches, as in notify. Answers `changed: false`
 * when the command changes nothing (a repeated STOP).
 */
export function smsPreferencesAfter(
  stored: unknown,
  command: 'stop' | 'start',
): { before: NotificationPreferences; after: NotificationPreferences; changed: boolean } {
  const before = preferencesOf(stored);
  const after: NotificationPreferences = structuredClone(before);
  const kinds = command === 'stop' ? STOPPED_KINDS : STARTED_KINDS;
  for (const kind of kinds) after[kind] = { ...after[kind], sms: command === 'start' };
  const changed = kinds.some((kind) => before[kind].sms !== after[kind].sms);
  return { before, after, changed };
}
