import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHaversineRouting, createYandexRouting } from '../../../src/modules/dispatch/index.js';

/**
 * The Yandex Distance Matrix adapter against a local stand-in that speaks the documented API:
 * GET /v2/distancematrix?origins=lat,lon&destinations=lat,lon&mode=driving&apikey=… →
 * { rows: [{ elements: [{ status, distance: { value }, duration: { value } }] }] }.
 */
let server: Server;
let baseUrl: string;
const requests: URL[] = [];
let answer: (url: URL) => { status: number; body: unknown; delayMs?: number } = () => ({
  status: 200,
  body: { rows: [{ elements: [{ status: 'OK', distance: { value: 3210 }, duration: { value: 540 } }] }] },
});

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    requests.push(url);
    const { status, body, delayMs } = answer(url);
    setTimeout(() => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    }, delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const AKWA = { latitude: 4.0511, longitude: 9.7679 };
const BONAPRISO = { latitude: 4.0311, longitude: 9.7 };
const fallback = createHaversineRouting({
  cities: [],
  defaultRoadFactor: 1.4,
  speedKmh: { motorbike: 22, car: 18, bicycle: 12 },
});

function adapter(fallbacks: string[] = []) {
  return createYandexRouting({
    apiKey: 'test-key-123',
    baseUrl,
    timeoutMs: 200,
    fallback,
    bicycleSpeedKmh: 12,
    onFallback: (reason) => fallbacks.push(reason),
  });
}

describe('Yandex Distance Matrix routing', () => {
  it('asks for the driving route from origin to destination (lat,lon) with the key, and answers its metres and seconds', async () => {
    requests.length = 0;
    const travel = await adapter().travel(AKWA, BONAPRISO, 'motorbike');
    expect(travel).toEqual({ distanceMeters: 3210, durationSeconds: 540 });
    const asked = requests[0]!;
    expect(asked.pathname).toBe('/v2/distancematrix');
    expect(asked.searchParams.get('origins')).toBe('4.0511,9.7679');
    expect(asked.searchParams.get('destinations')).toBe('4.0311,9.7');
    expect(asked.searchParams.get('mode')).toBe('driving');
    expect(asked.searchParams.get('apikey')).toBe('test-key-123');
  });

  it("takes a bicycle's time from the route's distance at the bicycle speed", async () => {
    const travel = await adapter().travel(AKWA, BONAPRISO, 'bicycle');
    expect(travel).toEqual({ distanceMeters: 3210, durationSeconds: Math.round(3210 / (12 / 3.6)) });
  });

  it('answers with the haversine estimate when the API fails, times out or finds no route', async () => {
    const expected = await fallback.travel(AKWA, BONAPRISO, 'car');
    const cases: [string, typeof answer][] = [
      ['HTTP 500', () => ({ status: 500, body: { message: 'oops' } })],
      ['HTTP 403', () => ({ status: 403, body: { message: 'bad key' } })],
      ['element status FAIL', () => ({ status: 200, body: { rows: [{ elements: [{ status: 'FAIL' }] }] } })],
      ['no element in the answer', () => ({ status: 200, body: { rows: [] } })],
      [
        'element without a distance and a duration',
        () => ({
          status: 200,
          body: { rows: [{ elements: [{ status: 'OK', distance: { value: 'far' } }] }] },
        }),
      ],
      ['timeout', () => ({ status: 200, body: {}, delayMs: 500 })],
    ];
    for (const [reason, respond] of cases) {
      answer = respond;
      const fallbacks: string[] = [];
      expect(await adapter(fallbacks).travel(AKWA, BONAPRISO, 'car'), reason).toEqual(expected);
      expect(fallbacks, reason).toEqual([reason]);
    }
  });
});
