import { describe, expect, it } from 'vitest';
import { africasTalking, MAX_INPUTS } from './aggregator.js';
import { keyedOrderId, recentRestaurants, restaurantChoices } from './service.js';

const form = (overrides: Record<string, string> = {}) => ({
  sessionId: 'ATUid_1',
  serviceCode: '*123#',
  phoneNumber: '+237670000001',
  networkCode: '62401',
  text: '',
  ...overrides,
});

describe("Africa's Talking aggregator", () => {
  it('given the first callback, then no inputs; later ones split text on *', () => {
    expect(africasTalking.parse(form())).toEqual({
      sessionId: 'ATUid_1',
      serviceCode: '*123#',
      phone: '+237670000001',
      inputs: [],
    });
    expect(africasTalking.parse(form({ text: '1*2**2580' }))).toMatchObject({
      inputs: ['1', '2', '', '2580'],
    });
  });

  it('given a national spelling of the number, then E.164', () => {
    expect(africasTalking.parse(form({ phoneNumber: '237 670 00 00 01' }))).toMatchObject({
      phone: '+237670000001',
    });
  });

  it('given a field it never sends, then the reason and no request', () => {
    for (const bad of [
      form({ sessionId: '' }),
      form({ serviceCode: 'abc' }),
      form({ phoneNumber: 'nobody' }),
      form({ text: '1'.repeat(513) }),
      form({ text: Array.from({ length: MAX_INPUTS + 1 }, () => '1').join('*') }),
    ])
      expect(africasTalking.parse(bad)).toHaveProperty('problem');
  });

  it('answers CON to continue and END to close, as text/plain', () => {
    expect(africasTalking.answer({ text: 'Menu', end: false })).toEqual({
      contentType: 'text/plain; charset=utf-8',
      body: 'CON Menu',
    });
    expect(africasTalking.answer({ text: 'Bye', end: true }).body).toBe('END Bye');
  });
});

describe('order ids and restaurants of a session', () => {
  it('names one order per customer and first dial, as a UUID', () => {
    const id = keyedOrderId('u1', 'ATUid_1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(keyedOrderId('u1', 'ATUid_1')).toBe(id);
    expect(keyedOrderId('u2', 'ATUid_1')).not.toBe(id);
    expect(keyedOrderId('u1', 'ATUid_2')).not.toBe(id);
  });

  it('lists the restaurants of recent orders once each, most recent first', () => {
    expect(
      recentRestaurants([
        { restaurantId: 'b', restaurantName: 'B' },
        { restaurantId: 'a', restaurantName: 'A' },
        { restaurantId: 'b', restaurantName: 'B' },
      ]),
    ).toEqual([
      { id: 'b', label: 'B' },
      { id: 'a', label: 'A' },
    ]);
  });

  it('lists the favourite restaurants that take orders first, then those of recent orders, each once', () => {
    expect(
      restaurantChoices(
        [
          { id: 'f', name: 'F', active: true },
          { id: 'closed', name: 'Closed', active: false },
          { id: 'a', name: 'A', active: true },
        ],
        [
          { restaurantId: 'b', restaurantName: 'B' },
          { restaurantId: 'a', restaurantName: 'A' },
          { restaurantId: 'closed', restaurantName: 'Closed' },
        ],
      ),
    ).toEqual([
      { id: 'f', label: 'F' },
      { id: 'a', label: 'A' },
      { id: 'b', label: 'B' },
      // Inactive as a favourite, but ordered from recently: the menu then says whether it opens.
      { id: 'closed', label: 'Closed' },
    ]);
    expect(restaurantChoices([], [])).toEqual([]);
  });
});
