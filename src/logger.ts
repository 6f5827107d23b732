import pino, { type Logger, type LoggerOptions } from 'pino';
import { activeTraceIds, tracingEnabled } from './telemetry/tracing.js';

/** Keys whose value is always a secret or personal: removed whatever it looks like. */
const ALWAYS_REDACTED = [
  'password',
  'newPassword',
  'currentPassword',
  'otp',
  'totp',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'backupCodes',
  'phone',
  'email',
  'msisdn',
  'pin',
];

/**
 * Keys that are personal only sometimes: `code` is a one-time code in an auth payload but
 * `ECONNREFUSED` on an error, `to`/`from` a phone number in an SMS but a date in a report
 * range. Their values are redacted when they look personal (see `looksPersonal`), kept otherwise,
 * so an operator still reads `err.code` and the dates of what failed.
 */
const REDACTED_WHEN_PERSONAL = ['code', 'to', 'from'];

const paths = (keys: string[]) => keys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

/**
 * Paths pino inspects before a line is written: credentials, one-time codes, tokens and
 * personal data (phone numbers, e-mails). Bodies are not logged at all; these cover objects
 * that code passes to the logger on purpose.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-signature"]',
  'res.headers["set-cookie"]',
  ...paths(ALWAYS_REDACTED),
  ...paths(REDACTED_WHEN_PERSONAL),
];

const REDACTED = '[redacted]';
const AMBIGUOUS = new Set(REDACTED_WHEN_PERSONAL);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]|$)/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
/** A one-time code (4-8 digits) or a phone number (8-15 digits, any separators, maybe a +). */
const DIGITS = /^\+?\d{4,15}$/;

/** A one-time code, a phone number or an e-mail address; not a date, an error code or a status. */
export function looksPersonal(value: unknown): boolean {
  if (typeof value === 'number') return true; // a numeric code or number: nothing an operator needs
  if (typeof value !== 'string') return value !== null && value !== undefined && typeof value === 'object';
  const text = value.trim();
  if (ISO_DATE.test(text)) return false;
  return EMAIL.test(text) || DIGITS.test(text.replace(/[\s().-]/g, ''));
}

/** pino's censor: every listed path is redacted, except an ambiguous key whose value is not personal. */
export function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (AMBIGUOUS.has(key) && !looksPersonal(value)) return value;
  return REDACTED;
}

/**
 * Query parameters whose values never reach a log: anything that names a credential (WebSocket
 * upgrades carry `?access_token=`, links carry reset tokens, callbacks carry signatures) and
 * personal data (phone, e-mail, search text). Matched anywhere in the name, so `access_token`,
 * `refresh_token`, `id_token`, `apiKey` or `x-signature` are caught without a list to keep.
 */
const SENSITIVE_QUERY_KEYS =
  /token|code|otp|totp|pin|signature|^sig$|secret|password|passwd|key|auth|session|cookie|nonce|jwt|phone|msisdn|e-?mail|^to$|^from$|^q$/i;

/** Masks personal data and tokens in URLs: query values and the public tracking token. */
export function maskUrl(url: string): string {
  const [pathPart = '', query] = url.split('?', 2);
  const maskedPath = pathPart.replace(/\/track\/[^/]+/, '/track/[redacted]');
  if (query === undefined) return maskedPath;
  const params = new URLSearchParams(query);
  for (const key of [...params.keys()]) if (SENSITIVE_QUERY_KEYS.test(key)) params.set(key, '[redacted]');
  return `${maskedPath}?${params.toString()}`;
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    // trace_id and span_id of the active span, so a log line leads to its trace. Tracing is on
    // or off before any logger exists (the preload), and off there is no mixin at all.
    ...(tracingEnabled() ? { mixin: activeTraceIds } : {}),
    redact: { paths: REDACTED_PATHS, censor },
    serializers: {
      req(request: {
        method: string;
        url: string;
        id: string;
        ip?: string;
        routeOptions?: { url?: string };
      }) {
        return {
          id: request.id,
          method: request.method,
          url: maskUrl(request.url),
          route: request.routeOptions?.url,
        };
      },
      res(reply: { statusCode: number }) {
        return { statusCode: reply.statusCode };
      },
    },
  };
}

/**
 * JSON lines, except for a person at a terminal in development: then pino-pretty (a development
 * dependency, loaded only here) prints readable lines. Production and pipes always get JSON.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  if (destination !== undefined) return pino(loggerOptions(level), destination);
  if (prettyWanted()) {
    return pino({
      ...loggerOptions(level),
      transport: {
        target: 'pino-pretty',
        options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(loggerOptions(level));
}

function prettyWanted(): boolean {
  if (process.stdout.isTTY !== true || process.env.NODE_ENV === 'production') return false;
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false; // production dependencies only: JSON
  }
}
