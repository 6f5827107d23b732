import { describe, expect, it } from 'vitest';
import { cityProblems } from './cities.js';
import { closedPeriods, validateSchedule, validateWeeklyHours } from './hours.js';
import { fieldProblemFr, fieldProblemsFr, pathProblemsFr } from './problems-fr.js';
import { cellToParent, latLngToCell } from 'h3-js';
import { areaProblems, cellProblems, zoneProblems } from './zones.js';

const range = (opens: string, closes: string) => ({ opens, closes });

/** Every form the rules produce, from inputs that break each rule once. */
function everyEnglishProblem(): string[] {
  const hours = validateWeeklyHours({
    mon: [range('08:00', '14:00'), range('12:00', '20:00')],
    tue: [range('8h', '14:00')],
    wed: Array.from({ length: 20 }, (_, index) =>
      range(`${String(index).padStart(2, '0')}:00`, `${String(index).padStart(2, '0')}:30`),
    ),
  } as never);
  const schedule = validateSchedule([
    ...Array.from({ length: 30 }, () => ({ days: [], opens: '25:00', closes: '10:00' })),
  ] as never);
  const closures = closedPeriods({
    closures: [
      { startsAt: 'tomorrow', endsAt: '2026-12-07T10:00' },
      { startsAt: '2026-12-07T10:00', endsAt: '2026-12-07T09:00' },
      ...Array.from({ length: 400 }, () => ({ startsAt: '2026-12-07T10:00', endsAt: '2026-12-07T11:00' })),
    ],
    holidays: [{ date: 'noël' }],
  } as never).problems;
  const city = cityProblems({
    timeZone: 'Mars/Olympus',
    center: { latitude: 50, longitude: 50 },
    bounds: { south: 5, west: 10, north: 1, east: 9 },
    rules: { supportHours: '8-20', taxRatePercent: 1.123456 },
  } as never).map((problem) => problem.message);
  const wide = cityProblems({
    timeZone: 'Africa/Douala',
    center: { latitude: 4, longitude: 9.7 },
    bounds: { south: 0, west: 0, north: 10, east: 20 },
    rules: {},
  } as never).map((problem) => problem.message);
  const zone = [
    ...zoneProblems(
      {
        polygon: [{ latitude: 0, longitude: 0 }],
        surges: [{ window: 'soir' }],
        feeAdjustmentXaf: 0,
      } as never,
      {
        bounds: { south: 3.9, west: 9.6, north: 4.2, east: 9.9 },
      } as never,
    ),
    ...zoneProblems(
      {
        polygon: [
          { latitude: 4, longitude: 9.7 },
          { latitude: 4.1, longitude: 9.8 },
          { latitude: 4, longitude: 9.8 },
          { latitude: 4.1, longitude: 9.7 },
        ],
        surges: [],
        feeAdjustmentXaf: 0,
      } as never,
      { bounds: { south: 3.9, west: 9.6, north: 4.2, east: 9.9 } } as never,
    ),
  ].map((problem) => problem.message);
  const bounds = { south: 3.9, west: 9.6, north: 4.2, east: 9.9 };
  const cell = latLngToCell(4.05, 9.75, 9);
  const cells = [
    ...cellProblems(
      ['nope', latLngToCell(4.05, 9.75, 11), cell, cell, latLngToCell(3.5, 9.75, 9)],
      bounds,
      9,
    ),
    ...cellProblems([cell, cellToParent(cell, 7)], bounds, 9),
    ...cellProblems([], bounds, 9),
    ...cellProblems(
      Array.from({ length: 5001 }, () => cell),
      bounds,
      9,
    ),
    ...cellProblems(
      [latLngToCell(4, 10, 5), latLngToCell(4.4, 10, 5), latLngToCell(5.2, 10, 5)],
      { south: 2, west: 8, north: 6, east: 12 },
      10,
    ),
    ...areaProblems(
      {
        polygon: [
          { latitude: 4.05, longitude: 9.75 },
          { latitude: 4.05, longitude: 9.7503 },
          { latitude: 4.0503, longitude: 9.7503 },
        ],
      },
      bounds,
      9,
    ),
    ...areaProblems(
      {
        polygon: [
          { latitude: 3.91, longitude: 9.61 },
          { latitude: 3.91, longitude: 9.89 },
          { latitude: 4.19, longitude: 9.89 },
          { latitude: 4.19, longitude: 9.61 },
        ],
      },
      bounds,
      10,
    ),
    ...areaProblems({}, bounds, 9),
  ].map((problem) => problem.message);
  return [...hours, ...schedule, ...closures, ...city, ...wide, ...zone, ...cells];
}

describe('French field problems', () => {
  it('given every problem the hours, schedule, closure, city and zone rules produce, then each has its French', () => {
    const english = everyEnglishProblem();
    // The inputs above break every rule: each form appears at least once.
    expect(new Set(english.map((problem) => problem.replace(/\d+/g, 'N'))).size).toBeGreaterThanOrEqual(28);
    const missing = english.filter((problem) => fieldProblemFr(problem) === undefined);
    expect(missing).toEqual([]);
  });

  it('given an English problem, then the French keeps its particulars (day, index, limit, text sent)', () => {
    expect(fieldProblemFr('mon: ranges overlap (mon)')).toBe(
      'mon : des plages horaires se chevauchent (mon)',
    );
    expect(fieldProblemFr('tue: 8h-14:00 is not HH:MM-HH:MM')).toBe(
      'tue : 8h-14:00 n’est pas au format HH:MM-HH:MM',
    );
    expect(fieldProblemFr('closure 3: endsAt must be after startsAt')).toBe(
      'fermeture 3 : endsAt doit être après startsAt',
    );
    expect(fieldProblemFr('at most 60 closures and holidays together')).toBe(
      'au plus 60 fermetures et jours fériés au total',
    );
    expect(pathProblemsFr([{ path: 'bounds', message: 'south must be below north' }])).toEqual([
      { path: 'bounds', message: 'south doit être inférieur à north' },
    ]);
  });

  it('given a form it does not know, then the English stays (never an empty message)', () => {
    expect(fieldProblemFr('something new')).toBeUndefined();
    expect(fieldProblemsFr(['something new'])).toEqual(['something new']);
  });
});
