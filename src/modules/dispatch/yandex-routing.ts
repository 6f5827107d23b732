/**
 * The routing port over the Yandex Distance Matrix HTTP API (used when YANDEX_MAPS_API_KEY is set):
 *   GET <base>/v2/distancematrix?origins=<lat>,<lon>&destinations=<lat>,<lon>&mode=driving&apikey=…
 *   → { rows: [ { elements: [ { status: 'OK', distance: { value: metres }, duration: { value: s } } ] } ] }
 * Motorbikes and cars take the driving route and its traffic-aware duration. A bicycle takes the
 * driving route's distance at ROUTING_SPEED_KMH_BICYCLE, since the matrix has no cycling mode.
 * When the API fails, times out or answers anything but an OK element, the answer comes from the
 * fallback port (haversine × road factor), so dispatch never waits on a third party.
 */
import type { GeoPoint } from './geo.js';
import type { Vehicle } from './fix-rules.js';
import type { RoutingPort, Travel } from './routing.js';

export interface YandexRoutingOptions {
  apiKey: string;
  /** e.g. https://api.routing.yandex.net (a local stand-in in tests). */
  baseUrl: string;
  timeoutMs: number;
  fallback: RoutingPort;
  bicycleSpeedKmh: number;
  fetch?: typeof fetch;
  /** Told each time the fallback answered, with why (for a metric or a log line). */
  onFallback?: (reason: string) => void;
}

const point = (value: GeoPoint) => `${value.latitude},${value.longitude}`;

function elementOf(body: unknown): { distance: number; duration: number } | string {
  const element = (body as { rows?: { elements?: unknown[] }[] } | null)?.rows?.[0]?.elements?.[0] as
    { status?: unknown; distance?: { value?: unknown }; duration?: { value?: unknown } } | undefined;
  if (element === undefined) return 'no element in the answer';
  if (element.status !== 'OK') return `element status ${String(element.status).slice(0, 20)}`;
  const distance = element.distance?.value;
  const duration = element.duration?.value;
  if (typeof distance !== 'number' || typeof duration !== 'number' || distance < 0 || duration < 0)
    return 'element without a distance and a duration';
  return { distance, duration };
}

export function createYandexRouting(options: YandexRoutingOptions): RoutingPort {
  const fetchImpl = options.fetch ?? fetch;
  async function ask(from: GeoPoint, to: GeoPoint): Promise<{ distance: number; duration: number } | string> {
    const url = new URL('/v2/distancematrix', options.baseUrl);
    url.searchParams.set('origins', point(from));
    url.searchParams.set('destinations', point(to));
    url.searchParams.set('mode', 'driving');
    url.searchParams.set('apikey', options.apiKey);
    try {
      const response = await fetchImpl(url, { signal: AbortSignal.timeout(options.timeoutMs) });
      if (!response.ok) return `HTTP ${response.status}`;
      return elementOf(await response.json());
    } catch (error) {
      return error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'unreachable';
    }
  }
  return {
    async travel(from, to, vehicle: Vehicle): Promise<Travel> {
      const answer = await ask(from, to);
      if (typeof answer === 'string') {
        options.onFallback?.(answer);
        return options.fallback.travel(from, to, vehicle);
      }
      const durationSeconds =
        vehicle === 'bicycle'
          ? Math.round(answer.distance / ((options.bicycleSpeedKmh * 1000) / 3600))
          : Math.round(answer.duration);
      return { distanceMeters: Math.round(answer.distance), durationSeconds };
    },
  };
}
