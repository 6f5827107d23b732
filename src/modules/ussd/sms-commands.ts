/**
 * SMS commands for customers without the app (issue #25, docs/ussd.md): an inbound SMS whose
 * first word is a keyword. Pure: the service looks up what the answer needs.
 */
import { smsPreferencesAfter } from '../identity/index.js';

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

/** The preferences after `STOP` or `START`: identity's rule (it also silences a new account of a number that sent `STOP` first). */
export { smsPreferencesAfter };
