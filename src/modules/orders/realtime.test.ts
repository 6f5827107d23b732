import { describe, expect, it } from 'vitest';
import { audiences } from '../../realtime/index.js';
import { evolve, initialState } from './decider.js';
import { CUSTOMER, DRIVER_ID, EVENTS, historyFor, OWNER } from './fixtures.js';
import type { OrderEvent } from './events.js';
import { orderAudience, publicationsFor } from './realtime.js';

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
        orderAudience('a0000000-0000-4000-8000-000000000001'),
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
