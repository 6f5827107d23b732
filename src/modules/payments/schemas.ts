import Type from 'typebox';
import { SPENDING_CATEGORIES, WALLET_CATEGORIES } from './wallet-categories.js';

/** TypeBox schemas of the payments routes (the OpenAPI document). Amounts are integer minor units. */
const Minor = (description: string, minimum = 0) =>
  Type.Integer({ minimum, maximum: Number.MAX_SAFE_INTEGER, description });
const Currency = Type.Union([Type.Literal('XAF'), Type.Literal('USD')], {
  description: 'XAF or USD: separate wallets, never converted',
});
const Phone = Type.String({
  minLength: 9,
  maxLength: 20,
  description: 'an MTN or Orange Cameroon number, e.g. +237670001234',
});
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Iso = Type.String({ format: 'date-time' });

export const CurrencyQuery = Type.Object(
  { currency: Type.Optional(Currency) },
  { additionalProperties: false },
);
export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
// User ids are uuids (users.id): anything else is a 400, not a failed cast in PostgreSQL (a 500).
export const UserParams = Type.Object({ userId: Type.String({ format: 'uuid' }) });

export const WalletSchema = Type.Object({
  currency: Currency,
  status: Type.Union([Type.Literal('active'), Type.Literal('frozen')]),
  balanceMinor: Type.Integer(),
  availableMinor: Type.Integer(),
  heldMinor: Type.Integer(),
  limits: Type.Object({
    dailyMinor: Type.Integer(),
    monthlyMinor: Type.Integer(),
    spentTodayMinor: Type.Integer(),
    spentThisMonthMinor: Type.Integer(),
  }),
  autoTopUp: Type.Object({
    enabled: Type.Boolean(),
    thresholdMinor: Nullable(Type.Integer()),
    amountMinor: Nullable(Type.Integer()),
  }),
  categoryControls: Type.Array(
    Type.Object({
      category: Type.String(),
      blocked: Type.Boolean(),
      monthlyLimitMinor: Nullable(Type.Integer()),
      spentThisMonthMinor: Type.Integer(),
    }),
  ),
});

export const TransactionsQuery = Type.Object(
  {
    currency: Type.Optional(Currency),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    category: Type.Optional(Type.Union(WALLET_CATEGORIES.map((value) => Type.Literal(value)))),
  },
  { additionalProperties: false },
);

export const TransactionsSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      transferId: Type.String(),
      category: Type.String(),
      direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
      amountMinor: Type.Integer(),
      currency: Type.String(),
      orderId: Nullable(Type.String()),
      at: Iso,
    }),
  ),
  nextCursor: Nullable(Type.String()),
});

export const TopUpBody = Type.Object(
  { amountMinor: Minor('XAF to add (100-500000)', 100), phone: Phone },
  { additionalProperties: false },
);

export const PaymentSchema = Type.Object({
  paymentId: Type.String(),
  status: Type.String(),
  purpose: Type.String(),
  orderId: Nullable(Type.String()),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  provider: Nullable(Type.String()),
  operator: Nullable(Type.String()),
  ussdCode: Nullable(Type.String()),
  failureReason: Nullable(Type.String()),
  afterExpiry: Type.Boolean(),
  createdAt: Nullable(Type.String()),
  expiresAt: Nullable(Type.String()),
});

export const TopUpSchema = Type.Object({
  payment: PaymentSchema,
  ussdCode: Nullable(Type.String()),
  instructions: Type.String(),
});

export const WalletSettingsBody = Type.Object(
  {
    currency: Type.Optional(Currency),
    dailyLimitMinor: Type.Optional(Minor('a lower daily limit', 1)),
    monthlyLimitMinor: Type.Optional(Minor('a lower monthly limit', 1)),
    autoTopUp: Type.Optional(
      Type.Object(
        {
          enabled: Type.Boolean(),
          thresholdMinor: Type.Optional(Minor('top up when the available balance falls below this', 1)),
          amountMinor: Type.Optional(Minor('how much each automatic top-up collects', 100)),
          phone: Type.Optional(Phone),
        },
        { additionalProperties: false },
      ),
    ),
    categoryControls: Type.Optional(
      Type.Object(
        Object.fromEntries(
          SPENDING_CATEGORIES.map((category) => [
            category,
            Type.Optional(
              Type.Object(
                {
                  blocked: Type.Optional(Type.Boolean()),
                  monthlyLimitMinor: Type.Optional(
                    Nullable(Minor(`the most this wallet may spend on ${category} in a month`, 1)),
                  ),
                },
                { additionalProperties: false },
              ),
            ),
          ]),
        ),
        {
          additionalProperties: false,
          description:
            'Per spending category: refuse it outright, or cap it per month (null removes the cap). Categories left out keep their controls.',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

export const WalletPaymentBody = Type.Object(
  { orderId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);
export const WalletPaymentSchema = Type.Object({
  orderId: Type.String(),
  paidMinor: Type.Integer(),
  wallet: WalletSchema,
});

export const FreezeBody = Type.Object(
  {
    frozen: Type.Boolean(),
    reason: Type.String({ minLength: 3, maxLength: 500 }),
    currency: Type.Optional(Currency),
  },
  { additionalProperties: false },
);

export const WithdrawalBody = Type.Object(
  { amountMinor: Minor('XAF to send to your Mobile Money number', 500) },
  { additionalProperties: false },
);

export const WebhookAnswer = Type.Object({ received: Type.Boolean(), applied: Type.Boolean() });

export const PayoutBody = Type.Object(
  {
    payeeKind: Type.Union([Type.Literal('restaurant'), Type.Literal('driver')]),
    restaurantId: Type.Optional(Type.String({ format: 'uuid' })),
    amountMinor: Minor('XAF to pay out (at most the available balance)', 1),
  },
  { additionalProperties: false },
);

export const PayoutSchema = Type.Object({
  payoutId: Type.String(),
  payeeKind: Type.String(),
  payeeId: Type.String(),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  phone: Type.String({ description: 'masked' }),
  status: Type.String({
    description:
      'REQUESTED (held), APPROVED, PROCESSING, SUCCEEDED, FAILED, REJECTED or NEEDS_REVIEW (finance must decide)',
  }),
  automatic: Type.Boolean(),
  provider: Nullable(Type.String()),
  feeMinor: Nullable(Type.Integer()),
  failureReason: Nullable(Type.String()),
  reviewReason: Nullable(Type.String()),
  createdAt: Iso,
  updatedAt: Iso,
});

export const PayoutRejectBody = Type.Object(
  { reason: Type.String({ minLength: 3, maxLength: 500 }) },
  { additionalProperties: false },
);

export const PayoutResolveBody = Type.Object(
  {
    outcome: Type.Union([Type.Literal('sent'), Type.Literal('not_sent')], {
      description:
        'sent: the payee has the money (the hold is posted); not_sent: it never left (the hold is released)',
    }),
    reason: Type.String({ minLength: 3, maxLength: 500 }),
    providerReference: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' }),
    ),
  },
  { additionalProperties: false },
);

export const PayoutListQuery = Type.Object(
  {
    payeeKind: Type.Union([Type.Literal('restaurant'), Type.Literal('driver')]),
    restaurantId: Type.Optional(Type.String({ format: 'uuid' })),
  },
  { additionalProperties: false },
);
export const PayoutListSchema = Type.Object({
  availableMinor: Type.Integer(),
  items: Type.Array(PayoutSchema),
});

export const PayoutSettingsBody = Type.Object(
  {
    payeeKind: Type.Union([Type.Literal('restaurant'), Type.Literal('driver')]),
    restaurantId: Type.Optional(Type.String({ format: 'uuid' })),
    autoEnabled: Type.Boolean(),
    minimumMinor: Minor('pay out automatically once the available balance reaches this', 500),
  },
  { additionalProperties: false },
);

export const CommissionBody = Type.Object(
  {
    rate: Type.Union([
      Type.String({
        pattern: '^(0(\\.\\d{1,6})?|1(\\.0{1,6})?)$',
        description: 'a rate in [0, 1], e.g. "0.08"',
      }),
      Type.Null(),
    ]),
    reason: Type.String({ minLength: 3, maxLength: 500, pattern: '\\S' }),
    effectiveFrom: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'when the change takes effect (now when absent); not in the past, at most a year ahead',
      }),
    ),
  },
  { additionalProperties: false },
);

export const CommissionChangeSchema = Type.Object({
  changeId: Type.String({ format: 'uuid' }),
  rate: Nullable(Type.String({ description: 'null: back to the commission tiers' })),
  effectiveFrom: Iso,
  reason: Type.String(),
  setBy: Type.String(),
  setAt: Iso,
  status: Type.Union([
    Type.Literal('scheduled'),
    Type.Literal('in_force'),
    Type.Literal('superseded'),
    Type.Literal('cancelled'),
  ]),
  cancelledAt: Nullable(Iso),
  cancelledBy: Nullable(Type.String()),
});

export const CommissionHistoryQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);

export const CommissionHistorySchema = Type.Object({
  restaurantId: Type.String({ format: 'uuid' }),
  overrideRate: Nullable(Type.String({ description: 'the override in force now; null: the tiers apply' })),
  items: Type.Array(CommissionChangeSchema),
  nextCursor: Nullable(Type.String()),
});

export const ReconciliationRunBody = Type.Object(
  {
    provider: Type.Union(
      [
        Type.Literal('campay'),
        Type.Literal('mtn_momo'),
        Type.Literal('orange_money'),
        Type.Literal('flutterwave'),
      ],
      {
        description:
          'flutterwave: card fundings (issue #28); orange_money: the Orange fallback (re-read by id)',
      },
    ),
    from: Iso,
    to: Iso,
  },
  { additionalProperties: false },
);

const ItemSchema = Type.Object({
  itemNo: Type.Integer(),
  status: Type.String(),
  kind: Type.String(),
  providerReference: Nullable(Type.String()),
  internalId: Nullable(Type.String()),
  providerAmountMinor: Nullable(Type.Integer()),
  ledgerAmountMinor: Nullable(Type.Integer()),
  providerFeeMinor: Nullable(Type.Integer()),
  providerStatus: Nullable(Type.String()),
  internalStatus: Nullable(Type.String()),
  detail: Nullable(Type.String()),
  resolvedAt: Nullable(Type.String()),
  resolutionReason: Nullable(Type.String()),
  resolutionTransferId: Nullable(Type.String()),
});

export const ReconciliationRunSchema = Type.Object({
  runId: Type.String(),
  provider: Type.String(),
  from: Iso,
  to: Iso,
  status: Type.String(),
  counts: Type.Record(Type.String(), Type.Integer()),
  error: Nullable(Type.String()),
  items: Type.Array(ItemSchema),
  nextAfter: Nullable(Type.Integer()),
});

export const ReconciliationRunQuery = Type.Object(
  {
    exceptionsOnly: Type.Optional(Type.Boolean()),
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  { additionalProperties: false },
);
export const ResolveParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  itemNo: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
});
export const ResolveBody = Type.Object(
  { reason: Type.String({ minLength: 3, maxLength: 500 }) },
  { additionalProperties: false },
);
export { ItemSchema as ReconciliationItemSchema };

export const PeriodQuery = Type.Object({ from: Iso, to: Iso }, { additionalProperties: false });
/** CSV exports: `delimiter=semicolon` for spreadsheets in a French locale. */
const Delimiter = Type.Optional(
  Type.Union([Type.Literal('comma'), Type.Literal('semicolon')], {
    description: 'comma (default) or semicolon (French-locale spreadsheets)',
  }),
);
export const CsvQuery = Type.Object({ delimiter: Delimiter }, { additionalProperties: false });
export const CsvPeriodQuery = Type.Object(
  { from: Iso, to: Iso, delimiter: Delimiter },
  { additionalProperties: false },
);
export const EarningsQuery = Type.Object(
  {
    from: Iso,
    to: Iso,
    period: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')])),
  },
  { additionalProperties: false },
);
