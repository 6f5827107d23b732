/**
 * Providers' webhooks about collections. A webhook is only a hint: it names an attempt (by the
 * provider's reference or ours), and what counts is the status re-read from the provider. A
 * webhook may come before our record of its attempt: it is noted, and the initiate that records
 * the attempt catches up (no lost wake-up), or a recheck job looks again.
 */
import type { Logger } from 'pino';
import type { JobQueue } from '../../jobs/index.js';
import { createBoundedMap } from './bounded-map.js';
import { paymentsErrors } from './errors.js';
import { isUuid } from './ids.js';
import type { PaymentAttemptsRepository } from './payment-attempts-repository.js';
import type { KnownReference, PaymentStatus } from './payment-status.js';
import type { PaymentRouter, ProviderName, WebhookRequest } from './providers/index.js';

export const WEBHOOK_RECHECK_QUEUE = 'payments-webhook-recheck';
/** A webhook for a reference not recorded yet is looked up again this many times (250 ms, doubling). */
const WEBHOOK_RECHECKS = 5;
const MAX_EARLY_WEBHOOKS = 10_000;
const STARTED_HERE_MAX = 20_000;

export interface PaymentWebhooksOptions {
  attempts: PaymentAttemptsRepository;
  status: PaymentStatus;
  router: PaymentRouter;
  queue: JobQueue;
  logger: Logger;
  /** Webhook references that are not collections (payout disbursements) go here. */
  onUnknownReference?: (
    provider: ProviderName,
    providerReference: string,
    externalReference?: string,
  ) => Promise<boolean>;
}

export type PaymentWebhooks = ReturnType<typeof createPaymentWebhooks>;

export function createPaymentWebhooks(options: PaymentWebhooksOptions) {
  const { attempts, status, router, queue, logger } = options;
  /** Webhooks that arrived before our record of their attempt (this instance), by provider:reference. */
  const earlyWebhooks = new Map<string, number>();
  // Attempts started by this process, by provider reference (which never changes): the webhook
  // that follows finds its payment without a query. Bounded; other instances' webhooks read the row.
  const startedHere = createBoundedMap<KnownReference & { payment_id: string }>(STARTED_HERE_MAX);

  function noteEarlyWebhook(provider: ProviderName, providerReference: string): void {
    if (earlyWebhooks.size >= MAX_EARLY_WEBHOOKS) earlyWebhooks.delete(earlyWebhooks.keys().next().value!);
    earlyWebhooks.set(`${provider}:${providerReference}`, Date.now());
  }

  /** An attempt this process just recorded at its provider: its webhook finds it without a query. */
  function started(paymentId: string, reference: KnownReference): void {
    startedHere.set(`${reference.provider}:${reference.provider_reference}`, {
      payment_id: paymentId,
      ...reference,
    });
  }

  /** After recording an attempt: if its webhook already came, apply it now instead of waiting for the recheck. */
  function catchUpEarlyWebhook(paymentId: string, provider: ProviderName, providerReference: string): void {
    if (!earlyWebhooks.delete(`${provider}:${providerReference}`)) return;
    void status
      .refresh(paymentId)
      .catch((error: unknown) =>
        logger.warn(
          { err: error, paymentId },
          'early webhook catch-up failed; the recheck or the poll will apply it',
        ),
      );
  }

  /**
   * A webhook names a reference we have not recorded, for an attempt of ours (by our id): its
   * initiate is still waiting for the provider's answer, or crashed after the provider took it.
   * The provider is asked about the reference, and it is adopted only if the provider says it
   * is ours (a webhook's fields are hints).
   */
  async function adoptFromWebhook(
    provider: ProviderName,
    providerReference: string,
    ours: string,
  ): Promise<boolean> {
    if (!isUuid(ours)) return false;
    const attempt = await attempts.referenceOf(ours);
    if (attempt === undefined) return false;
    const own = attempt.provider === provider && attempt.provider_reference === providerReference;
    if (!own) {
      const found = await router.status(provider, providerReference, 'collection');
      if (found.externalReference?.toLowerCase() !== ours.toLowerCase()) {
        logger.warn(
          { paymentId: ours, provider },
          'a webhook named a reference the provider does not tie to this attempt',
        );
        return false;
      }
      if (attempt.provider_reference === null) await status.adoptReference(ours, provider, found);
    }
    // This collection's own status, applied through the decider: the attempt's collection, or a
    // second provider's (the payer paid twice), which refresh gives back to the wallet.
    await status.refresh(ours, {
      provider,
      provider_reference: providerReference,
      operator: attempt.operator,
    });
    return true;
  }

  async function scheduleWebhookRecheck(
    provider: ProviderName,
    providerReference: string,
    attempt: number,
  ): Promise<void> {
    if (attempt > WEBHOOK_RECHECKS) return;
    const jobId = `recheck-${provider}-${providerReference.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100)}-${attempt}`;
    await queue.enqueue(
      WEBHOOK_RECHECK_QUEUE,
      { provider, providerReference, attempt },
      { jobId, delayMs: 250 * 2 ** (attempt - 1) },
    );
  }

  async function handleWebhook(
    provider: ProviderName,
    request: WebhookRequest,
  ): Promise<{ applied: boolean }> {
    const verdict = await router.verifyWebhook(provider, request);
    if (!verdict.accepted)
      throw paymentsErrors.of(
        'unauthorized',
        'webhook_signature_invalid',
        'The webhook signature does not verify.',
      );
    const reference = verdict.providerReference;
    // Ours as the webhook tells it: CamPay sends our external reference; MTN's reference id is ours.
    const ours = verdict.externalReference ?? reference;
    const row =
      startedHere.get(`${provider}:${reference}`) ?? (await attempts.findByReference(provider, reference));
    if (row !== undefined) {
      // The webhook is only a hint: what counts is the status re-read from the provider.
      await status.refresh(row.payment_id, row as KnownReference);
      return { applied: true };
    }
    if (verdict.kind !== 'disbursement' && (await adoptFromWebhook(provider, reference, ours)))
      return { applied: true };
    // Not a collection of ours by either reference (yet): a payout's, or an attempt whose record
    // is not visible yet. Note it, then look once more: either this lookup sees the record, or
    // the initiate that writes it sees the note (no lost wake-up).
    noteEarlyWebhook(provider, reference);
    const handled = (await options.onUnknownReference?.(provider, reference, ours)) ?? false;
    const recorded = handled ? undefined : await attempts.findByReference(provider, reference);
    if (handled || recorded !== undefined) earlyWebhooks.delete(`${provider}:${reference}`);
    if (recorded !== undefined) await status.refresh(recorded.payment_id);
    else if (!handled) await scheduleWebhookRecheck(provider, reference, 1);
    return { applied: handled || recorded !== undefined };
  }

  async function recheckWebhook(
    provider: ProviderName,
    providerReference: string,
    attempt: number,
  ): Promise<void> {
    const row = await attempts.findByReference(provider, providerReference);
    if (row !== undefined) await status.refresh(row.payment_id);
    else if (!((await options.onUnknownReference?.(provider, providerReference)) ?? false))
      await scheduleWebhookRecheck(provider, providerReference, attempt + 1);
  }

  return { handleWebhook, recheckWebhook, started, catchUpEarlyWebhook };
}
