import { describe, expect, it } from 'vitest';
import { preferencesOf } from '../identity/index.js';
import type { OrderEvent } from '../orders/index.js';
import { channelFlags, emailThread, planDispatch, quietUntil } from './delivery.js';
import {
  disputeIntents,
  driverArrivalIntent,
  driverOfferIntent,
  intentId,
  lowStockIntents,
  orderIntents,
  staffAlertIntents,
  stockLevelOf,
  paymentIntents,
  payoutIntents,
  payoutsPostedIn,
  supportEmailReplyIntent,
  supportReplyIntent,
  type OrderFacts,
} from './intents.js';
import { hourlyAllowance } from './repository.js';

const order: OrderFacts = {
  orderId: '11111111-1111-4111-8111-111111111111',
  customerId: '22222222-2222-4222-8222-222222222222',
  ownerId: '33333333-3333-4333-8333-333333333333',
  restaurantName: 'Chez Mama',
  itemCount: 3,
  totalMinor: 7_450,
  trackingUrl: 'https://api.example.cm/track/abc',
};
const at = '2026-12-05T12:00:00.000Z';
const system = { role: 'system' as const, id: 'system' };
const event = (value: OrderEvent, id = 'event-1') => ({ id, ...value });

describe('events → intents', () => {
  it('given a captured payment, tells the customer (a receipt) and the restaurant (critical, to acknowledge)', () => {
    const drafts = orderIntents(
      event({ type: 'OrderPaymentCaptured', data: { paymentId: 'p', amountMinor: 7_450, at } }),
      order,
    );
    expect(
      drafts.map((draft) => [
        draft.recipientId,
        draft.kind,
        draft.priority,
        draft.requiresAck,
        draft.receipt,
      ]),
    ).toEqual([
      [order.customerId, 'order.placed', 'high', false, true],
      [order.ownerId, 'restaurant.new_order', 'critical', true, false],
    ]);
    expect(drafts[1]!.params).toEqual({ restaurant: 'Chez Mama', count: 3, total: 7_450 });
  });

  it("given a capture appended by a USSD placement (metadata channel 'ussd'), marks the customer's receipt as texted by USSD; any other capture is unmarked", () => {
    const captured = event({
      type: 'OrderPaymentCaptured',
      data: { paymentId: 'p', amountMinor: 7_450, at },
    });
    const [receipt, restaurant] = orderIntents({ ...captured, metadata: { channel: 'ussd' } }, order);
    expect(receipt!.params).toEqual({ restaurant: 'Chez Mama', count: 3, total: 7_450, smsSentBy: 'ussd' });
    // The restaurant's critical new order is not the customer's SMS: unchanged.
    expect(restaurant!.params).toEqual({ restaurant: 'Chez Mama', count: 3, total: 7_450 });
    // The id does not depend on the marker: a replay names the same intent.
    expect(receipt!.id).toBe(orderIntents(captured, order)[0]!.id);
    for (const metadata of [undefined, {}, { channel: 'app' }, { channel: null }, { channel: ['ussd'] }])
      expect(orderIntents({ ...captured, metadata }, order)[0]!.params).not.toHaveProperty('smsSentBy');
    // Other events of a USSD order (its later steps) are unmarked: their SMS are the only ones.
    const accepted = orderIntents(
      {
        ...event({ type: 'OrderAccepted', data: { preparationMinutes: 20, by: system, at } }),
        metadata: { channel: 'ussd' },
      },
      order,
    );
    expect(accepted[0]!.params).not.toHaveProperty('smsSentBy');
  });

  it('names each intent after the event, the recipient and the kind: the same event names the same intents', () => {
    const captured = event({ type: 'OrderPaymentCaptured', data: { paymentId: 'p', amountMinor: 1, at } });
    const first = orderIntents(captured, order).map((draft) => draft.id);
    expect(orderIntents(captured, order).map((draft) => draft.id)).toEqual(first);
    expect(first[0]).toBe(intentId('event-1', order.customerId, 'order.placed'));
    expect(orderIntents({ ...captured, id: 'event-2' }, order)[0]!.id).not.toBe(first[0]);
    expect(first[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('given a pickup, tells the driver’s first name and the tracking link; given an acceptance, the minutes', () => {
    const picked = orderIntents(event({ type: 'OrderPickedUp', data: { driverId: 'd', at } }), order, 'Paul');
    expect(picked[0]).toMatchObject({
      kind: 'order.picked_up',
      params: { driver: 'Paul', link: order.trackingUrl },
    });
    const accepted = orderIntents(
      event({ type: 'OrderAccepted', data: { by: system, preparationMinutes: 25, at } }),
      order,
    );
    expect(accepted[0]).toMatchObject({ kind: 'order.accepted', params: { count: 25 } });
  });

  it('a customer’s cancellation tells the restaurant; the restaurant’s own, or one before payment, does not', () => {
    const cancel = (role: 'customer' | 'restaurant', previousStatus: 'PLACED' | 'PENDING_PAYMENT') =>
      orderIntents(
        event({
          type: 'OrderCancelled',
          data: {
            by: { role, id: 'x' },
            reason: 'r',
            previousStatus,
            refundMinor: 100,
            cancellationFeeMinor: 0,
            at,
          },
        }),
        order,
      ).map((draft) => draft.kind);
    expect(cancel('customer', 'PLACED')).toEqual(['order.cancelled', 'restaurant.order_cancelled']);
    expect(cancel('restaurant', 'PLACED')).toEqual(['order.cancelled']);
    expect(cancel('customer', 'PENDING_PAYMENT')).toEqual(['order.cancelled']);
  });

  it('events nobody is told of make no intent; a resolved dispute only with a refund', () => {
    expect(orderIntents(event({ type: 'OrderPreparationStarted', data: { by: system, at } }), order)).toEqual(
      [],
    );
    expect(
      orderIntents(
        event({ type: 'OrderDisputeResolved', data: { by: system, refundMinor: 0, note: '', at } }),
        order,
      ),
    ).toEqual([]);
  });

  it('top-ups tell the payer (success with a receipt, failure); an order’s payment is told through the order', () => {
    const facts = { paymentId: 'p', userId: order.customerId, purpose: 'topup' as const, amountMinor: 5_000 };
    expect(
      paymentIntents({ id: 'e', type: 'PaymentSucceeded', data: { amountMinor: 4_900 } }, facts)[0],
    ).toMatchObject({
      kind: 'wallet.topup_succeeded',
      params: { amount: 4_900 },
      receipt: true,
      priority: 'normal',
    });
    expect(paymentIntents({ id: 'e', type: 'PaymentExpired', data: {} }, facts)[0]!.kind).toBe(
      'wallet.topup_failed',
    );
    expect(
      paymentIntents({ id: 'e', type: 'PaymentSucceeded', data: {} }, { ...facts, purpose: 'order' }),
    ).toEqual([]);
  });
});

describe('payouts in ledger batches', () => {
  const id = '44444444-4444-4444-8444-444444444444';
  it('finds the posts of payouts (not their holds or fees) and skips batches without any', () => {
    const batch = JSON.stringify({
      transfersAccepted: [
        { id: `payout:${id}:hold` },
        { id: `payout:${id}:post` },
        { id: `payout:${id}:fee` },
      ],
    });
    expect(payoutsPostedIn({ batch })).toEqual([id]);
    expect(payoutsPostedIn({ batch: JSON.stringify({ transfersAccepted: [{ id: 'order:x' }] }) })).toEqual(
      [],
    );
    expect(payoutsPostedIn({ other: true })).toEqual([]);
  });

  it('two payouts in one batch to one person are two intents', () => {
    const first = payoutIntents({ id: 'e' }, { payoutId: 'a', recipientId: id, amountMinor: 1 });
    const second = payoutIntents({ id: 'e' }, { payoutId: 'b', recipientId: id, amountMinor: 1 });
    expect(first[0]!.id).not.toBe(second[0]!.id);
    expect(first[0]).toMatchObject({ kind: 'payout.sent', receipt: true, params: { amount: 1 } });
  });
});

describe('delivery rules', () => {
  it('the cap: critical never capped, order messages the whole cap, lower priorities half', () => {
    expect(hourlyAllowance('critical', 12)).toBe(Number.POSITIVE_INFINITY);
    expect(hourlyAllowance('high', 12)).toBe(12);
    expect(hourlyAllowance('normal', 12)).toBe(6);
    expect(hourlyAllowance('low', 7)).toBe(3);
  });

  it('channels follow the preferences, except for critical and security messages; marketing always follows them', () => {
    const preferences = preferencesOf({
      order_updates: { push: true, sms: false, email: false },
      promotions: { push: false, sms: false, email: false },
    });
    expect(channelFlags({ kind: 'order.ready', priority: 'high' }, preferences)).toEqual({
      push: true,
      sms: false,
      email: false,
    });
    expect(channelFlags({ kind: 'restaurant.new_order', priority: 'critical' }, preferences).sms).toBe(true);
    expect(channelFlags({ kind: 'security.new_sign_in', priority: 'high' }, preferences).sms).toBe(true);
    expect(channelFlags({ kind: 'promo.weekend', priority: 'low' }, preferences)).toEqual({
      push: false,
      sms: false,
      email: false,
    });
  });

  it('quiet hours (Africa/Douala, UTC+1) delay normal and low priorities until they end, across midnight', () => {
    const preferences = preferencesOf({
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Africa/Douala' },
    });
    const night = new Date('2026-12-05T23:30:00Z'); // 00:30 in Douala
    expect(quietUntil({ priority: 'normal' }, preferences, night)?.toISOString()).toBe(
      '2026-12-06T06:00:00.000Z',
    );
    expect(quietUntil({ priority: 'high' }, preferences, night)).toBeUndefined();
    expect(quietUntil({ priority: 'critical' }, preferences, night)).toBeUndefined();
    expect(quietUntil({ priority: 'low' }, preferences, new Date('2026-12-05T12:00:00Z'))).toBeUndefined();
    const evening = new Date('2026-12-05T21:15:00Z'); // 22:15 in Douala
    expect(quietUntil({ priority: 'low' }, preferences, evening)?.toISOString()).toBe(
      '2026-12-06T06:00:00.000Z',
    );
    expect(quietUntil({ priority: 'low' }, preferencesOf({}), night)).toBeUndefined();
  });
});

describe('staff alerts, low stock and driver offers', () => {
  const staff = ['44444444-4444-4444-8444-444444444444', '55555555-5555-4555-8555-555555555555'];

  it('given a dispute, tells each staff member the order, restaurant and total, never the reason', () => {
    const drafts = disputeIntents({ id: 'event-9' }, order, staff);
    expect(drafts.map((draft) => [draft.recipientId, draft.kind, draft.orderId])).toEqual(
      staff.map((id) => [id, 'staff.dispute_opened', order.orderId]),
    );
    expect(drafts[0]!.params).toEqual({ restaurant: 'Chez Mama', total: 7_450, order: '11111111' });
    // Named after the fact: the same dispute found again names the same intents.
    expect(disputeIntents({ id: 'event-9' }, order, staff).map((draft) => draft.id)).toEqual(
      drafts.map((draft) => draft.id),
    );
  });

  it('a staff alert with no staff account tells nobody', () => {
    expect(staffAlertIntents('payout-review:x', [], 'staff.payout_review', {})).toEqual([]);
  });

  it('stock is low at or under the threshold, out at zero, never for untracked items', () => {
    expect([10, 6, 5, 1, 0, -1, null].map((stock) => stockLevelOf(stock, 5))).toEqual([
      undefined,
      undefined,
      'low',
      'low',
      'out',
      'out',
      undefined,
    ]);
  });

  it('low stock: one alert per item and level per day, however many orders take from it', () => {
    const items = [
      { itemId: 'ndole', name: 'Ndolé', stock: 3 },
      { itemId: 'poulet', name: 'Poulet DG', stock: 0 },
      { itemId: 'jus', name: 'Jus', stock: null },
      { itemId: 'riz', name: 'Riz', stock: 40 },
    ];
    const first = lowStockIntents(order.ownerId, items, 5, '2026-12-05');
    expect(first.map((draft) => [draft.kind, draft.params])).toEqual([
      ['restaurant.low_stock', { item: 'Ndolé', count: 3 }],
      ['restaurant.sold_out', { item: 'Poulet DG', count: 0 }],
    ]);
    const later = lowStockIntents(
      order.ownerId,
      [{ itemId: 'ndole', name: 'Ndolé', stock: 2 }],
      5,
      '2026-12-05',
    );
    expect(later[0]!.id).toBe(first[0]!.id);
    const tomorrow = lowStockIntents(
      order.ownerId,
      [{ itemId: 'ndole', name: 'Ndolé', stock: 2 }],
      5,
      '2026-12-06',
    );
    expect(tomorrow[0]!.id).not.toBe(first[0]!.id);
  });

  it('a driver offer is one intent per offer, to the driver, with earnings and distance in km', () => {
    const offer = {
      offerId: '66666666-6666-4666-8666-666666666666',
      driverId: '77777777-7777-4777-8777-777777777777',
      orderId: order.orderId,
      restaurantName: 'Chez Mama',
      earningsMinor: 1_200,
      pickupDistanceMetres: 2_449,
      expiresAt: new Date('2026-12-05T12:00:30Z'),
    };
    const draft = driverOfferIntent(offer);
    expect(draft).toMatchObject({
      recipientId: offer.driverId,
      kind: 'driver.offer',
      priority: 'high',
      orderId: order.orderId,
      params: { restaurant: 'Chez Mama', earnings: 1_200, distance: 2.4 },
    });
    expect(driverOfferIntent({ ...offer, earningsMinor: 1_500 }).id).toBe(draft.id);
  });

  it("a driver's arrival: the restaurant at the restaurant, the customer near the door, one intent per order and kind", () => {
    const arrival = {
      orderId: order.orderId,
      customerId: order.customerId,
      ownerId: order.ownerId,
    };
    const atRestaurant = driverArrivalIntent({ ...arrival, kind: 'restaurant' });
    const atDoor = driverArrivalIntent({ ...arrival, kind: 'customer' });
    expect(atRestaurant).toMatchObject({
      recipientId: order.ownerId,
      kind: 'restaurant.driver_arrived',
      orderId: order.orderId,
      params: { order: '11111111' },
    });
    expect(atDoor).toMatchObject({ recipientId: order.customerId, kind: 'order.driver_arriving' });
    // Asked again (another instance, a restart): the same intent.
    expect(driverArrivalIntent({ ...arrival, kind: 'customer' }).id).toBe(atDoor.id);
    expect(atDoor.id).not.toBe(atRestaurant.id);
  });

  it('staff alerts and driver offers follow the order-updates switches, not the marketing ones', () => {
    const preferences = preferencesOf({
      order_updates: { push: true, sms: false, email: false },
      promotions: { push: false, sms: false, email: false },
    });
    for (const kind of ['staff.dispute_opened', 'driver.offer', 'restaurant.low_stock'])
      expect(channelFlags({ kind, priority: 'high' }, preferences)).toEqual({
        push: true,
        sms: false,
        email: false,
      });
  });

  it('dispatch plan: push with SMS behind it; SMS without a device; e-mail for receipts', () => {
    const recipient = {
      phone: '+237650000000',
      email: 'a@example.cm',
      preferences: preferencesOf({ order_updates: { push: true, sms: true, email: true } }),
    };
    const base = { id: 'i', recipient_id: 'r', kind: 'restaurant.new_order', receipt: false };
    const at = new Date('2026-12-05T12:00:00Z');
    expect(planDispatch({ ...base, priority: 'critical', requires_ack: true }, recipient, true, at)).toEqual({
      channels: [{ intentId: 'i', channel: 'push', fallback: 'sms' }],
    });
    expect(
      planDispatch(
        { ...base, kind: 'order.placed', priority: 'high', requires_ack: false, receipt: true },
        recipient,
        false,
        at,
      ),
    ).toEqual({
      channels: [
        { intentId: 'i', channel: 'sms' },
        { intentId: 'i', channel: 'email' },
      ],
    });
    expect(
      planDispatch(
        { ...base, kind: 'order.placed', priority: 'high', requires_ack: false },
        { ...recipient, phone: null },
        false,
        at,
      ),
    ).toEqual({ channels: [] });
  });

  it("dispatch plan: a USSD order's receipt sends no SMS (USSD texted the number and PIN), neither alone nor as the push's fallback; push and e-mail unchanged", () => {
    const recipient = {
      phone: '+237670000000',
      email: 'a@example.cm',
      preferences: preferencesOf({ order_updates: { push: true, sms: true, email: true } }),
    };
    const receipt = {
      id: 'i',
      recipient_id: 'r',
      kind: 'order.placed',
      priority: 'high' as const,
      requires_ack: false,
      receipt: true,
      paramsClear: { restaurant: 'Chez Mama', count: 1, total: 1_500, smsSentBy: 'ussd' },
    };
    const at = new Date('2026-12-05T12:00:00Z');
    // No device (the feature phone): e-mail only.
    expect(planDispatch(receipt, recipient, false, at)).toEqual({
      channels: [{ intentId: 'i', channel: 'email' }],
    });
    // A device too (an app customer who ordered over USSD): push without an SMS behind it.
    expect(planDispatch(receipt, recipient, true, at)).toEqual({
      channels: [
        { intentId: 'i', channel: 'push' },
        { intentId: 'i', channel: 'email' },
      ],
    });
    // Neither device nor e-mail: the centre alone.
    expect(planDispatch(receipt, { ...recipient, email: null }, false, at)).toEqual({ channels: [] });
    // The same receipt without the marker (an app order, a Mobile Money confirmation): SMS as before.
    const { smsSentBy: _marker, ...params } = receipt.paramsClear;
    expect(planDispatch({ ...receipt, paramsClear: params }, recipient, false, at).channels).toContainEqual({
      intentId: 'i',
      channel: 'sms',
    });
    expect(planDispatch({ ...receipt, paramsClear: params }, recipient, true, at).channels[0]).toEqual({
      intentId: 'i',
      channel: 'push',
      fallback: 'sms',
    });
    // The marker only ever silences the receipt's SMS: another kind carrying it is unchanged.
    expect(
      planDispatch({ ...receipt, kind: 'order.accepted', receipt: false }, recipient, false, at),
    ).toEqual({ channels: [{ intentId: 'i', channel: 'sms' }] });
  });

  it("dispatch plan: a driver's emergency goes by SMS as well as by push, never only as the push's fallback", () => {
    const recipient = {
      phone: '+237650000000',
      email: null,
      // Staff who switched SMS off still get it: critical ignores the switches.
      preferences: preferencesOf({ order_updates: { push: true, sms: false, email: false } }),
    };
    const sos = {
      id: 'i',
      recipient_id: 'r',
      kind: 'staff.driver_emergency',
      priority: 'critical' as const,
      requires_ack: true,
      receipt: false,
    };
    const at = new Date('2026-12-05T02:00:00Z');
    expect(planDispatch(sos, recipient, true, at)).toEqual({
      channels: [
        { intentId: 'i', channel: 'push' },
        { intentId: 'i', channel: 'sms' },
      ],
    });
    expect(planDispatch(sos, recipient, false, at)).toEqual({
      channels: [{ intentId: 'i', channel: 'sms' }],
    });
    // No phone on the account: the push alone (and the WebSocket alert dispatch sends besides).
    expect(planDispatch(sos, { ...recipient, phone: null }, true, at)).toEqual({
      channels: [{ intentId: 'i', channel: 'push' }],
    });
  });

  it('dispatch plan: a reply on a ticket opened by e-mail goes by e-mail alone (push or not), the chain without an address, nothing with every ticket channel off', () => {
    const reply = supportEmailReplyIntent({
      messageId: '11111111-1111-4111-8111-111111111111',
      ticketId: '1a2b3c4d-2222-4222-8222-222222222222',
      recipientId: '33333333-3333-4333-8333-333333333333',
      text: 'Votre remboursement est parti.',
      subject: '  Remboursement   de ma commande ',
    });
    const intent = {
      id: reply.id,
      recipient_id: reply.recipientId,
      kind: reply.kind,
      priority: reply.priority,
      requires_ack: false,
      receipt: false,
      paramsClear: reply.params,
    };
    expect(reply.kind).toBe('support.email_reply');
    expect(reply.params).toMatchObject({ ref: 'T-1a2b3c4d', subject: 'Remboursement de ma commande' });
    // Another intent than the push/SMS notice of the same message (both named after it).
    expect(reply.id).not.toBe(
      supportReplyIntent({
        messageId: '11111111-1111-4111-8111-111111111111',
        ticketId: reply.params.ticketId as string,
        recipientId: reply.recipientId,
        text: 'x',
      }).id,
    );
    const at = new Date('2026-12-05T12:00:00Z');
    // The defaults (order updates by push and SMS, no e-mail) still answer the e-mail by e-mail.
    const recipient = { phone: '+237650000000', email: 'a@example.cm', preferences: preferencesOf({}) };
    expect(planDispatch(intent, recipient, true, at)).toEqual({
      channels: [{ intentId: reply.id, channel: 'email' }],
    });
    expect(planDispatch(intent, recipient, false, at)).toEqual({
      channels: [{ intentId: reply.id, channel: 'email' }],
    });
    // No address any more: push with SMS behind it, as any support reply.
    expect(planDispatch(intent, { ...recipient, email: null }, true, at)).toEqual({
      channels: [{ intentId: reply.id, channel: 'push', fallback: 'sms' }],
    });
    // Every ticket channel off: the in-app centre only.
    const off = preferencesOf({ order_updates: { push: false, sms: false, email: false } });
    expect(planDispatch(intent, { ...recipient, preferences: off }, true, at)).toEqual({ channels: [] });
    // Its e-mail is threaded on the ticket; other kinds carry no thread.
    expect(emailThread(intent)).toEqual({
      thread: {
        messageId: 'support-reply.11111111-1111-4111-8111-111111111111',
        inReplyTo: 'support-ticket.1a2b3c4d-2222-4222-8222-222222222222',
      },
    });
    expect(emailThread({ kind: 'order.placed', paramsClear: reply.params })).toEqual({});
  });
});
