/**
 * One Mobile Money payment attempt as an event-sourced aggregate (stream `payment-<id>`):
 *
 *   PaymentInitiated + PaymentRequested (one append, once the provider took the request)
 *     → PaymentSucceeded | PaymentFailed | PaymentExpired (15 minutes PENDING)
 *   PaymentExpired → PaymentSucceeded { afterExpiry: true }   (a late success never vanishes)
 *
 * The status applied always comes from re-reading the provider (`ApplyProviderStatus`), never
 * from a webhook's body; it changes the payment only while it is pending (or expired, for a late
 * success), so duplicates and replays change nothing. Pure: no I/O, time is an argument.
 */
import type { Operator, ProviderName } from './providers/index.js';

export const PAYMENT_STREAM_PREFIX = 'payment-';
export const paymentStream = (paymentId: string): string => `${PAYMENT_STREAM_PREFIX}${paymentId}`;
export const PAYMENT_EXPIRY_MINUTES = 15;

/** What the money is for: a wallet top-up, or an order's payment into its escrow. */
export type PaymentPurpose = { kind: 'topup' } | { kind: 'order'; orderId: string };

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
  /** The amount the provider says it collected (re-read), which is what we book. */
  amountMinor: number;
  /** The provider's fee on it (our estimate at the published rate; reconciliation compares). */
  feeMinor: number;
  operatorReference: string | null;
  afterExpiry: boolean;
  at: string;
}

export type PaymentEvent =
  | { type: 'PaymentInitiated'; data: PaymentInitiatedData }
  | { type: 'PaymentRequested'; data: PaymentRequestedData }
  | { type: 'PaymentSucceeded'; data: PaymentSucceededData }
  | { type: 'PaymentFailed'; data: { reason: string; at: string } }
  | { type: 'PaymentExpired'; data: { at: string } };

export type PaymentCommand =
  | { type: 'InitiatePayment'; data: { initiated: PaymentInitiatedData; requested: PaymentRequestedData } }
  | {
      type: 'ApplyProviderStatus';
      data: {
        status: 'PENDING' | 'SUCCESSFUL' | 'FAILED';
        amountMinor: bigint;
        feeMinor: bigint;
        reason?: string;
        operatorReference?: string;
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
  expiredAt: string | null;
}

export const initialPaymentState = (): PaymentState => ({
  status: 'NONE',
  initiated: null,
  requested: null,
  succeeded: null,
  failureReason: null,
  expiredAt: null,
});

export function evolvePayment(state: PaymentState, event: PaymentEvent): PaymentState {
  switch (event.type) {
    case 'PaymentInitiated':
      return { ...state, status: 'PENDING', initiated: event.data };
    case 'PaymentRequested':
      return { ...state, requested: event.data };
    case 'PaymentSucceeded':
      return { ...state, status: 'SUCCEEDED', succeeded: event.data };
    case 'PaymentFailed':
      return { ...state, status: 'FAILED', failureReason: event.data.reason };
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
  const { status, at } = command.data;
  const open = state.status === 'PENDING';
  const late = state.status === 'EXPIRED';
  if (status === 'SUCCESSFUL' && (open || late)) {
    if (
      command.data.amountMinor <= 0n ||
      command.data.feeMinor < 0n ||
      command.data.feeMinor > command.data.amountMinor
    )
      throw new RangeError('a successful payment needs a positive amount and a fee within it');
    return [
      {
        type: 'PaymentSucceeded',
        data: {
          amountMinor: Number(command.data.amountMinor),
          feeMinor: Number(command.data.feeMinor),
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

export function decidePayment(command: PaymentCommand, state: PaymentState): PaymentEvent[] {
  switch (command.type) {
    case 'InitiatePayment':
      if (state.status !== 'NONE') return []; // a retry of the same attempt: already recorded
      return [
        { type: 'PaymentInitiated', data: command.data.initiated },
        { type: 'PaymentRequested', data: command.data.requested },
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
