import fc from 'fast-check';
import { cellToChildren, cellToLatLng, cellToParent, getHexagonEdgeLengthAvg, latLngToCell } from 'h3-js';
import { describe, expect, it } from 'vitest';
import type { City } from './cities.js';
import {
  deliveryTermsAt,
  indexZones,
  inWindow,
  localClock,
  polygonCells,
  cellProblems,
  zoneOutline,
  MAX_ZONE_CELLS,
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

/** A zone drawn as a polygon: its cells are the polygon's at resolution 9, as the service stores them. */
function zone(overrides: Partial<Zone> = {}): Zone {
  const polygon = overrides.polygon ?? square(4.0, 9.7, 0.1);
  return {
    id: 'akwa',
    cityId: 'douala',
    name: 'Akwa',
    polygon,
    cells: polygonCells(polygon, 9),
    resolution: 9,
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

/** A zone as an admin sends it with an outline only (its cells are computed from it). */
const drawn = (overrides: Partial<Zone> = {}) => ({ ...zone(overrides), cells: null });

describe('zone checks', () => {
  it('accepts a simple outline inside the city and refuses crossing, flat or outside ones', () => {
    expect(zoneProblems(drawn(), douala)).toEqual([]);
    const bowTie = [
      { latitude: 4.0, longitude: 9.7 },
      { latitude: 4.1, longitude: 9.8 },
      { latitude: 4.1, longitude: 9.7 },
      { latitude: 4.0, longitude: 9.8 },
    ];
    expect(selfIntersects(bowTie)).toBe(true);
    expect(zoneProblems(drawn({ polygon: bowTie }), douala)).toEqual([
      { path: 'polygon', message: 'the outline crosses itself' },
    ]);
    const flat = [
      { latitude: 4.0, longitude: 9.7 },
      { latitude: 4.05, longitude: 9.75 },
      { latitude: 4.1, longitude: 9.8 },
    ];
    expect(zoneProblems(drawn({ polygon: flat }), douala)[0]?.message).toBe('the outline has no area');
    const outside = zoneProblems(drawn({ polygon: square(11.4, 3.8, 0.1) }), douala);
    expect(outside.map((p) => p.path)).toEqual(['polygon/0', 'polygon/1', 'polygon/2', 'polygon/3']);
    expect(zoneProblems(drawn({ surges: [{ window: '25:00-26:00', addXaf: 100 }] }), douala)).toEqual([
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
    expect(
      deliveryTermsAt(douala, indexZones([]), { latitude: 4.05, longitude: 9.75 }, mondayAt('12:00')),
    ).toEqual({
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
      deliveryTermsAt(city, indexZones([]), { latitude: 4.05, longitude: 9.75 }, mondayAt('03:00')).dispatch,
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
    const lunch = deliveryTermsAt(city, indexZones(zones), inAkwa, mondayAt('12:00'));
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
    expect(deliveryTermsAt(city, indexZones(zones), inAkwa, mondayAt('15:00')).fee.adjustmentXaf).toBe(200);
    // In the wide zone only.
    expect(
      deliveryTermsAt(city, indexZones(zones), { latitude: 3.97, longitude: 9.62 }, mondayAt('12:00')),
    ).toMatchObject({
      zoneId: 'wide',
      fee: { adjustmentXaf: 100 },
    });
    expect(zoneAt(indexZones(zones), { latitude: 4.05, longitude: 9.75 })?.id).toBe('akwa');
  });

  it('refuses: inactive city, service closed, outside hours, outside the zones, a zone not served', () => {
    const point = { latitude: 4.05, longitude: 9.75 };
    const noon = mondayAt('12:00');
    const refusal = (city: City, zones: Zone[] = [], at = noon, where = point) =>
      deliveryTermsAt(city, indexZones(zones), where, at).refusal;
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

/** Metres between two points, flat-earth at the city's scale (enough for an edge margin). */
function metres(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }) {
  const perDegree = 111_320;
  return Math.hypot(
    (a.latitude - b.latitude) * perDegree,
    (a.longitude - b.longitude) * perDegree * Math.cos((a.latitude * Math.PI) / 180),
  );
}

/** The distance from a point to the nearest edge of a polygon, in metres. */
function distanceToEdge(
  point: { latitude: number; longitude: number },
  polygon: { latitude: number; longitude: number }[],
) {
  let best = Infinity;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i, i += 1) {
    const a = polygon[j]!;
    const b = polygon[i]!;
    // Project in a local metric frame.
    const k = Math.cos((point.latitude * Math.PI) / 180);
    const [ax, ay, bx, by, px, py] = [
      a.longitude * k,
      a.latitude,
      b.longitude * k,
      b.latitude,
      point.longitude * k,
      point.latitude,
    ];
    const length2 = (bx - ax) ** 2 + (by - ay) ** 2;
    const t =
      length2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / length2));
    best = Math.min(
      best,
      metres(point, { latitude: ay + t * (by - ay), longitude: (ax + t * (bx - ax)) / k }),
    );
  }
  return best;
}

describe('zones as H3 cells', () => {
  // A star-shaped outline around a centre in Douala: 5-12 vertices at random radii (concave often).
  const star = fc
    .record({
      latitude: fc.double({ min: 3.98, max: 4.12, noNaN: true }),
      longitude: fc.double({ min: 9.62, max: 9.83, noNaN: true }),
      radii: fc.array(fc.double({ min: 0.005, max: 0.06, noNaN: true }), { minLength: 5, maxLength: 12 }),
    })
    .map(({ latitude, longitude, radii }) =>
      radii.map((r, i) => ({
        latitude: latitude + r * Math.sin((2 * Math.PI * i) / radii.length),
        longitude: longitude + r * Math.cos((2 * Math.PI * i) / radii.length),
      })),
    );

  it('looks a point up by its cell and agrees with the polygon for points away from the edge', () => {
    // A cell's points lie within about one edge length of its centre; 2 edges is a safe margin.
    const margin = 2 * getHexagonEdgeLengthAvg(9, 'm');
    let checked = 0;
    fc.assert(
      fc.property(
        star,
        fc.array(
          fc.tuple(
            fc.double({ min: -0.07, max: 0.07, noNaN: true }),
            fc.double({ min: -0.07, max: 0.07, noNaN: true }),
          ),
          {
            minLength: 20,
            maxLength: 20,
          },
        ),
        (polygon, offsets) => {
          const index = indexZones([zone({ id: 'drawn', polygon })]);
          const centre = polygon.reduce(
            (c, p) => ({
              latitude: c.latitude + p.latitude / polygon.length,
              longitude: c.longitude + p.longitude / polygon.length,
            }),
            { latitude: 0, longitude: 0 },
          );
          for (const [dLat, dLng] of offsets) {
            const point = { latitude: centre.latitude + dLat, longitude: centre.longitude + dLng };
            if (distanceToEdge(point, polygon) < margin) continue;
            checked += 1;
            expect(zoneAt(index, point)?.id).toBe(pointInPolygon(point, polygon) ? 'drawn' : undefined);
          }
        },
      ),
      { numRuns: 60 },
    );
    expect(checked).toBeGreaterThan(500);
  });

  it('finds a point through a compacted parent cell as through its children', () => {
    const parent = latLngToCell(4.05, 9.75, 7);
    const byParent = indexZones([zone({ id: 'p', polygon: null, cells: [parent] })]);
    const byChildren = indexZones([zone({ id: 'p', polygon: null, cells: cellToChildren(parent, 9) })]);
    for (const child of cellToChildren(parent, 10).slice(0, 40)) {
      const [latitude, longitude] = cellToLatLng(child);
      expect(zoneAt(byParent, { latitude, longitude })?.id).toBe('p');
      expect(zoneAt(byChildren, { latitude, longitude })?.id).toBe('p');
    }
    expect(zoneAt(byParent, { latitude: 4.2, longitude: 9.55 })).toBeUndefined();
  });

  it('overlaps: the smaller zone wins where both hold the point, then the first id; inactive zones do not count', () => {
    const wide = zone({ id: 'wide', polygon: square(3.95, 9.6, 0.25) });
    const small = zone({ id: 'small', polygon: square(4.04, 9.74, 0.02) });
    const point = { latitude: 4.05, longitude: 9.75 };
    expect(zoneAt(indexZones([wide, small]), point)?.id).toBe('small');
    expect(zoneAt(indexZones([small, wide]), point)?.id).toBe('small');
    expect(zoneAt(indexZones([wide, { ...small, active: false }]), point)?.id).toBe('wide');
    const twin = { ...small, id: 'a-twin' };
    expect(zoneAt(indexZones([small, twin]), point)?.id).toBe('a-twin');
    expect(zoneAt(indexZones([wide, small]), { latitude: 3.97, longitude: 9.62 })?.id).toBe('wide');
  });

  it('accepts a zone given as cells only, and draws its outline from them', () => {
    const cell = latLngToCell(4.05, 9.75, 8);
    const cells = cellToChildren(cell, 9);
    expect(zoneProblems({ polygon: null, cells, surges: [], feeAdjustmentXaf: 0 }, douala, 9)).toEqual([]);
    const outline = zoneOutline({ polygon: null, cells, resolution: 9 });
    expect(outline.length).toBeGreaterThanOrEqual(6);
    expect(pointInPolygon({ latitude: 4.05, longitude: 9.75 }, outline)).toBe(true);
    const index = indexZones([zone({ id: 'cells', polygon: null, cells })]);
    expect(zoneAt(index, { latitude: 4.05, longitude: 9.75 })?.id).toBe('cells');
  });

  it('refuses bad cell ids, wrong resolutions, repeats, nesting, cells outside the city and too many', () => {
    const inside = latLngToCell(4.05, 9.75, 9);
    const bounds = douala.bounds;
    expect(cellProblems(['not-a-cell'], bounds, 9)).toEqual([
      { path: 'cells/0', message: 'not an H3 cell id' },
    ]);
    expect(cellProblems([inside, 'ffffffffffffff'], bounds, 9)[0]?.path).toBe('cells/1');
    expect(cellProblems([latLngToCell(4.05, 9.75, 10)], bounds, 9)).toEqual([
      { path: 'cells/0', message: 'resolution 5 to 9' },
    ]);
    expect(cellProblems([latLngToCell(4.05, 9.75, 3)], bounds, 9)[0]?.message).toBe('resolution 5 to 9');
    expect(cellProblems([inside, inside], bounds, 9)).toEqual([{ path: 'cells/1', message: 'listed twice' }]);
    expect(cellProblems([inside, cellToParent(inside, 7)], bounds, 9)[0]?.message).toContain('lies inside');
    expect(cellProblems([latLngToCell(3.85, 11.5, 9)], bounds, 9)).toEqual([
      { path: 'cells/0', message: "outside the city's bounds" },
    ]);
    expect(cellProblems([], bounds, 9)).toEqual([{ path: 'cells', message: 'at least one cell' }]);
    // Resolution-5 cells hold 16,807 cells of resolution 10 each: four are over the limit.
    const wide = { south: 2, west: 8, north: 6, east: 12 };
    const five = [...new Set([4.0, 4.4, 4.8, 5.2].map((lat) => latLngToCell(lat, 10, 5)))];
    expect(five.length * 16_807).toBeGreaterThan(MAX_ZONE_CELLS);
    expect(cellProblems(five, wide, 10)).toEqual([
      { path: 'cells', message: `at most ${MAX_ZONE_CELLS} cells of resolution 10` },
    ]);
  });

  it('refuses an outline smaller than one cell, and asks for a polygon or cells', () => {
    const tiny = square(4.05, 9.75, 0.0003);
    expect(zoneProblems({ polygon: tiny, cells: null, surges: [], feeAdjustmentXaf: 0 }, douala, 9)).toEqual([
      { path: 'polygon', message: 'smaller than one H3 cell of resolution 9; draw it wider or give cells' },
    ]);
    expect(zoneProblems({ polygon: null, cells: null, surges: [], feeAdjustmentXaf: 0 }, douala, 9)).toEqual([
      { path: '', message: 'a polygon or cells' },
    ]);
  });
});
