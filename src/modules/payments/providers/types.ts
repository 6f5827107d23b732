/**
 * The provider port: what the payments, wallet, escrow and payout contexts need from a Mobile
 * Money aggregator, in our own vocabulary. Adapters translate each provider's wire format to
 * this; nothing outside `providers/` ever sees a CamPay or MTN field name.
 *
 * Amounts are integer minor units (XAF has exponent 0) as bigint; phones are E.164
 * (`+2376xxxxxxxx`); statuses are the three every provider shares.
 */

export const PROVIDER_NAMES = ['campay', 'mtn_momo', 'orange_money'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export const OPERATORS = ['MTN', 'ORANGE'] as const;
export type Operator = (typeof OPERATORS)[number];

export type ProviderStatus = 'PENDING' | 'SUCCESSFUL' | 'FAILED';

/** MTN keeps collections and disbursements under different paths; CamPay does not care. */
export type TransactionKind = 'collection' | 'disbursement';

export interface CollectRequest {
  amountMinor: bigint;
  currency: string;
  phoneE164: string;
  /** Shown to the payer on the USSD prompt; keep it short and free of personal data. */
  description: string;
  /** Our id for the attempt (a UUID): the idempotency key on providers that honour one. */
  externalReference: string;
}

export interface CollectResult {
  provider: ProviderName;
  providerReference: string;
  status: ProviderStatus;
  /** The code the payer dials to approve, when the provider gives one. */
  ussdCode?: string;
  operator: Operator;
}

export type DisburseRequest = CollectRequest;

export interface DisburseResult {
  provider: ProviderName;
  providerReference: string;
  status: ProviderStatus;
  operator: Operator;
}

export interface TransactionStatus {
  provider: ProviderName;
  kind: TransactionKind;
  providerReference: string;
  status: ProviderStatus;
  /** Why it FAILED, in the provider's own words (e.g. NOT_ENOUGH_FUNDS, APPROVAL_REJECTED). */
  reason?: string;
  amountMinor: bigint;
  currency: string;
  operator?: Operator;
  /** The operator's own transaction id (CamPay operator_reference, MTN financialTransactionId). */
  operatorReference?: string;
  externalReference?: string;
}

export interface HistoryQuery {
  from: Date;
  /** Exclusive. */
  to: Date;
}

/** One line of the provider's statement, for reconciliation. */
export interface HistoryRow {
  provider: ProviderName;
  providerReference: string;
  externalReference?: string;
  /** The provider's short code (CamPay `CP…`). */
  code?: string;
  kind: TransactionKind;
  amountMinor: bigint;
  /** The provider's charge on this transaction (a fee we pay). */
  feeMinor: bigint;
  currency: string;
  status: ProviderStatus;
  at: Date;
  operator?: Operator;
  operatorReference?: string;
  phoneE164?: string;
}

export interface ProviderBalance {
  provider: ProviderName;
  currency: string;
  totalMinor: bigint;
  byOperator: Partial<Record<Operator, bigint>>;
}

/** The parts of an HTTP request a webhook verifier needs; framework-free on purpose. */
export interface WebhookRequest {
  method: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  rawBody?: string | Buffer;
}

export type WebhookVerdict =
  | {
      accepted: true;
      providerReference: string;
      /** Our reference as the webhook carries it (CamPay's `external_reference`); a hint like the rest. */
      externalReference?: string;
      /** When the webhook says (MTN's callback URL does; CamPay's webhook does not). */
      kind?: TransactionKind;
      /** Only a hint: the caller re-reads `status` before acting on it. */
      hintedStatus?: ProviderStatus;
    }
  | { accepted: false; reason: string };

/** A search for the transactions a provider holds under our external reference. */
export interface ExternalReferenceQuery {
  externalReference: string;
  kind: TransactionKind;
  /** When our first request with this reference may have left (a statement window starts here). */
  since: Date;
}

/**
 * What a provider says it holds under our external reference. `absent` is proof that nothing
 * was created (the provider answered the question); `unknown` means it cannot tell (it keeps no
 * such index, or its statement does not carry our reference), so the caller must not act as if
 * nothing happened.
 */
export type ExternalReferenceLookup =
  | { verdict: 'found'; transactions: TransactionStatus[] }
  | { verdict: 'absent' }
  | { verdict: 'unknown'; reason: string };

export interface PaymentProvider {
  readonly name: ProviderName;
  /** The operators this provider can charge and pay. */
  readonly operators: readonly Operator[];
  collect(request: CollectRequest): Promise<CollectResult>;
  status(providerReference: string, kind?: TransactionKind): Promise<TransactionStatus>;
  disburse(request: DisburseRequest): Promise<DisburseResult>;
  /** Absent where the provider has no statement API (MTN MoMo Open API). */
  history?(query: HistoryQuery): Promise<HistoryRow[]>;
  balance(): Promise<ProviderBalance>;
  /**
   * The transactions made under our external reference (MTN: the X-Reference-Id we chose;
   * CamPay: its statement's `external_reference`). Before repeating a collect or a payout whose
   * answer we lost, this is the proof of whether the first one happened.
   */
  findByExternalReference(query: ExternalReferenceQuery): Promise<ExternalReferenceLookup>;
  verifyWebhook(request: WebhookRequest): Promise<WebhookVerdict>;
}
