import { STATUS_CODES } from 'node:http';
import Type from 'typebox';

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
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, $id: 'Problem', description: 'RFC 9457 problem details' },
);

export class HttpProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    detail: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.code = code;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
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

export function problemBody(
  status: number,
  code: string,
  detail: string | undefined,
  context: { instance?: string; requestId?: string; extensions?: Record<string, unknown> } = {},
): ProblemBody {
  return {
    type: `https://docs.food-delivery.cm/problems/${code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    code,
    ...(detail === undefined ? {} : { detail }),
    ...(context.instance === undefined ? {} : { instance: context.instance }),
    ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
    ...context.extensions,
  };
}
