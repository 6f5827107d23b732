/**
 * SMS commands for customers without the app (issue #25, docs/ussd.md): an inbound SMS whose
 * first word is a keyword. Pure: the service looks up what the answer needs.
 */
export type SmsCommand = 'status' | 'help';

/** Longer messages are no command (and are not read further). */
const MAX_COMMAND_CHARS = 160;

/** `STATUS`, `statut`, ` Status please` → status; anything else → help. */
export function smsCommandOf(text: string): SmsCommand {
  const word = text.slice(0, MAX_COMMAND_CHARS).trim().split(/\s+/, 1)[0]?.toUpperCase() ?? '';
  return word === 'STATUS' || word === 'STATUT' || word === 'SUIVI' ? 'status' : 'help';
}
