/**
 * A ticket's SLA clock in its city's support hours (issue #26), pure: no I/O.
 *
 * A city's `supportHours` is one local window `HH:MM-HH:MM` (a window ending at or before its
 * start runs past midnight and belongs to the day it starts), optionally on some weekdays only
 * (absent: every day). The SLA counts only the minutes inside those hours: a ticket opened at
 * 21:00 with hours 08:00-20:00 and 60 minutes to its due time is due at 09:00 the next morning.
 * Without hours (no city, or a city without `supportHours`) the clock runs all day, as before.
 */

export const SUPPORT_WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type SupportWeekday = (typeof SUPPORT_WEEKDAYS)[number];

export interface SupportHours {
  /** IANA time zone of the city (e.g. Africa/Douala). */
  timeZone: string;
  /** `HH:MM-HH:MM`, local. */
  window: string;
  /** Weekdays the window starts on (local); absent = every day. */
  days?: readonly SupportWeekday[] | undefined;
}

const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;
const MINUTE = 60_000;
/** Far enough for any SLA (weeks) in hours open one day a week; beyond it the clock runs all day. */
const MAX_STEPS = 5_000;

function windowMinutes(text: string): { from: number; to: number } | undefined {
  const match = WINDOW.exec(text);
  if (match === null || (match[3] === '24' && match[4] !== '00')) return undefined;
  return { from: Number(match[1]) * 60 + Number(match[2]), to: Number(match[3]) * 60 + Number(match[4]) };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local weekday and minute of the day (with its fraction) at `at`. */
function localClock(at: Date, timeZone: string): { day: SupportWeekday; minute: number } {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    if (formatters.size >= 100) formatters.clear();
    formatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = part('weekday').toLowerCase().slice(0, 3) as SupportWeekday;
  const withinMinute = (at.getTime() % MINUTE) / MINUTE;
  return { day, minute: Number(part('hour')) * 60 + Number(part('minute')) + withinMinute };
}

function open(
  clock: { day: SupportWeekday; minute: number },
  window: { from: number; to: number },
  days: readonly SupportWeekday[] | undefined,
): boolean {
  const allowed = (day: SupportWeekday) => days === undefined || days.includes(day);
  const previous = SUPPORT_WEEKDAYS[(SUPPORT_WEEKDAYS.indexOf(clock.day) + 6) % 7]!;
  if (window.from < window.to)
    return clock.minute >= window.from && clock.minute < window.to && allowed(clock.day);
  if (clock.minute >= window.from) return allowed(clock.day);
  return clock.minute < window.to && allowed(previous);
}

/**
 * The instant `minutes` of support hours after `from`: the clock runs only while the city's
 * support is open. Without hours, a malformed window, or hours on no day, it runs all day.
 */
export function dueWithinHours(from: Date, minutes: number, hours: SupportHours | undefined): Date {
  const allDay = new Date(from.getTime() + minutes * MINUTE);
  if (hours === undefined || (hours.days !== undefined && hours.days.length === 0)) return allDay;
  const window = windowMinutes(hours.window);
  if (window === undefined || window.from === window.to) return allDay; // 00:00-00:00: always open
  const edges = [...new Set([window.from, window.to, 24 * 60])].sort((a, b) => a - b);
  let at = from.getTime();
  let left = minutes;
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const clock = localClock(new Date(at), hours.timeZone);
    // Up to the next edge of the window or the local midnight (a day's open state can change there).
    const edge = edges.find((e) => e > clock.minute + 1e-9) ?? 24 * 60;
    const span = edge - clock.minute;
    if (open(clock, window, hours.days)) {
      if (left <= span) return new Date(Math.round(at + left * MINUTE));
      left -= span;
    }
    // Edges are whole local minutes: rounding keeps the instant exact (no float drift).
    at = Math.round(at + span * MINUTE);
  }
  return allDay;
}

/** Whether support is open at `at` (the same rule as the clock). */
export function supportOpenAt(at: Date, hours: SupportHours | undefined): boolean {
  if (hours === undefined) return true;
  const window = windowMinutes(hours.window);
  if (window === undefined || window.from === window.to) return true;
  return open(localClock(at, hours.timeZone), window, hours.days);
}
