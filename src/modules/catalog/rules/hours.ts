/**
 * Opening hours, closures and availability schedules: pure rules, no I/O.
 *
 * Everything normalises to half-open ranges of "minute of the week" in the restaurant's time zone
 * (Africa/Douala; 0 = Monday 00:00, 10080 = the next Monday). An overnight range (22:00-02:00) runs
 * into the next day, and a Sunday-night range wraps into Monday morning. The same ranges are
 * written to PostgreSQL as an int4multirange so "open now" can be filtered in SQL.
 */
export const TIME_ZONE = 'Africa/Douala';
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const MINUTES_PER_DAY = 1440;
export const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;
export const MAX_RANGES_PER_DAY = 4;
export const MAX_CLOSURES = 50;
export const MAX_SCHEDULE_WINDOWS = 14;
/** How far ahead "next opening" looks; a restaurant closed longer than this has none. */
export const NEXT_OPENING_HORIZON_DAYS = 60;

export interface TimeRange {
  /** 'HH:MM', 00:00-23:59 */
  opens: string;
  /** 'HH:MM', 00:00-24:00; at or before `opens` means the range ends the next day */
  closes: string;
}
export type WeeklyHours = Partial<Record<Weekday, TimeRange[]>>;

/** A closure in local time ('YYYY-MM-DDTHH:MM', Africa/Douala), half-open. */
export interface Closure {
  startsAt: string;
  endsAt: string;
  reason?: string;
}
/** A whole local day off. */
export interface Holiday {
  date: string;
  name?: string;
}
export interface ClosureRules {
  closures: Closure[];
  holidays: Holiday[];
}

/** An availability window for items and categories: breakfast only, weekends… */
export interface AvailabilityWindow {
  days: Weekday[];
  opens: string;
  closes: string;
}

/** [start, end) in minutes of the week. */
export type WeekRange = readonly [number, number];
export interface Period {
  start: Date;
  end: Date;
}

const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)$/;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Minutes after midnight, or undefined when not 'HH:MM'. */
export function parseClock(value: string): number | undefined {
  const match = CLOCK.exec(value);
  if (match === null) return undefined;
  if (value === '24:00') return MINUTES_PER_DAY;
  return Number(match[1]) * 60 + Number(match[2]);
}

function rangeOfDay(dayIndex: number, range: TimeRange): WeekRange | undefined {
  const opens = parseClock(range.opens);
  const closes = parseClock(range.closes);
  if (opens === undefined || closes === undefined || opens === MINUTES_PER_DAY) return undefined;
  const start = dayIndex * MINUTES_PER_DAY + opens;
  // closes <= opens: the range runs past midnight; 00:00-00:00 means the whole day.
  const end =
    closes > opens ? dayIndex * MINUTES_PER_DAY + closes : (dayIndex + 1) * MINUTES_PER_DAY + closes;
  return [start, end];
}

/** Sorted, merged, wrapped into [0, MINUTES_PER_WEEK). */
export function mergeRanges(ranges: WeekRange[]): WeekRange[] {
  const wrapped: [number, number][] = [];
  for (const [start, end] of ranges) {
    if (end <= MINUTES_PER_WEEK) wrapped.push([start, end]);
    else {
      wrapped.push([start, MINUTES_PER_WEEK]);
      wrapped.push([0, Math.min(end - MINUTES_PER_WEEK, MINUTES_PER_WEEK)]);
    }
  }
  wrapped.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number][] = [];
  for (const [start, end] of wrapped) {
    const last = merged[merged.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

export function weeklyRanges(hours: WeeklyHours): WeekRange[] {
  const ranges: WeekRange[] = [];
  WEEKDAYS.forEach((day, dayIndex) => {
    for (const range of hours[day] ?? []) {
      const weekRange = rangeOfDay(dayIndex, range);
      if (weekRange !== undefined) ranges.push(weekRange);
    }
  });
  return mergeRanges(ranges);
}

export function scheduleRanges(schedule: AvailabilityWindow[]): WeekRange[] {
  const ranges: WeekRange[] = [];
  for (const window of schedule) {
    for (const day of new Set(window.days)) {
      const weekRange = rangeOfDay(WEEKDAYS.indexOf(day), window);
      if (weekRange !== undefined) ranges.push(weekRange);
    }
  }
  return mergeRanges(ranges);
}

/** Problems with weekly hours, each naming the day; empty when valid. */
export function validateWeeklyHours(hours: WeeklyHours): string[] {
  const problems: string[] = [];
  const all: { day: Weekday; range: WeekRange }[] = [];
  WEEKDAYS.forEach((day, dayIndex) => {
    const ranges = hours[day] ?? [];
    if (ranges.length > MAX_RANGES_PER_DAY) problems.push(`${day}: at most ${MAX_RANGES_PER_DAY} ranges`);
    for (const range of ranges) {
      const weekRange = rangeOfDay(dayIndex, range);
      if (weekRange === undefined) problems.push(`${day}: ${range.opens}-${range.closes} is not HH:MM-HH:MM`);
      else all.push({ day, range: weekRange });
    }
  });
  // Overlap check on the unwrapped line, plus the Sunday-night range that wraps onto Monday.
  const shifted = all.flatMap((entry) =>
    entry.range[1] > MINUTES_PER_WEEK
      ? [
          entry,
          {
            day: entry.day,
            range: [entry.range[0] - MINUTES_PER_WEEK, entry.range[1] - MINUTES_PER_WEEK] as const,
          },
        ]
      : [entry],
  );
  shifted.sort((a, b) => a.range[0] - b.range[0]);
  for (let index = 1; index < shifted.length; index += 1) {
    const previous = shifted[index - 1]!;
    const current = shifted[index]!;
    if (current.range[0] < previous.range[1])
      problems.push(`${current.day}: ranges overlap (${previous.day})`);
  }
  return problems;
}

export function validateSchedule(schedule: AvailabilityWindow[]): string[] {
  const problems: string[] = [];
  if (schedule.length > MAX_SCHEDULE_WINDOWS) problems.push(`at most ${MAX_SCHEDULE_WINDOWS} windows`);
  schedule.forEach((window, index) => {
    if (window.days.length === 0) problems.push(`window ${index}: no days`);
    if (rangeOfDay(0, window) === undefined)
      problems.push(`window ${index}: ${window.opens}-${window.closes} is not HH:MM-HH:MM`);
  });
  return problems;
}

const localFormatter = new Intl.DateTimeFormat('en-GB', {
  timeZone: TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  weekday: 'short',
});
const WEEKDAY_INDEX: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  weekdayIndex: number;
  minuteOfDay: number;
  minuteOfWeek: number;
  /** Local time minus UTC, in minutes (60 in Douala). */
  offsetMinutes: number;
}

/** Intl's formatToParts is slow for a per-request call; every instant in a minute shares the answer. */
let lastMinute: { minute: number; local: LocalTime } | undefined;

export function localTime(instant: Date): LocalTime {
  const minute = Math.floor(instant.getTime() / 60_000);
  if (lastMinute !== undefined && lastMinute.minute === minute) return lastMinute.local;
  const local = computeLocalTime(instant);
  lastMinute = { minute, local };
  return local;
}

function computeLocalTime(instant: Date): LocalTime {
  const parts: Record<string, string> = {};
  for (const part of localFormatter.formatToParts(instant)) parts[part.type] = part.value;
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  const minuteOfDay = Number(parts.hour) * 60 + Number(parts.minute);
  const weekdayIndex = WEEKDAY_INDEX[parts.weekday ?? ''] ?? 0;
  const asUtc = Date.UTC(year, month - 1, day, Math.floor(minuteOfDay / 60), minuteOfDay % 60);
  const offsetMinutes = Math.round((asUtc - Math.floor(instant.getTime() / 60_000) * 60_000) / 60_000);
  return {
    year,
    month,
    day,
    weekdayIndex,
    minuteOfDay,
    minuteOfWeek: weekdayIndex * MINUTES_PER_DAY + minuteOfDay,
    offsetMinutes,
  };
}

/** The instant of a local wall-clock time in Africa/Douala. */
export function localToInstant(year: number, month: number, day: number, minuteOfDay: number): Date {
  const guess = Date.UTC(year, month - 1, day) + minuteOfDay * 60_000;
  const offset = localTime(new Date(guess)).offsetMinutes;
  return new Date(guess - offset * 60_000);
}

/** 'YYYY-MM-DDTHH:MM' local → instant, or undefined when malformed. */
export function parseLocalDateTime(value: string): Date | undefined {
  const match = LOCAL_DATE_TIME.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return localToInstant(year, month, day, hour * 60 + minute);
}

export function parseLocalDate(value: string): { year: number; month: number; day: number } | undefined {
  const match = LOCAL_DATE.exec(value);
  if (match === null) return undefined;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return { year, month, day };
}

/** Closures and holidays as instants; throws nothing, reports malformed entries instead. */
export function closedPeriods(rules: ClosureRules): { periods: Period[]; problems: string[] } {
  const periods: Period[] = [];
  const problems: string[] = [];
  if (rules.closures.length + rules.holidays.length > MAX_CLOSURES) {
    problems.push(`at most ${MAX_CLOSURES} closures and holidays together`);
  }
  rules.closures.forEach((closure, index) => {
    const start = parseLocalDateTime(closure.startsAt);
    const end = parseLocalDateTime(closure.endsAt);
    if (start === undefined || end === undefined)
      problems.push(`closure ${index}: dates must be YYYY-MM-DDTHH:MM`);
    else if (end <= start) problems.push(`closure ${index}: endsAt must be after startsAt`);
    else periods.push({ start, end });
  });
  rules.holidays.forEach((holiday, index) => {
    const date = parseLocalDate(holiday.date);
    if (date === undefined) {
      problems.push(`holiday ${index}: date must be YYYY-MM-DD`);
      return;
    }
    const start = localToInstant(date.year, date.month, date.day, 0);
    const end = localToInstant(date.year, date.month, date.day + 1, 0);
    periods.push({ start, end });
  });
  periods.sort((a, b) => a.start.getTime() - b.start.getTime());
  return { periods, problems };
}

export function inWeekRanges(ranges: readonly WeekRange[], minuteOfWeek: number): boolean {
  return ranges.some(([start, end]) => minuteOfWeek >= start && minuteOfWeek < end);
}

export function inPeriods(periods: readonly Period[], instant: Date): boolean {
  const time = instant.getTime();
  return periods.some((period) => time >= period.start.getTime() && time < period.end.getTime());
}

export interface OpeningRules {
  ranges: readonly WeekRange[];
  closed: readonly Period[];
}

export function isOpenAt(rules: OpeningRules, instant: Date): boolean {
  return inWeekRanges(rules.ranges, localTime(instant).minuteOfWeek) && !inPeriods(rules.closed, instant);
}

/**
 * The first instant at or after `instant` when the restaurant is open, within the horizon.
 * Candidates are the instant itself, every weekly range start, and every closure end: the
 * opening state can only change to "open" at one of those.
 */
export function nextOpening(rules: OpeningRules, instant: Date): Date | undefined {
  if (rules.ranges.length === 0) return undefined;
  const local = localTime(instant);
  const minuteStart = Math.floor(instant.getTime() / 60_000) * 60_000;
  const weekStartMs = minuteStart - local.minuteOfWeek * 60_000;
  const horizonMs = instant.getTime() + NEXT_OPENING_HORIZON_DAYS * MINUTES_PER_DAY * 60_000;
  const candidates: number[] = [instant.getTime()];
  const weeks = Math.ceil(NEXT_OPENING_HORIZON_DAYS / 7) + 1;
  for (let week = 0; week <= weeks; week += 1) {
    for (const [start] of rules.ranges)
      candidates.push(weekStartMs + (week * MINUTES_PER_WEEK + start) * 60_000);
  }
  for (const period of rules.closed) candidates.push(period.end.getTime());
  candidates.sort((a, b) => a - b);
  for (const candidate of candidates) {
    if (candidate < instant.getTime() || candidate > horizonMs) continue;
    if (isOpenAt(rules, new Date(candidate))) return new Date(candidate);
  }
  return undefined;
}

/** When an open restaurant next closes (end of the current range or the next closure). */
export function closesAt(rules: OpeningRules, instant: Date): Date | undefined {
  if (!isOpenAt(rules, instant)) return undefined;
  const local = localTime(instant);
  const minuteStart = Math.floor(instant.getTime() / 60_000) * 60_000;
  const weekStartMs = minuteStart - local.minuteOfWeek * 60_000;
  const range = rules.ranges.find(([start, end]) => local.minuteOfWeek >= start && local.minuteOfWeek < end);
  let minute = range?.[1] ?? local.minuteOfWeek;
  // A Sunday-night range continues into Monday morning's range across the week boundary.
  if (minute === MINUTES_PER_WEEK) {
    const wrapped = rules.ranges.find(([start]) => start === 0);
    if (wrapped !== undefined && wrapped !== range) minute = MINUTES_PER_WEEK + wrapped[1];
  }
  const rangeEnd = weekStartMs + minute * 60_000;
  const nextClosure = rules.closed.find((period) => period.start.getTime() > instant.getTime());
  const end = nextClosure === undefined ? rangeEnd : Math.min(rangeEnd, nextClosure.start.getTime());
  return new Date(end);
}

/** `{[0,600),[700,1440)}`: the PostgreSQL int4multirange literal. */
export function weekRangesLiteral(ranges: readonly WeekRange[]): string {
  return `{${ranges.map(([start, end]) => `[${start},${end})`).join(',')}}`;
}

/** The tstzmultirange literal of closed periods (overlaps are merged by PostgreSQL). */
export function periodsLiteral(periods: readonly Period[]): string {
  return `{${periods.map((period) => `["${period.start.toISOString()}","${period.end.toISOString()}")`).join(',')}}`;
}

/** The next instant after `instant` at which membership of `ranges` can change (for cache expiry). */
export function nextBoundary(ranges: readonly WeekRange[], instant: Date): Date {
  const local = localTime(instant);
  const minuteStart = Math.floor(instant.getTime() / 60_000) * 60_000;
  const weekStartMs = minuteStart - local.minuteOfWeek * 60_000;
  let best = MINUTES_PER_WEEK + MINUTES_PER_WEEK;
  for (const [start, end] of ranges) {
    for (const edge of [start, end, start + MINUTES_PER_WEEK, end + MINUTES_PER_WEEK]) {
      if (edge > local.minuteOfWeek && edge < best) best = edge;
    }
  }
  return new Date(weekStartMs + best * 60_000);
}
