import { describe, expect, it } from 'vitest';
import { generateHistory } from '../../../../ml/src/generate.js';
import { CITY_CENTRES, seasonalRain } from '../features.js';
import { hourOf, recordedCityOf, WeatherLog } from './history.js';

const HOUR = 3_600_000;
const at = Date.UTC(2026, 7, 10, 14, 25); // August: Douala's season says rain, Yaoundé's dry

describe('the weather log (issue #24)', () => {
  it('answers a city-hour’s record, the first one when a city-hour is recorded twice', () => {
    const log = new WeatherLog([
      { city: 'douala', hour: hourOf(at), rain: false },
      { city: 'douala', hour: hourOf(at), rain: true },
      { city: 'yaounde', hour: hourOf(at) + HOUR, rain: true },
    ]);
    expect(log.size).toBe(2);
    expect(log.recorded({ latitude: 4.08, longitude: 9.72 }, at)).toBe(false);
    expect(log.rainAt({ latitude: 4.08, longitude: 9.72 }, at)).toBe(false);
    expect(log.recorded(CITY_CENTRES.yaounde, at + HOUR)).toBe(true);
  });

  it('falls back to the season without a record: another hour, a place near neither city, no place', () => {
    const log = new WeatherLog([{ city: 'douala', hour: hourOf(at), rain: false }]);
    expect(seasonalRain(at + HOUR, CITY_CENTRES.douala)).toBe(true);
    expect(log.recorded(CITY_CENTRES.douala, at + HOUR)).toBeUndefined();
    expect(log.rainAt(CITY_CENTRES.douala, at + HOUR)).toBe(true);
    const garoua = { latitude: 9.3, longitude: 13.4 };
    expect(recordedCityOf(garoua)).toBeNull();
    expect(log.recorded(garoua, at)).toBeUndefined();
    expect(log.rainAt(null, at)).toBe(seasonalRain(at, null));
  });

  it('gives the synthetic history’s orders the weather the generator drew for them', () => {
    const history = generateHistory({ customers: 300, weeks: 3 });
    const log = new WeatherLog(history.weather);
    expect(log.size).toBe(2 * 21 * 24);
    const season = history.orders.filter((order) => seasonalRain(order.at, order.location) !== order.rain);
    expect(season.length).toBeGreaterThan(0); // the season alone would mislabel these
    for (const order of history.orders) expect(log.recorded(order.location, order.at)).toBe(order.rain);
  });
});
