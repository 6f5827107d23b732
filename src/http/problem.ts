import { STATUS_CODES } from 'node:http';
import Type from 'typebox';
import { PROBLEM_CATALOGUE, type Language } from './problem-catalogue.js';
import { frenchDetail, frenchErrorMessage } from './problem-details.js';

/**
 * RFC 9457 problem details. Every error that reaches a client is one of these, with a stable
 * `code` clients can switch on. 5xx answers never carry the underlying message.
 */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: { path: string; message: string; rule?: string }[];
  [extension: string]: unknown;
}

export const ProblemSchema = Type.Object(
  {
    type: Type.String({
      description: 'The page that explains this code (GET /problems/{code}, English and French)',
    }),
    title: Type.String({ description: 'The code in words, in the language of Accept-Language' }),
    status: Type.Integer(),
    code: Type.String({ description: 'Stable snake_case code clients switch on (see the catalogue)' }),
    detail: Type.Optional(Type.String({ description: 'This occurrence, in words' })),
    instance: Type.Optional(Type.String({ description: 'The path of the request' })),
    requestId: Type.Optional(Type.String({ description: 'Give it to support' })),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String({ description: 'The field: the request part and the JSON pointer' }),
          message: Type.String({ description: 'The rule it breaks, in the problem’s language' }),
          rule: Type.Optional(
            Type.String({ description: 'The schema keyword broken (required, maxLength, …)' }),
          ),
        }),
      ),
    ),
  },
  {
    additionalProperties: true,
    $id: 'Problem',
    description: 'RFC 9457 problem details; extensions (orderId, currentStatus, attemptsLeft, …) per code',
    examples: [
      {
        type: 'https://api.example.cm/problems/order_not_found',
        title: 'Order not found',
        status: 404,
        code: 'order_not_found',
        detail: 'There is no such order.',
        instance: '/v1/orders/3f0c6d3e-8a52-4c47-9d2e-0a1b2c3d4e5f',
        requestId: '7b1d2c9e-4f3a-4b8e-9c1d-2e3f4a5b6c7d',
      },
    ],
  },
);

export class HttpProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;
  /** This occurrence in French; without it French clients get the code's French description. */
  readonly detailFr: string | undefined;
  /** The extensions for a French reader (field problems in French); without it, `extensions`. */
  readonly extensionsFr: Record<string, unknown> | undefined;

  constructor(
    status: number,
    code: string,
    detail: string,
    options: {
      extensions?: Record<string, unknown>;
      extensionsFr?: Record<string, unknown>;
      headers?: Record<string, string>;
      detailFr?: string;
    } = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.code = code;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
    this.detailFr = options.detailFr;
    this.extensionsFr = options.extensionsFr;
  }
}

type ProblemFactory = (detail: string, extensions?: Record<string, unknown>) => HttpProblem;
const factory =
  (status: number, code: string): ProblemFactory =>
  (detail, extensions) =>
    new HttpProblem(status, code, detail, { extensions });

/** The one taxonomy (docs/architecture.md, "Errors"). Use a specific `code` with `new HttpProblem` when useful. */
export const problems = {
  validation: factory(400, 'validation_failed'),
  unauthorized: factory(401, 'unauthorized'),
  forbidden: factory(403, 'forbidden'),
  notFound: factory(404, 'not_found'),
  conflict: factory(409, 'conflict'),
  preconditionFailed: factory(412, 'precondition_failed'),
  unprocessable: factory(422, 'unprocessable'),
  tooManyRequests: factory(429, 'rate_limited'),
};

/**
 * The generic code of a status, whose texts stand in for a code missing from the catalogue (a
 * test keeps that from happening; this keeps a French client from getting English if it does).
 */
const GENERIC_CODE: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'service_unavailable',
};

export function problemBody(
  status: number,
  code: string,
  detail: string | undefined,
  context: {
    instance?: string;
    requestId?: string;
    extensions?: Record<string, unknown>;
    /** Where the API is served (PUBLIC_BASE_URL): the `type` URL is its /problems/<code> page. */
    baseUrl?: string;
    language?: Language;
    /** This occurrence in French, when the thrower gave one. */
    detailFr?: string;
  } = {},
): ProblemBody {
  const language = context.language ?? 'en';
  const entry = PROBLEM_CATALOGUE.get(code) ?? PROBLEM_CATALOGUE.get(GENERIC_CODE[status] ?? '');
  // The detail a person reads, in their language: the thrower's French, else this occurrence's
  // French from the table of thrown details (problem-details-fr.ts), else the code's French
  // description (a detail built where the table cannot see it).
  const localizedDetail =
    detail === undefined || language === 'en'
      ? detail
      : (context.detailFr ?? frenchDetail(detail) ?? entry?.fr.description ?? detail);
  const extensions = language === 'fr' ? frenchErrorItems(context.extensions) : context.extensions;
  return {
    type: `${(context.baseUrl ?? '').replace(/\/$/, '')}/problems/${code}`,
    title: entry?.[language].title ?? STATUS_CODES[status] ?? 'Error',
    status,
    code,
    ...(localizedDetail === undefined ? {} : { detail: localizedDetail }),
    ...(context.instance === undefined ? {} : { instance: context.instance }),
    ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
    ...extensions,
  };
}

/** The `errors` list of a problem with each message a context built in French (when known). */
function frenchErrorItems(
  extensions: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const errors = extensions?.errors;
  if (!Array.isArray(errors)) return extensions;
  return {
    ...extensions,
    errors: errors.map((item: unknown) => {
      if (typeof item !== 'object' || item === null) return item;
      const message = (item as { message?: unknown }).message;
      const french = typeof message === 'string' ? frenchErrorMessage(message) : undefined;
      return french === undefined ? item : { ...item, message: french };
    }),
  };
}
