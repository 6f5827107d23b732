import pino, { type Logger, type LoggerOptions } from 'pino';

/**
 * Paths pino removes before a line is written: credentials, one-time codes, tokens and
 * personal data (phone numbers, e-mails). Bodies are not logged at all; these cover objects
 * that code passes to the logger on purpose.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-signature"]',
  'res.headers["set-cookie"]',
  ...[
    'password',
    'newPassword',
    'currentPassword',
    'otp',
    'code',
    'totp',
    'token',
    'accessToken',
    'refreshToken',
    'secret',
    'backupCodes',
    'phone',
    'email',
    'msisdn',
    'to',
    'from',
    'pin',
  ].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

const SENSITIVE_QUERY_KEYS = /^(to|phone|email|token|code|otp|q)$/i;

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
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
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

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return destination === undefined ? pino(loggerOptions(level)) : pino(loggerOptions(level), destination);
}
