/**
 * The weather simulator for development and tests (never in production, the config refuses it):
 * rain follows the season's chance at the place (the same calendar as the ranker's training data,
 * features.ts `RAIN_CHANCE`), drawn per weather cell and hour from a hash, so a place's weather is
 * stable within an hour and the same on every instance; tomorrow's chance of rain is the season's
 * for the next day at noon.
 */
import { createHash } from 'node:crypto';
import { rainChance } from '../features.js';
import type { Place, WeatherNow, WeatherProvider } from './port.js';

export function simulatedWeather(options: { now?: () => number } = {}): WeatherProvider {
  const now = options.now ?? Date.now;
  return {
    name: 'simulator',
    async current(place: Place): Promise<WeatherNow> {
      const at = now();
      const hour = Math.floor(at / 3_600_000);
      const digest = createHash('sha256')
        .update(`${place.latitude.toFixed(1)}:${place.longitude.toFixed(1)}:${hour}`)
        .digest();
      const draw = digest.readUInt32BE(0) / 2 ** 32;
      const rain = draw < rainChance(at, place);
      return {
        rain,
        precipitationMm: rain ? Number((0.2 + (digest.readUInt16BE(4) / 65_536) * 8).toFixed(1)) : 0,
        weatherCode: rain ? 63 : 1,
        observedAt: new Date(hour * 3_600_000).toISOString(),
        tomorrowRainChance: rainChance((Math.floor(at / 86_400_000) + 1) * 86_400_000 + 43_200_000, place),
      };
    },
  };
}
