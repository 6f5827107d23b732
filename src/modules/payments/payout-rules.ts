/**
 * When a payout job may send money (pure). A disbursement request whose answer we lost (a crash,
 * a timeout) may have paid the payee; a provider that does not deduplicate our reference would
 * pay again if we simply resent it. So the job sends at most once without proof:
 *
 *   never sent                         → mark `sent_at`, then send
 *   sent, provider reference recorded  → read its status
 *   sent, reference lost               → ask the provider what it holds under our reference:
 *       one transaction                → adopt it (record its reference, read on)
 *       several                        → NEEDS_REVIEW (the provider paid more than once)
 *       none, and the request is old   → resend (the provider proved nothing was made)
 *       none, but the request is young → wait (it may still be on its way in)
 *       the provider cannot tell       → NEEDS_REVIEW (finance decides, never a blind resend)
 */
import type { ExternalReferenceLookup, TransactionStatus } from './providers/index.js';

/** A lost request younger than this may still reach the provider: never resend before. */
export const RESEND_AFTER_MS = 60_000;
/** Resends (each proven unnecessary-to-avoid) before finance must look. */
export const MAX_SENDS = 3;

export interface SendState {
  providerReference: string | null;
  sentAt: Date | null;
  sends: number;
}

export type SendStep = { action: 'read'; reference: string } | { action: 'send' } | { action: 'lookup' };

export function nextSendStep(state: SendState): SendStep {
  if (state.providerReference !== null) return { action: 'read', reference: state.providerReference };
  if (state.sentAt === null) return { action: 'send' };
  return { action: 'lookup' };
}

export type LookupDecision =
  | { action: 'adopt'; transaction: TransactionStatus }
  | { action: 'resend' }
  | { action: 'wait' }
  | { action: 'review'; reason: string };

export function afterLookup(lookup: ExternalReferenceLookup, state: SendState, now: Date): LookupDecision {
  switch (lookup.verdict) {
    case 'found':
      if (lookup.transactions.length === 1) return { action: 'adopt', transaction: lookup.transactions[0]! };
      return {
        action: 'review',
        reason: `DUPLICATE_AT_PROVIDER: ${lookup.transactions.length} transactions carry this payout's reference`,
      };
    case 'absent': {
      const sentAt = state.sentAt?.getTime() ?? 0;
      if (now.getTime() - sentAt < RESEND_AFTER_MS) return { action: 'wait' };
      if (state.sends >= MAX_SENDS)
        return { action: 'review', reason: `NOT_AT_PROVIDER: ${state.sends} requests made nothing` };
      return { action: 'resend' };
    }
    case 'unknown':
      return { action: 'review', reason: `PROVIDER_CANNOT_CONFIRM: ${lookup.reason}` };
    default: {
      const unknown: never = lookup;
      throw new Error(`unknown lookup verdict ${JSON.stringify(unknown)}`);
    }
  }
}
