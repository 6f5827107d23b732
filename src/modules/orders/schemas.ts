import Type from 'typebox';
import { MAX_REASON_LENGTH, MAX_PREPARATION_MINUTES } from './decider.js';
import { ORDER_STATUSES, type OrderStatus } from './events.js';
import { MAX_LINES_PER_ORDER, MAX_MODIFIERS_PER_LINE, MAX_QUANTITY_PER_LINE } from './pricing.js';
import { MAX_PAGE_SIZE } from './repository.js';

export const Uuid = Type.String({ format: 'uuid' });
export const OrderParams = Type.Object({ id: Uuid });
const Reason = Type.String({ minLength: 1, maxLength: MAX_REASON_LENGTH });
const Status = Type.Unsafe<OrderStatus>({ type: 'string', enum: [...ORDER_STATUSES] });

export const PaymentMethodSchema = Type.Union([
  Type.Object({ kind: Type.Literal('wallet') }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('mobile_money'),
      provider: Type.Union([Type.Literal('MTN'), Type.Literal('ORANGE')]),
      phone: Type.String({ pattern: '^\\+2376[0-9]{8}$', description: 'E.164 Cameroonian mobile number' }),
    },
    { additionalProperties: false },
  ),
]);

export const OrderItemSchema = Type.Object(
  {
    itemId: Uuid,
    quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY_PER_LINE }),
    optionIds: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: MAX_MODIFIERS_PER_LINE }),
    ),
  },
  { additionalProperties: false },
);

export const DeliverySchema = Type.Object(
  {
    latitude: Type.Number({ minimum: -90, maximum: 90 }),
    longitude: Type.Number({ minimum: -180, maximum: 180 }),
    text: Type.String({ minLength: 3, maxLength: 300 }),
  },
  { additionalProperties: false },
);

export const PlaceOrderBody = Type.Object(
  {
    restaurantId: Uuid,
    items: Type.Array(OrderItemSchema, { minItems: 1, maxItems: MAX_LINES_PER_ORDER }),
    delivery: DeliverySchema,
    payment: PaymentMethodSchema,
    tipMinor: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, default: 0 })),
    couponCode: Type.Optional(Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9_-]+$' })),
    usePoints: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 5_000_000,
        description: 'loyalty points to pay part of the food with',
      }),
    ),
    scheduledFor: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

export const ReorderBody = Type.Object(
  {
    payment: Type.Optional(PaymentMethodSchema),
    delivery: Type.Optional(DeliverySchema),
    tipMinor: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  },
  { additionalProperties: false },
);

export const AcceptBody = Type.Object(
  { preparationMinutes: Type.Integer({ minimum: 1, maximum: MAX_PREPARATION_MINUTES }) },
  { additionalProperties: false },
);
export const ReasonBody = Type.Object({ reason: Reason }, { additionalProperties: false });
export const PickupBody = Type.Object(
  { pickupCode: Type.String({ pattern: '^[0-9]{4}$' }) },
  { additionalProperties: false },
);
export const DeliverBody = Type.Object(
  { deliveryPin: Type.String({ pattern: '^[0-9]{4}$' }) },
  { additionalProperties: false },
);
export const ResolveBody = Type.Object(
  { refundMinor: Type.Integer({ minimum: 0, maximum: 5_000_000 }), note: Reason },
  { additionalProperties: false },
);
export const EmptyBody = Type.Optional(Type.Object({}, { additionalProperties: false }));

const TimelineEntry = Type.Object({ status: Status, at: Type.String() });

/** How the order is paid; while a Mobile Money payment is awaited, what its customer must do. */
export const OrderPaymentSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('wallet'), Type.Literal('mobile_money'), Type.Literal('[redacted]')], {
      description: "[redacted] once the customer's personal data was erased (docs/privacy.md)",
    }),
    provider: Type.Optional(Type.String({ description: 'The Mobile Money operator: MTN or ORANGE' })),
    phoneEnding: Type.Optional(Type.String({ description: 'The last two digits of the paying number' })),
    id: Type.Optional(
      Type.String({ description: 'The payment the order waits for (GET /v1/payments/{id}); customer only' }),
    ),
    status: Type.Optional(Type.String({ description: "The payment's status (PENDING until approved)" })),
    ussdCode: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    expiresAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    nextStep: Type.Optional(
      Type.Object({
        action: Type.Union([Type.Literal('dial_ussd'), Type.Literal('approve_on_phone')]),
        instructions: Type.String({ description: 'What to do, in the language of Accept-Language' }),
        language: Type.Union([Type.Literal('en'), Type.Literal('fr')]),
        paymentUrl: Type.String(),
      }),
    ),
  },
  { additionalProperties: true },
);

export const OrderViewSchema = Type.Object(
  {
    id: Uuid,
    status: Status,
    revision: Type.Integer(),
    restaurant: Type.Object({ id: Type.String(), name: Type.String() }),
    customer: Type.Object({ kind: Type.String(), id: Type.String() }),
    lines: Type.Array(Type.Object({}, { additionalProperties: true })),
    pricing: Type.Object({
      subtotalMinor: Type.Integer(),
      discountMinor: Type.Integer(),
      deliveryFeeMinor: Type.Integer(),
      taxMinor: Type.Integer(),
      tipMinor: Type.Integer(),
      totalMinor: Type.Integer(),
      distanceMetres: Type.Integer(),
      taxRatePercent: Type.String(),
    }),
    couponCode: Type.Union([Type.String(), Type.Null()]),
    delivery: Type.Object({}, { additionalProperties: true }),
    payment: OrderPaymentSchema,
    scheduledFor: Type.Union([Type.String(), Type.Null()]),
    driverId: Type.Union([Type.String(), Type.Null()]),
    preparationMinutes: Type.Union([Type.Integer(), Type.Null()]),
    estimatedDeliveryAt: Type.Union([Type.String(), Type.Null()]),
    timeline: Type.Array(TimelineEntry),
    refundMinor: Type.Integer(),
    cancellationFeeMinor: Type.Integer(),
    reason: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    deliveryPin: Type.Optional(Type.String()),
    /** When a wrong delivery PIN was given (customer and staff only): a signal for disputes. */
    wrongDeliveryPinsAt: Type.Optional(Type.Array(Type.String())),
    pickupCode: Type.Optional(Type.String()),
    /** When a wrong pickup code was given (restaurant and staff only): the lockout's record. */
    wrongPickupCodesAt: Type.Optional(Type.Array(Type.String())),
    trackingUrl: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const AdminListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    status: Type.Optional(Status),
    live: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const SummarySchema = Type.Object({
  id: Type.String(),
  status: Type.String(),
  restaurantId: Type.String(),
  restaurantName: Type.String(),
  customerId: Type.String(),
  driverId: Type.Union([Type.String(), Type.Null()]),
  totalMinor: Type.Integer(),
  itemCount: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const ListResponse = Type.Object({
  items: Type.Array(SummarySchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const FiguresQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date' })),
    to: Type.Optional(Type.String({ format: 'date' })),
  },
  { additionalProperties: false },
);

export const FiguresResponse = Type.Object({
  restaurantId: Type.String(),
  from: Type.String(),
  to: Type.String(),
  orders: Type.Integer(),
  delivered: Type.Integer(),
  /** Food (subtotal − discount) of the orders delivered in the period. */
  revenueMinor: Type.Integer(),
  /** Refunds decided in disputes in the period (on the day of the decision). */
  refundedMinor: Type.Integer(),
  netRevenueMinor: Type.Integer(),
  days: Type.Array(
    Type.Object({
      day: Type.String(),
      orders: Type.Integer(),
      delivered: Type.Integer(),
      revenueMinor: Type.Integer(),
      refundedMinor: Type.Integer(),
    }),
  ),
  peakHours: Type.Array(Type.Object({ hour: Type.Integer(), orders: Type.Integer() })),
  bestSellers: Type.Array(
    Type.Object({
      itemId: Type.String(),
      name: Type.String(),
      quantity: Type.Integer(),
      revenueMinor: Type.Integer(),
    }),
  ),
});

export const TrackParams = Type.Object({ token: Type.String({ minLength: 10, maxLength: 100 }) });
export const TrackingResponse = Type.Object({
  status: Status,
  restaurant: Type.Object({ name: Type.String() }),
  address: Type.String(),
  estimatedDeliveryAt: Type.Union([Type.String(), Type.Null()]),
  timeline: Type.Array(TimelineEntry),
  driverAssigned: Type.Boolean(),
  deliveryPinHint: Type.String(),
  updatedAt: Type.String(),
  /** The driver's last position while the order is PICKED_UP; null otherwise. */
  driverPosition: Type.Union([
    Type.Object({
      latitude: Type.Number(),
      longitude: Type.Number(),
      recordedAt: Type.String(),
      heading: Type.Union([Type.Number(), Type.Null()]),
    }),
    Type.Null(),
  ]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
});

const CartLineSchema = Type.Object(
  {
    itemId: Uuid,
    quantity: Type.Integer({ minimum: 1, maximum: 50 }),
    optionIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20, default: [] }),
  },
  { additionalProperties: false },
);
export const CartBody = Type.Object(
  { restaurantId: Type.Union([Uuid, Type.Null()]), items: Type.Array(CartLineSchema, { maxItems: 50 }) },
  { additionalProperties: false },
);
export const CartItemBody = Type.Object(
  {
    restaurantId: Uuid,
    itemId: Uuid,
    quantity: Type.Integer({ minimum: 1, maximum: 50 }),
    optionIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 })),
    replaceCart: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const CartResponse = Type.Object({
  restaurantId: Type.Union([Type.String(), Type.Null()]),
  items: Type.Array(
    Type.Object({ itemId: Type.String(), quantity: Type.Integer(), optionIds: Type.Array(Type.String()) }),
  ),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  cartToken: Type.Optional(Type.String()),
});
