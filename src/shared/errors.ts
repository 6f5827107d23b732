/**
 * Domain errors: what a context throws when a request cannot be done, free of HTTP.
 *
 * Each context declares its own subclass (or a factory over `domainErrors(context)`) with stable
 * `code`s; the HTTP edge (src/http/errors.ts) maps `kind` to a status and the error to
 * problem+json, once. Nothing below the edge knows status codes or headers, and no context
 * inspects another's errors by status: it checks a class or a `code`.
 *
 * This file is the shared kernel: it imports nothing, and anything may import it.
 */

/** The one taxonomy of failures a client can act on (the edge maps each to one status). */
export const ERROR_KINDS = [
  'validation', // 400: the input is malformed or out of range
  'unauthorized', // 401: who you are is unknown or no longer valid
  'payment_required', // 402: the payment itself failed (funds, limits)
  'forbidden', // 403: known, but not allowed
  'not_found', // 404
  'conflict', // 409: the state changed, or the request contradicts it
  'gone', // 410
  'precondition_failed', // 412
  'too_large', // 413
  'unprocessable', // 422: well-formed, but the rules refuse it
  'locked', // 423
  'rate_limited', // 429
  'internal', // 500: a broken invariant of ours (the message is logged, never sent)
  'bad_gateway', // 502: a dependency answered something we cannot use
  'unavailable', // 503: a dependency is down or we are overloaded; retry later
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface DomainErrorOptions {
  /** Fields a client may act on (e.g. `attemptsLeft`); never personal data. */
  details?: Record<string, unknown>;
  /** When a retry may succeed (the edge sends it as `Retry-After`). */
  retryAfterSeconds?: number;
  cause?: unknown;
  /** This occurrence in French (the message is English); without it French clients get the code's French description. */
  detailFr?: string;
  /** `details` for a French reader (the same keys, lists of field problems in French). */
  detailsFr?: Record<string, unknown>;
}

export class DomainError extends Error {
  readonly kind: ErrorKind;
  /** Stable, snake_case: clients switch on it; it never changes meaning. */
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly retryAfterSeconds: number | undefined;
  readonly detailFr: string | undefined;
  readonly detailsFr: Record<string, unknown> | undefined;
  /** The bounded context that threw it ('orders', 'payments', …); for logs and tests. */
  readonly context: string;

  constructor(
    context: string,
    kind: ErrorKind,
    code: string,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.context = context;
    this.kind = kind;
    this.code = code;
    this.details = options.details ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.detailFr = options.detailFr;
    this.detailsFr = options.detailsFr;
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}

type Factory = (message: string, details?: Record<string, unknown>) => DomainError;

export interface DomainErrorFactories {
  /** Any kind with a specific code: `errors.of('conflict', 'order_not_pending', '…')`. */
  of(kind: ErrorKind, code: string, message: string, options?: DomainErrorOptions): DomainError;
  validation: Factory;
  unauthorized: Factory;
  forbidden: Factory;
  notFound: Factory;
  conflict: Factory;
  preconditionFailed: Factory;
  unprocessable: Factory;
  rateLimited: (message: string, retryAfterSeconds: number, details?: Record<string, unknown>) => DomainError;
  unavailable: (message: string, retryAfterSeconds: number, details?: Record<string, unknown>) => DomainError;
}

/**
 * A context's error factories, with the generic codes of the taxonomy. A context that needs a
 * more specific code uses `of(kind, code, message)` or its own subclass of DomainError.
 */
export function domainErrors(context: string): DomainErrorFactories {
  const make =
    (kind: ErrorKind, code: string): Factory =>
    (message, details) =>
      new DomainError(context, kind, code, message, { details });
  return {
    of: (kind, code, message, options) => new DomainError(context, kind, code, message, options),
    validation: make('validation', 'validation_failed'),
    unauthorized: make('unauthorized', 'unauthorized'),
    forbidden: make('forbidden', 'forbidden'),
    notFound: make('not_found', 'not_found'),
    conflict: make('conflict', 'conflict'),
    preconditionFailed: make('precondition_failed', 'precondition_failed'),
    unprocessable: make('unprocessable', 'unprocessable'),
    rateLimited: (message, retryAfterSeconds, details) =>
      new DomainError(context, 'rate_limited', 'rate_limited', message, { details, retryAfterSeconds }),
    unavailable: (message, retryAfterSeconds, details) =>
      new DomainError(context, 'unavailable', 'service_unavailable', message, { details, retryAfterSeconds }),
  };
}
