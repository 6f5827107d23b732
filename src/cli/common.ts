/**
 * What every command-line tool shares: `--help`, usage errors (exit 64), readable failures with
 * no stack trace (the stack goes to the log at debug level), and amounts written for people.
 */
import type { Logger } from 'pino';

export const EXIT_USAGE = 64; // EX_USAGE
export const EXIT_CONFIG = 78; // EX_CONFIG

/** `--help`, `-h` or `help` anywhere: print the usage on stdout and exit 0. */
export function handleHelp(usage: string, argv: string[] = process.argv.slice(2)): void {
  if (argv.some((argument) => argument === '--help' || argument === '-h' || argument === 'help')) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
}

export function usageError(usage: string, message: string): never {
  process.stderr.write(`${message}\n\n${usage.trim()}\n`);
  process.exit(EXIT_USAGE);
}

/** One line a person can act on; the stack trace only in the log (LOG_LEVEL=debug shows it). */
export function reportFailure(what: string, error: unknown, logger?: Logger): void {
  logger?.debug({ err: error }, `${what} failed`);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${what} failed: ${message}\n`);
  process.exitCode = 1;
}

/**
 * Starts what a tool needs (`boot()`), turning a failure there (PostgreSQL unreachable, a boot
 * step refused) into the same one readable line and exit 1 as a failure of the command itself.
 */
export async function startOrExit<T>(what: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    reportFailure(what, error);
    process.exit(1);
  }
}

const EXPONENT: Record<string, number> = { XAF: 0, USD: 2, EUR: 2, PTS: 0 };

/** `1234500n, 'XAF'` → `1 234 500 XAF`; `-1234n, 'USD'` → `-12.34 USD` (minor units, exact). */
export function formatMinor(amountMinor: bigint, currency: string): string {
  const exponent = EXPONENT[currency] ?? 0;
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  const fraction = exponent === 0 ? '' : `.${digits.slice(digits.length - exponent)}`;
  return `${negative ? '-' : ''}${whole}${fraction} ${currency}`;
}

export interface Progress {
  /** True when the live line is drawn (stderr is a terminal): worth polling for figures. */
  readonly live: boolean;
  /** Reports the count done so far; on a terminal, redraws one line with the rate (at most 10 times a second). */
  update(done: number, total?: number): void;
  /** Clears the live line, then prints one summary line on stdout: the count, the time, the rate. */
  finish(summary?: string): void;
}

/**
 * Progress of a long run (`ledger -- verify`, `projections -- rebuild`): a live line with the rate
 * on a terminal (stderr, so stdout stays the result), and a summary line on stdout in any case
 * (logs and CI get the summary only).
 */
export function progress(
  label: string,
  unit: string,
  options: {
    live?: NodeJS.WritableStream & { isTTY?: boolean };
    out?: NodeJS.WritableStream;
    now?: () => number;
  } = {},
): Progress {
  const liveStream = options.live ?? process.stderr;
  const out = options.out ?? process.stdout;
  const now = options.now ?? (() => performance.now());
  const live = liveStream.isTTY === true;
  const startedAt = now();
  let lastDrawAt = Number.NEGATIVE_INFINITY;
  let count = 0;
  const rate = (done: number, at: number) => {
    const seconds = (at - startedAt) / 1000;
    return seconds <= 0 ? 0 : Math.round(done / seconds);
  };
  const figure = (value: number) => value.toLocaleString('en-US');
  return {
    live,
    update(done, total) {
      count = done;
      const at = now();
      if (!live || at - lastDrawAt < 100) return;
      lastDrawAt = at;
      const of = total === undefined ? '' : ` of ${figure(total)}`;
      liveStream.write(`\r${label}: ${figure(done)}${of} ${unit}, ${figure(rate(done, at))} ${unit}/s\x1b[K`);
    },
    finish(summary) {
      const at = now();
      if (live) liveStream.write('\r\x1b[K');
      const seconds = ((at - startedAt) / 1000).toFixed(1);
      const tail = summary === undefined ? '' : `; ${summary}`;
      out.write(
        `${label}: ${figure(count)} ${unit} in ${seconds} s (${figure(rate(count, at))} ${unit}/s)${tail}\n`,
      );
    },
  };
}
