import { describe, expect, it } from 'vitest';
import { zoneAddress, zoneCentre, zoneReachM } from './zone-address.js';

const square = [
  { latitude: 4.0, longitude: 9.7 },
  { latitude: 4.0, longitude: 9.72 },
  { latitude: 4.02, longitude: 9.72 },
  { latitude: 4.02, longitude: 9.7 },
];

describe('a zone as a USSD address', () => {
  it('given a square, its centre is the middle, whichever way the outline turns', () => {
    expect(zoneCentre(square)).toEqual({ latitude: 4.01, longitude: 9.71 });
    expect(zoneCentre([...square].reverse())).toEqual({ latitude: 4.01, longitude: 9.71 });
  });

  it('given an L-shaped outline, its centre is the area centroid (weighted to the bigger arm)', () => {
    // Two unit squares side by side plus one above the left one: centroid (x 5/6, y 5/6) in units of 0.01°.
    const l = [
      { latitude: 0, longitude: 0 },
      { latitude: 0, longitude: 0.02 },
      { latitude: 0.01, longitude: 0.02 },
      { latitude: 0.01, longitude: 0.01 },
      { latitude: 0.02, longitude: 0.01 },
      { latitude: 0.02, longitude: 0 },
    ];
    const centre = zoneCentre(l);
    expect(centre.latitude).toBeCloseTo(0.008333, 5);
    expect(centre.longitude).toBeCloseTo(0.008333, 5);
  });

  it('given a flat outline (no area), the mean of its vertices', () => {
    expect(
      zoneCentre([
        { latitude: 1, longitude: 1 },
        { latitude: 2, longitude: 2 },
        { latitude: 3, longitude: 3 },
      ]),
    ).toEqual({ latitude: 2, longitude: 2 });
  });

  it('measures how far the outline reaches from the centre (a 2.2 km square: about 1.57 km)', () => {
    const reach = zoneReachM(square, zoneCentre(square));
    expect(reach).toBeGreaterThan(1_560);
    expect(reach).toBeLessThan(1_580);
  });

  it("builds an address within the app's limits, whatever the names hold", () => {
    const long = `${'Quartier très long '.repeat(10)}\u0000\n`;
    const address = zoneAddress({
      zone: long,
      city: long,
      centre: { latitude: 4.01, longitude: 9.71 },
      landmark: 'The driver calls the customer on arrival',
      instructions: 'Call on arrival',
      isDefault: true,
    });
    expect(address.label.length).toBeLessThanOrEqual(40);
    expect(address.line1.length).toBeLessThanOrEqual(200);
    expect(address.city.length).toBeLessThanOrEqual(80);
    expect(address.district.length).toBeLessThanOrEqual(80);
    expect(JSON.stringify(address)).not.toMatch(/\\u0000|\\n/);
    expect(
      zoneAddress({
        zone: 'Akwa',
        city: 'Douala',
        centre: { latitude: 4.01, longitude: 9.71 },
        landmark: 'L',
        instructions: 'I',
        isDefault: false,
      }),
    ).toEqual({
      label: 'Akwa',
      line1: 'Akwa, Douala',
      city: 'Douala',
      district: 'Akwa',
      landmark: 'L',
      instructions: 'I',
      latitude: 4.01,
      longitude: 9.71,
      isDefault: false,
    });
  });
});
