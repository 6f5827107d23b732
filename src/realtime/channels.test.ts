import { describe, expect, it } from 'vitest';
import { evolve, initialState } from '../modules/orders/decider.js';
import { CUSTOMER, DRIVER_ID, EVENTS, historyFor, OWNER } from '../modules/orders/fixtures.js';
import type { OrderEvent } from '../modules/orders/events.js';
import { createMemoryBus, HISTORY_LENGTH } from './bus.js';
import { audiences, publicationsFor } from './channels.js';

function change(history: OrderEvent[], last: OrderEvent[]) {
  const state = [...history, ...last].reduce(evolve, initialState());
  return { order: state.order!, state, events: last, revision: BigInt(history.length + last.length - 1) };
}

const audiencesOf = (publications: ReturnType<typeof publicationsFor>) =>
  publications.flatMap((publication) => publication.audiences);

describe('real-time channels: who hears what', () => {
  it('an unpaid order reaches its customer, the admin and its tracking page, never the restaurant', () => {
    const heard = audiencesOf(publicationsFor(change([], [EVENTS.created()])));
    expect(heard).toEqual(
      expect.arrayContaining([
        audiences.customer(CUSTOMER.id),
        audiences.admin,
        audiences.order('a0000000-0000-4000-8000-000000000001'),
      ]),
    );
    expect(heard).not.toContain(audiences.owner(OWNER.id));
    expect(heard).not.toContain(audiences.drivers);
  });
  it('payment tells the restaurant on new-orders; acceptance tells every driver the order is claimable', () => {
    const paid = publicationsFor(change(historyFor('PENDING_PAYMENT'), [EVENTS.captured()]));
    expect(
      paid.find((publication) => publication.audiences.includes(audiences.owner(OWNER.id)))?.message.channel,
    ).toBe('new-orders');
    const accepted = publicationsFor(change(historyFor('PLACED'), [EVENTS.accepted()]));
    expect(
      accepted.find((publication) => publication.audiences.includes(audiences.drivers))?.message,
    ).toMatchObject({ channel: 'order-assignments', data: { claimable: true } });
  });
  it('after a claim only the claiming driver follows the order; the tracking view carries no codes', () => {
    const picked = publicationsFor(
      change(historyFor('READY_FOR_PICKUP'), [EVENTS.claimed(), EVENTS.pickedUp()]),
    );
    const heard = audiencesOf(picked);
    expect(heard).toContain(audiences.driver(DRIVER_ID));
    expect(heard.filter((audience) => audience === audiences.drivers)).toHaveLength(1); // the claim itself, to clear it from others' lists
    expect(JSON.stringify(picked)).not.toContain('4821');
    expect(JSON.stringify(picked)).not.toContain('7315');
  });
});

describe('in-process bus', () => {
  it('replays after an id and says when the log no longer reaches back', async () => {
    const bus = createMemoryBus();
    const message = { channel: 'order-updates', type: 'T', at: new Date().toISOString(), data: {} };
    await bus.publish([{ audiences: ['a'], message }]);
    const first = (await bus.history('a', '0-0')).messages[0]!;
    await bus.publish([
      { audiences: ['a'], message },
      { audiences: ['a'], message },
    ]);
    expect((await bus.history('a', first.id)).messages).toHaveLength(2);
    expect((await bus.history('a', first.id)).complete).toBe(true);
    await bus.publish(Array.from({ length: HISTORY_LENGTH }, () => ({ audiences: ['a'], message })));
    expect((await bus.history('a', first.id)).complete).toBe(false);
  });
});
