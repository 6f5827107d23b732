import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  DuplicateEventIds,
  EventTooLarge,
  StreamNotFound,
  WrongExpectedVersion,
} from '../eventstore/errors.js';
import { DomainError, type ErrorKind } from '../shared/errors.js';
import { isDependencyOutage } from '../shared/outage.js';
import { HttpProblem, problemBody } from './problem.js';
import { requestedLanguage, type Language } from './problem-catalogue.js';
import { validationItems } from './validation-messages.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** PUBLIC_BASE_URL: problem `type` URLs point at its /problems pages. */
    publicBaseUrl: string;
  }
}

/**
 * The profile's language of a signed-in user, for problems sent without a usable
 * Accept-Language; identity decorates the app with it (`profileLanguageOf`).
 */
export type ProfileLanguageLookup = (userId: string) => Promise<Language | undefined>;
export const PROFILE_LANGUAGE_DECORATOR = 'profileLanguageOf';

/**
 * The language of a problem: Accept-Language when it names French or English, else the signed-in
 * user's profile language (not for 5xx: the database may be what failed), else English.
 */
async function problemLanguage(request: FastifyRequest, status: number): Promise<Language> {
  const requested = requestedLanguage(request.headers['accept-language']);
  if (requested !== undefined) return requested;
  const principal = request.principal;
  if (status >= 500 || principal === null || principal === undefined || principal.kind !== 'user')
    return 'en';
  if (!request.server.hasDecorator(PROFILE_LANGUAGE_DECORATOR)) return 'en';
  const lookup = (request.server as unknown as Record<string, ProfileLanguageLookup>)[
    PROFILE_LANGUAGE_DECORATOR
  ]!;
  try {
    return (await lookup(principal.userId)) ?? 'en';
  } catch (error) {
    request.log.warn({ err: error }, 'profile language lookup failed; answering in English');
    return 'en';
  }
}

/** The one mapping from a domain error's kind to an HTTP status (docs/architecture.md, "Errors"). */
export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  validation: 400,
  unauthorized: 401,
  payment_required: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  precondition_failed: 412,
  too_large: 413,
  unprocessable: 422,
  locked: 423,
  rate_limited: 429,
  internal: 500,
  bad_gateway: 502,
  unavailable: 503,
};

/** A domain error as the problem it becomes at the edge (status, code, headers, extensions). */
export function problemOf(error: DomainError): HttpProblem {
  return new HttpProblem(STATUS_OF_KIND[error.kind], error.code, error.message, {
    extensions: error.details,
    ...(error.detailsFr === undefined ? {} : { extensionsFr: error.detailsFr }),
    ...(error.detailFr === undefined ? {} : { detailFr: error.detailFr }),
    headers:
      error.retryAfterSeconds === undefined
        ? {}
        : { 'retry-after': String(Math.ceil(error.retryAfterSeconds)) },
  });
}

/**
 * The event store's own errors (infrastructure, free of HTTP) as problems, where one escapes a
 * context to the edge; undefined for any other error.
 */
export function eventStoreProblem(error: unknown): HttpProblem | undefined {
  if (error instanceof WrongExpectedVersion) {
    return new HttpProblem(409, 'concurrency_conflict', 'The resource changed meanwhile; reload and retry.', {
      extensions: { expectedRevision: String(error.expected), actualRevision: String(error.actual) },
    });
  }
  if (error instanceof StreamNotFound)
    return new HttpProblem(404, 'not_found', 'The resource does not exist.');
  if (error instanceof EventTooLarge) {
    return new HttpProblem(
      413,
      'event_too_large',
      `The change is too large (limit ${error.limitBytes} bytes).`,
      {
        extensions: { sizeBytes: error.sizeBytes, limitBytes: error.limitBytes },
      },
    );
  }
  if (error instanceof DuplicateEventIds) {
    return new HttpProblem(409, 'duplicate_event_ids', 'The event ids were already used by another change.');
  }
  return undefined;
}

const CLIENT_ERROR_CODES: Record<string, { status: number; code: string; detail?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'payload_too_large',
    detail: 'The request body is too large.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    detail: 'Send the body as application/json.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'malformed_json',
    detail: 'The body is not valid JSON.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_json', detail: 'The JSON body is empty.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'bad_request',
    detail: 'Content-Length is wrong.',
  },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_request', detail: 'The URL is malformed.' },
};

export { isDependencyOutage };

/** Seconds a client is asked to wait after a dependency outage. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** Extensions that depend on the problem's language (validation messages). */
type Extensions = Record<string, unknown> | ((language: Language) => Record<string, unknown>);

/**
 * A schema validation failure: `errors` lists each field and rule in the reader's language, and
 * the detail names the first (issue #25).
 */
function sendValidationProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  error: FastifyError,
): Promise<FastifyReply> {
  const part = error.validationContext ?? 'body';
  const errors = error.validation ?? [];
  const [english] = validationItems(errors, part, 'en');
  const [french] = validationItems(errors, part, 'fr');
  return sendProblem(
    request,
    reply,
    400,
    'validation_failed',
    english === undefined ? 'The request is invalid.' : `${english.path} ${english.message}.`,
    (language) => ({ errors: validationItems(errors, part, language) }),
    french === undefined ? undefined : `${french.path} ${french.message}.`,
  );
}

export async function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string | undefined,
  extensions?: Extensions,
  detailFr?: string,
): Promise<FastifyReply> {
  const language = await problemLanguage(request, status);
  const body = problemBody(status, code, detail, {
    instance: request.url.split('?')[0],
    requestId: request.id,
    extensions: typeof extensions === 'function' ? extensions(language) : extensions,
    baseUrl: request.server.hasDecorator('publicBaseUrl') ? request.server.publicBaseUrl : undefined,
    language,
    ...(detailFr === undefined ? {} : { detailFr }),
  });
  return reply
    .code(status)
    .header('content-language', language)
    .type('application/problem+json; charset=utf-8')
    .send(body);
}

/**
 * The one error handler: known problems pass through with their status and code, domain and
 * event store errors become theirs; Fastify's client errors are translated; a dependency outage
 * (database, Redis, event store, provider) is a 503 with Retry-After; anything else is a 500.
 * Messages and stacks of both stay in the log.
 */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((thrown: FastifyError | HttpProblem | DomainError, request, reply) => {
    const error = thrown instanceof DomainError ? problemOf(thrown) : (eventStoreProblem(thrown) ?? thrown);
    if (error instanceof HttpProblem) {
      for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
      if (error.status >= 500) request.log.error({ err: thrown }, 'server problem');
      return sendProblem(
        request,
        reply,
        error.status,
        error.code,
        error.status >= 500 ? undefined : error.message,
        error.extensionsFr === undefined ? error.extensions : localizedExtensions(error),
        error.status >= 500 ? undefined : error.detailFr,
      );
    }
    if (error.validation !== undefined) return sendValidationProblem(request, reply, error);
    const known = error.code === undefined ? undefined : CLIENT_ERROR_CODES[error.code];
    if (known !== undefined) return sendProblem(request, reply, known.status, known.code, known.detail);
    const status = error.statusCode ?? 500;
    if (status === 429) {
      return sendProblem(request, reply, 429, 'rate_limited', 'Too many requests; retry later.');
    }
    if (status >= 400 && status < 500) {
      return sendProblem(request, reply, status, 'bad_request', 'The request could not be processed.');
    }
    if (isDependencyOutage(error)) {
      request.log.error({ err: error }, 'dependency unavailable');
      reply.header('retry-after', String(OUTAGE_RETRY_AFTER_SECONDS));
      return sendProblem(
        request,
        reply,
        503,
        'service_unavailable',
        'A service this request needs is unavailable; retry shortly.',
      );
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(request, reply, 500, 'internal_error', 'An internal error occurred.');
  });
}

/** A problem's extensions in the reader's language (field problems listed in French or English). */
function localizedExtensions(problem: HttpProblem): Extensions {
  return (language) =>
    language === 'fr' ? (problem.extensionsFr ?? problem.extensions) : problem.extensions;
}

/** Registered after the rate limiter so that scanning unknown routes is limited too. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return sendProblem(
    request,
    reply,
    404,
    'route_not_found',
    `No route ${request.method} ${request.url.split('?')[0]}.`,
  );
}
