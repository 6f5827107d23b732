import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { City } from './cities.js';
import {
  deliveryTermsAt,
  inWindow,
  localClock,
  pointInPolygon,
  polygonArea,
  selfIntersects,
  zoneAt,
  zoneProblems,
  type Zone,
} from './zones.js';

const douala: City = {
  id: 'douala',
  name: { fr: 'Douala', en: 'Douala' },
  country: 'CM',
  timeZone: 'Africa/Douala',
  currency: 'XAF',
  languages: ['fr', 'en'],
  active: true,
  center: { latitude: 4.0511, longitude: 9.7679 },
  bounds: { south: 3.9, west: 9.55, north: 4.2, east: 9.9 },
  rules: {},
};

/** An axis-aligned square as a polygon (south-west corner, side in degrees). */
function square(south: number, west: number, side: number) {
  return [
    { latitude: south, longitude: west },
    { latitude: south, longitude: west + side },
    { latitude: south + side, longitude: west + side },
    { latitude: south + side, longitude: west },
  ];
}

function zone(overrides: Partial<Zone> = {}): Zone {
  return {
    id: 'akwa',
    cityId: 'douala',
    name: 'Akwa',
    polygon: square(4.0, 9.7, 0.1),
    active: true,
    delivers: true,
    feeAdjustmentXaf: 0,
    surges: [],
    ...overrides,
  };
}

// 2026-12-07 is a Monday; Africa/Douala is UTC+1 all year.
const mondayAt = (hhmm: string) => new Date(`2026-12-07T${hhmm}:00+01:00`);

describe('point in polygon', () => {
  it('answers inside for points strictly inside a square and outside beyond it', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        (u, v) => {
          const polygon = square(4.0, 9.7, 0.1);
          expect(pointInPolygon({ latitude: 4.0 + u * 0.1, longitude: 9.7 + v * 0.1 }, polygon)).toBe(true);
          expect(pointInPolygon({ latitude: 4.1 + u * 0.1, longitude: 9.7 + v * 0.1 }, polygon)).toBe(false);
          expect(pointInPolygon({ latitude: 4.0 + u * 0.1, longitude: 9.6 - v * 0.1 }, polygon)).toBe(false);
        },
      ),
    );
  });

  it('handles a concave outline: the notch of an L is outside', () => {
    const l = [
      { latitude: 0, longitude: 0 },
      { latitude: 0, longitude: 2 },
      { latitude: 1, longitude: 2 },
      { latitude: 1, longitude: 1 },
      { latitude: 2, longitude: 1 },
      { latitude: 2, longitude: 0 },
    ];
    expect(pointInPolygon({ latitude: 0.5, longitude: 1.5 }, l)).toBe(true);
    expect(pointInPolygon({ latitude: 1.5, longitude: 0.5 }, l)).toBe(true);
    expect(pointInPolygon({ latitude: 1.5, longitude: 1.5 }, l)).toBe(false);
    expect(polygonArea(l)).toBeCloseTo(3, 10);
  });
});

describe('zone checks', () => {
  it('accepts a simple outline inside the city and refuses crossing, flat or outside ones', () => {
    expect(zoneProblems(zone(), douala)).toEqual([]);
    const bowTie = [
      { latitude: 4.0, longitude: 9.7 },
      { latitude: 4.1, longitude: 9.8 },
      { latitude: 4.1, longitude: 9.7 },
      { latitude: 4.0, longitude: 9.8 },
    ];
    expect(selfIntersects(bowTie)).toBe(true);
    expect(zoneProblems(zone({ polygon: bowTie }), douala)).toEqual([
      { path: 'polygon', message: 'the outline crosses itself' },
    ]);
    const flat = [
      { latitude: 4.0, longitude: 9.7 },
      { latitude: 4.05, longitude: 9.75 },
      { latitude: 4.1, longitude: 9.8 },
    ];
    expect(zoneProblems(zone({ polygon: flat }), douala)[0]?.message).toBe('the outline has no area');
    const outside = zoneProblems(zone({ polygon: square(11.4, 3.8, 0.1) }), douala);
    expect(outside.map((p) => p.path)).toEqual(['polygon/0', 'polygon/1', 'polygon/2', 'polygon/3']);
    expect(zoneProblems(zone({ surges: [{ window: '25:00-26:00', addXaf: 100 }] }), douala)).toEqual([
      { path: 'surges/0/window', message: 'HH:MM-HH:MM' },
    ]);
  });
});

describe('local time windows', () => {
  it('reads the city clock and runs overnight windows past midnight on the day they started', () => {
    expect(localClock(mondayAt('12:30'), 'Africa/Douala')).toEqual({ day: 'mon', minute: 750 });
    expect(inWindow({ day: 'mon', minute: 750 }, '11:00-14:00')).toBe(true);
    expect(inWindow({ day: 'mon', minute: 840 }, '11:00-14:00')).toBe(false);
    // Friday 22:00-02:00: Saturday 01:00 is in it, Monday 01:00 is not.
    expect(inWindow({ day: 'sat', minute: 60 }, '22:00-02:00', ['fri'])).toBe(true);
    expect(inWindow({ day: 'mon', minute: 60 }, '22:00-02:00', ['fri'])).toBe(false);
    expect(inWindow({ day: 'fri', minute: 23 * 60 }, '22:00-02:00', ['fri'])).toBe(true);
  });
});

describe('delivery terms', () => {
  it('falls back to the global fee rule and no limits in a city without rules or zones', () => {
    expect(deliveryTermsAt(douala, [], { latitude: 4.05, longitude: 9.75 }, mondayAt('12:00'))).toEqual({
      cityId: 'douala',
      zoneId: null,
      fee: { baseXaf: 500, per100MetresXaf: 10, adjustmentXaf: 0 },
      minimumOrderXaf: 0,
      maxDeliveryDistanceM: null,
      taxRatePercent: null,
      commissionRate: null,
      surgeXaf: 0,
      dispatch: { radiusKm: null, radiusStepKm: null, maxRadiusKm: null },
    });
  });

  it("carries the city's matching radii to dispatch, wherever the point lies", () => {
    const city: City = {
      ...douala,
      rules: { dispatchRadiusKm: 1.5, dispatchRadiusStepKm: 1, dispatchMaxRadiusKm: 4 },
    };
    expect(
      deliveryTermsAt(city, [], { latitude: 4.05, longitude: 9.75 }, mondayAt('03:00')).dispatch,
    ).toEqual({
      radiusKm: 1.5,
      radiusStepKm: 1,
      maxRadiusKm: 4,
    });
  });

  it("applies the city's rules, the smallest zone's adjustment and the surges in force", () => {
    const city: City = {
      ...douala,
      rules: {
        deliveryFeeXaf: 700,
        deliveryFeePerKmXaf: 150,
        minimumOrderXaf: 2000,
        maxDeliveryDistanceM: 6000,
        taxRatePercent: 19.25,
        commissionPercent: 12.5,
      },
    };
    const zones = [
      zone({ id: 'wide', polygon: square(3.95, 9.6, 0.25), feeAdjustmentXaf: 100 }),
      zone({
        id: 'akwa',
        feeAdjustmentXaf: 200,
        surges: [
          { window: '11:30-14:00', addXaf: 300 },
          { window: '11:00-13:00', days: ['sat'], addXaf: 1000 },
        ],
      }),
    ];
    const inAkwa = { latitude: 4.05, longitude: 9.75 };
    const lunch = deliveryTermsAt(city, zones, inAkwa, mondayAt('12:00'));
    expect(lunch).toMatchObject({
      zoneId: 'akwa',
      fee: { baseXaf: 700, per100MetresXaf: 15, adjustmentXaf: 500 },
      surgeXaf: 300,
      commissionRate: '0.125',
      minimumOrderXaf: 2000,
      maxDeliveryDistanceM: 6000,
      taxRatePercent: '19.25',
    });
    expect(lunch.refusal).toBeUndefined();
    expect(deliveryTermsAt(city, zones, inAkwa, mondayAt('15:00')).fee.adjustmentXaf).toBe(200);
    // In the wide zone only.
    expect(
      deliveryTermsAt(city, zones, { latitude: 3.97, longitude: 9.62 }, mondayAt('12:00')),
    ).toMatchObject({
      zoneId: 'wide',
      fee: { adjustmentXaf: 100 },
    });
    expect(zoneAt(zones, { latitude: 4.05, longitude: 9.75 })?.id).toBe('akwa');
  });

  it('refuses: inactive city, service closed, outside hours, outside the zones, a zone not served', () => {
    const point = { latitude: 4.05, longitude: 9.75 };
    const noon = mondayAt('12:00');
    const refusal = (city: City, zones: Zone[] = [], at = noon, where = point) =>
      deliveryTermsAt(city, zones, where, at).refusal;
    expect(refusal({ ...douala, active: false })).toBe('city_inactive');
    expect(refusal({ ...douala, rules: { serviceOpen: false } })).toBe('service_closed');
    expect(refusal({ ...douala, rules: { serviceHours: '07:00-11:00' } })).toBe('outside_service_hours');
    expect(refusal({ ...douala, rules: { serviceHours: '18:00-02:00' } }, [], mondayAt('01:30'))).toBe(
      undefined,
    );
    expect(refusal(douala, [zone()], noon, { latitude: 3.92, longitude: 9.6 })).toBe('outside_zones');
    // An inactive zone does not count: a city whose zones are all off delivers everywhere.
    expect(refusal(douala, [zone({ active: false })], noon, { latitude: 3.92, longitude: 9.6 })).toBe(
      undefined,
    );
    expect(refusal(douala, [zone({ delivers: false })])).toBe('zone_not_served');
  });
});
