/**
 * A new address over USSD (docs/ussd.md "A new address"): a neighbourhood picked from the
 * city's zones, delivered to its centre point. Pure: the centre of a zone's outline and the
 * address saved for it. A zone's centre is the area centroid of its polygon (planar on degrees,
 * as the catalog's zone test is); the service offers a zone only when the catalog places that
 * point in that very zone and delivers there (a concave outline's centroid may fall outside it,
 * or inside a smaller zone, and is then not offered).
 */
export interface ZonePoint {
  latitude: number;
  longitude: number;
}

/** The area centroid of a polygon (vertices in order, not closed); the vertices' mean when flat. */
export function zoneCentre(polygon: readonly ZonePoint[]): ZonePoint {
  let twiceArea = 0;
  let x = 0;
  let y = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i, i += 1) {
    const a = polygon[j]!;
    const b = polygon[i]!;
    const cross = a.longitude * b.latitude - b.longitude * a.latitude;
    twiceArea += cross;
    x += (a.longitude + b.longitude) * cross;
    y += (a.latitude + b.latitude) * cross;
  }
  if (Math.abs(twiceArea) < 1e-12) {
    const n = Math.max(1, polygon.length);
    return {
      latitude: polygon.reduce((sum, p) => sum + p.latitude, 0) / n,
      longitude: polygon.reduce((sum, p) => sum + p.longitude, 0) / n,
    };
  }
  // Six decimals: about 11 cm, and what an address stores comfortably.
  const round = (value: number) => Math.round(value * 1e6) / 1e6;
  return { latitude: round(y / (3 * twiceArea)), longitude: round(x / (3 * twiceArea)) };
}

/** The farthest vertex from the centre, in metres (how far a delivery may be from the point priced). */
export function zoneReachM(polygon: readonly ZonePoint[], centre: ZonePoint): number {
  const metresPerDegree = 111_320;
  return Math.round(
    Math.max(
      0,
      ...polygon.map((p) =>
        Math.hypot(
          (p.latitude - centre.latitude) * metresPerDegree,
          (p.longitude - centre.longitude) * metresPerDegree * Math.cos((centre.latitude * Math.PI) / 180),
        ),
      ),
    ),
  );
}

/** The limits of identity's address fields (the app's `POST /v1/me/addresses` schema). */
const LIMITS = { label: 40, line1: 200, city: 80, district: 80, landmark: 200, instructions: 300 } as const;

const fit = (text: string, max: number) => {
  const single = text
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return single.length <= max ? single : `${single.slice(0, max - 1)}…`;
};

export interface ZoneAddressInput {
  label: string;
  line1: string;
  city: string;
  district: string;
  landmark: string;
  instructions: string;
  latitude: number;
  longitude: number;
  isDefault: boolean;
}

/**
 * The address saved for a zone: label = the zone's name, `line1` = "<zone>, <city>", the landmark
 * and instructions saying the driver calls (the network verified the number), within the limits
 * of the app's address fields so identity accepts it as it would the app's.
 */
export function zoneAddress(input: {
  zone: string;
  city: string;
  centre: ZonePoint;
  landmark: string;
  instructions: string;
  isDefault: boolean;
}): ZoneAddressInput {
  return {
    label: fit(input.zone, LIMITS.label),
    line1: fit(`${input.zone}, ${input.city}`, LIMITS.line1),
    city: fit(input.city, LIMITS.city),
    district: fit(input.zone, LIMITS.district),
    landmark: fit(input.landmark, LIMITS.landmark),
    instructions: fit(input.instructions, LIMITS.instructions),
    latitude: input.centre.latitude,
    longitude: input.centre.longitude,
    isDefault: input.isDefault,
  };
}
