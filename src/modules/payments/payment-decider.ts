/**
 * One Mobile Money payment attempt as an event-sourced aggregate (stream `payment-<id>`):
 *
 *   PaymentInitiated                    recorded BEFORE the provider is asked (no reference yet)
 *     → PaymentRequested                the provider took it (or the sweep/a webhook found it by our id)
 *     → PaymentSucceeded | PaymentFailed | PaymentExpired (15 minutes PENDING)
 *   PaymentInitiated → PaymentFailed { beforeRequest }   refused, unreachable, or proven never submitted
 *   PaymentExpired → PaymentSucceeded { afterExpiry: true }   (a late success never vanishes)
 *   PaymentFailed before any request → PaymentRequested → PaymentSucceeded { afterExpiry: true }
 *     (a collect whose answer was lost may still have reached the payer)
 *
 * The status applied always comes from re-reading the provider (`ApplyProviderStatus`), never
 * from a webhook's body; it changes the payment only while it is pending (or expired, for a late
 * success), so duplicates and replays change nothing. What is credited is never more than was
 * requested (`creditedAmount`). Pure: no I/O, time is an argument.
 */
import { providerFeeMinor } from '../../../ledger/rules/index.js';
import type { Operator, ProviderName } from './providers/index.js';

export const PAYMENT_STREAM_PREFIX = 'payment-';
export const paymentStream = (paymentId: string): string => `${PAYMENT_STREAM_PREFIX}${paymentId}`;
export const PAYMENT_EXPIRY_MINUTES = 15;

/**
 * What the money is for: a wallet top-up, an order's payment into its escrow, or a part (deposit
 * or balance) of a bulk order, into that request's own escrow (community, docs/community.md).
 */
export type PaymentPurpose =
  | { kind: 'topup' }
  | { kind: 'order'; orderId: string }
  | { kind: 'bulk_order'; bulkOrderId: string; part: 'deposit' | 'balance' };

export type PaymentStatus = 'NONE' | 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'EXPIRED';

export interface PaymentInitiatedData {
  paymentId: string;
  userId: string;
  purpose: PaymentPurpose;
  amountMinor: number;
  currency: 'XAF';
  /** E.164; personal data (crypto-shredded with the user's key). */
  phone: string;
  operator: Operator;
  idempotencyKey: string;
  at: string;
  expiresAt: string;
}

export interface PaymentRequestedData {
  provider: ProviderName;
  providerReference: string;
  ussdCode: string | null;
  /** Providers passed over before this one answered (failover), for the audit trail. */
  failedOver: string[];
  at: string;
}

export interface PaymentSucceededData {
  /** What we book: the amount requested, or less when the provider proves it collected less. */
  amountMinor: number;
  /** What the provider reported (re-read); absent on events older than this field (= amountMinor). */
  reportedMinor?: number;
  /** The provider's fee on it (our estimate at the published rate; reconciliation compares). */
  feeMinor: number;
  operatorReference: string | null;
  afterExpiry: boolean;
  at: string;
}

export interface PaymentFailedData {
  reason: string;
  at: string;
  /** Failed before any provider reference was known: a success found later by our id still lands. */
  beforeRequest?: boolean;
}

export type PaymentEvent =
  | { type: 'PaymentInitiated'; data: PaymentInitiatedData }
  | { type: 'PaymentRequested'; data: PaymentRequestedData }
  | { type: 'PaymentSucceeded'; data: PaymentSucceededData }
  | { type: 'PaymentFailed'; data: PaymentFailedData }
  | { type: 'PaymentExpired'; data: { at: string } };

export type PaymentCommand =
  | { type: 'InitiatePayment'; data: { initiated: PaymentInitiatedData } }
  /** The provider that took the collection and its reference (from its answer, or found by our id). */
  | { type: 'RecordRequest'; data: PaymentRequestedData }
  /** No provider reference is known and none will come from this call: refused, unreachable, never submitted. */
  | { type: 'FailSubmission'; data: { reason: string; at: Date } }
  | {
      type: 'ApplyProviderStatus';
      data: {
        status: 'PENDING' | 'SUCCESSFUL' | 'FAILED';
        /** What the provider reports it collected. */
        amountMinor: bigint;
        /** The operator whose fee applies (the provider's word, else the number's). */
        operator: Operator;
        reason?: string;
        operatorReference?: string;
        /**
         * Which collection this status is about. A status of another collection than the one the
         * attempt recorded (a second provider collected it too) changes nothing here.
         */
        source?: { provider: string; providerReference: string };
        at: Date;
      };
    }
  | { type: 'ExpirePayment'; data: { now: Date } };

export interface PaymentState {
  status: PaymentStatus;
  initiated: PaymentInitiatedData | null;
  requested: PaymentRequestedData | null;
  succeeded: PaymentSucceededData | null;
  failureReason: string | null;
  /** It failed before any provider reference was known (a late success may still come). */
  failedBeforeRequest: boolean;
  expiredAt: string | null;
}

export const initialPaymentState = (): PaymentState => ({
  status: 'NONE',
  initiated: null,
  requested: null,
  succeeded: null,
  failureReason: null,
  failedBeforeRequest: false,
  expiredAt: null,
});

/**
 * What a success books: never more than requested (a provider reporting more is a finance
 * exception, found by reconciliation: the statement disagrees with the ledger); less when the
 * provider's own status says it collected less (that status is re-read, never a webhook's word).
 */
export function creditedAmount(requestedMinor: bigint, reportedMinor: bigint): bigint {
  return reportedMinor < requestedMinor ? reportedMinor : requestedMinor;
}

export function evolvePayment(state: PaymentState, event: PaymentEvent): PaymentState {
  switch (event.type) {
    case 'PaymentInitiated':
      return { ...state, status: 'PENDING', initiated: event.data };
    case 'PaymentRequested':
      return { ...state, requested: event.data };
    case 'PaymentSucceeded':
      return { ...state, status: 'SUCCEEDED', succeeded: event.data };
    case 'PaymentFailed':
      return {
        ...state,
        status: 'FAILED',
        failureReason: event.data.reason,
        failedBeforeRequest: event.data.beforeRequest === true,
      };
    case 'PaymentExpired':
      return { ...state, status: 'EXPIRED', expiredAt: event.data.at };
    default: {
      const unknown: never = event;
      throw new Error(`unknown payment event ${JSON.stringify(unknown)}`);
    }
  }
}

function applyStatus(
  command: Extract<PaymentCommand, { type: 'ApplyProviderStatus' }>,
  state: PaymentState,
): PaymentEvent[] {
  const { status, at, source } = command.data;
  if (
    source !== undefined &&
    state.requested !== null &&
    (source.provider !== state.requested.provider ||
      source.providerReference !== state.requested.providerReference)
  )
    return []; // another collection than this attempt's: see returnSecondCollection
  const open = state.status === 'PENDING';
  // Expired, or failed before we knew where the collect went: money found later still lands.
  const late = state.status === 'EXPIRED' || (state.status === 'FAILED' && state.failedBeforeRequest);
  if (status === 'SUCCESSFUL' && (open || late) && state.initiated !== null) {
    const reported = command.data.amountMinor;
    if (reported <= 0n) throw new RangeError('a successful payment needs a positive amount');
    const credited = creditedAmount(BigInt(state.initiated.amountMinor), reported);
    return [
      {
        type: 'PaymentSucceeded',
        data: {
          amountMinor: Number(credited),
          reportedMinor: Number(reported),
          feeMinor: Number(providerFeeMinor(credited, command.data.operator)),
          operatorReference: command.data.operatorReference ?? null,
          afterExpiry: late,
          at: at.toISOString(),
        },
      },
    ];
  }
  // A failure after expiry changes nothing: the attempt is already over and nothing was booked.
  if (status === 'FAILED' && open)
    return [
      { type: 'PaymentFailed', data: { reason: command.data.reason ?? 'FAILED', at: at.toISOString() } },
    ];
  return [];
}

function recordRequest(requested: PaymentRequestedData, state: PaymentState): PaymentEvent[] {
  // Once per attempt: a second reference for one attempt (a provider that did not deduplicate)
  // is not adopted here; reconciliation shows it to finance.
  if (state.status === 'NONE' || state.requested !== null) return [];
  return [{ type: 'PaymentRequested', data: requested }];
}

export function decidePayment(command: PaymentCommand, state: PaymentState): PaymentEvent[] {
  switch (command.type) {
    case 'InitiatePayment':
      if (state.status !== 'NONE') return []; // a retry of the same attempt: already recorded
      return [{ type: 'PaymentInitiated', data: command.data.initiated }];
    case 'RecordRequest':
      return recordRequest(command.data, state);
    case 'FailSubmission':
      if (state.status !== 'PENDING' || state.requested !== null) return [];
      return [
        {
          type: 'PaymentFailed',
          data: { reason: command.data.reason, at: command.data.at.toISOString(), beforeRequest: true },
        },
      ];
    case 'ApplyProviderStatus':
      return applyStatus(command, state);
    case 'ExpirePayment': {
      if (state.status !== 'PENDING' || state.initiated === null) return [];
      if (command.data.now.getTime() < Date.parse(state.initiated.expiresAt)) return [];
      return [{ type: 'PaymentExpired', data: { at: command.data.now.toISOString() } }];
    }
    default: {
      const unknown: never = command;
      throw new Error(`unknown payment command ${JSON.stringify(unknown)}`);
    }
  }
}

export const paymentDecider = {
  initialState: initialPaymentState,
  evolve: evolvePayment,
  decide: decidePayment,
};
