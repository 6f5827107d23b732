/**
 * The OpenAPI document as a contract, derived in one place from what every route already
 * declares: `config.access` gives the security requirement, `config.idempotency` the
 * Idempotency-Key header, a 304 response the ETag/If-None-Match pair, the method and path the
 * operationId, and the tags the problem codes each error response lists (from the catalogue,
 * src/http/problem-catalogue.ts). Errors are `application/problem+json` referencing one
 * `Problem` schema. tests/integration/api-contract.test.ts fails on an operation that lacks any
 * of this. docs/api.md describes the result.
 */
import type { SwaggerOptions } from '@fastify/swagger';
import { STATUS_CODES } from 'node:http';
import type { RouteAccess } from './access.js';
import { codesFor, PROBLEM_CATALOGUE } from './problem-catalogue.js';

export type IdempotencyDeclaration = 'optional' | 'required';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route runs its work through withIdempotency (src/http/idempotency.ts). */
    idempotency?: IdempotencyDeclaration;
    /** Its 201 answer names what it created in a Location header. */
    location?: boolean;
  }
}

const PROBLEM_REF = '#/components/schemas/Problem';
const PROBLEM_MEDIA = 'application/problem+json';

/** Shared header parameters and response headers, referenced by $ref from every operation. */
const components = {
  securitySchemes: {
    bearer: {
      type: 'http' as const,
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'The access token from POST /v1/auth/login (or /v1/auth/guest/verify for a guest session).',
    },
  },
  parameters: {
    IdempotencyKey: {
      name: 'Idempotency-Key',
      in: 'header',
      description:
        'Runs the request at most once: a retry with the same key and body gets the first answer ' +
        '(with Idempotent-Replayed: true and the same Location); the same key with another body is 409. Kept 24 h.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{8,128}$' },
      example: 'order-2f6c1a9e-7d3b-4c55',
    },
    IdempotencyKeyRequired: {
      name: 'Idempotency-Key',
      in: 'header',
      required: true,
      description: 'Required here: the request moves money. See IdempotencyKey.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{8,128}$' },
      example: 'topup-2f6c1a9e-7d3b-4c55',
    },
    IfNoneMatch: {
      name: 'If-None-Match',
      in: 'header',
      description: 'The ETag of the copy you hold: 304 with no body when it is still current.',
      schema: { type: 'string' },
    },
    AcceptLanguage: {
      name: 'Accept-Language',
      in: 'header',
      description: 'fr or en (default en): problem titles, search and catalogue texts.',
      schema: { type: 'string', example: 'fr-CM, fr;q=0.9, en;q=0.5' },
    },
  },
  headers: {
    Location: { description: 'The URL of what was created', schema: { type: 'string' } },
    ETag: { description: 'Send it back as If-None-Match', schema: { type: 'string' } },
    RetryAfter: { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
    IdempotentReplayed: {
      description:
        '"true" when this is the stored answer of an earlier request with the same Idempotency-Key',
      schema: { type: 'string', enum: ['true'] },
    },
    RequestId: {
      description: 'The request id (send X-Request-Id to choose it); give it to support',
      schema: { type: 'string' },
    },
  },
};

const SUCCESS_DESCRIPTIONS: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted; the outcome comes later',
  '204': 'Done; no content',
  '304': 'Not modified: the copy named by If-None-Match is current',
};

/** `POST /v1/orders/:id/accept` → `postOrdersByIdAccept`: unique because method and path are. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/v1\//, '/')
    .split(/[/.-]/)
    .filter((part) => part.length > 0)
    .map((part) => (part.startsWith(':') ? `by_${part.slice(1)}` : part))
    .flatMap((part) => part.split('_'))
    .filter((part) => part.length > 0);
  return [method.toLowerCase(), ...words.map((word) => word[0]!.toUpperCase() + word.slice(1))].join('');
}

type Schema = Record<string, unknown>;
interface RouteLike {
  method: string | string[];
  url: string;
  config?: { access?: RouteAccess; idempotency?: IdempotencyDeclaration; location?: boolean };
}

/** Per route: operationId, security from access, and what transformObject needs, as `x-` keys. */
function transformRoute({ schema, url, route }: { schema: Schema; url: string; route: RouteLike }) {
  if (schema === undefined || schema.hide === true) return { schema, url };
  const method = Array.isArray(route.method) ? route.method[0]! : route.method;
  const access = route.config?.access;
  const secured = access !== undefined && !('public' in access);
  return {
    url,
    schema: {
      ...schema,
      operationId: (schema.operationId as string | undefined) ?? operationIdOf(method, route.url),
      security: secured ? [{ bearer: [] }] : [],
      'x-route': {
        secured,
        guest: secured && access.allowGuest === true,
        stepUp: secured && access.stepUp === true,
        idempotency: route.config?.idempotency,
        location: route.config?.location === true,
      },
      ...(secured && access.ownership !== undefined ? { 'x-ownership': access.ownership } : {}),
      ...(secured ? { 'x-permissions': access.permissions } : {}),
    },
  };
}

interface Operation {
  tags?: string[];
  parameters?: Schema[];
  responses: Record<string, Schema>;
  requestBody?: Schema;
  security?: unknown[];
  'x-route'?: {
    secured: boolean;
    guest: boolean;
    stepUp: boolean;
    idempotency?: IdempotencyDeclaration;
    location: boolean;
  };
}

/** The problem responses made so far, shared by every operation of the same status and tags. */
interface Shared {
  responses: Record<string, Schema>;
  baseUrl: string;
}

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

function problemResponse(status: number, tags: string[], baseUrl: string): Schema {
  const codes = codesFor(status, tags);
  // The example shows the most specific code: the area's own, else a generic one.
  const shown = [...codes].reverse().find((code) => PROBLEM_CATALOGUE.get(code)?.areas !== '*') ?? codes[0];
  const entry = shown === undefined ? undefined : PROBLEM_CATALOGUE.get(shown);
  const example =
    entry === undefined
      ? {}
      : {
          example: {
            type: `${baseUrl}/problems/${entry.code}`,
            title: entry.en.title,
            status,
            code: entry.code,
          },
        };
  return {
    description: `${STATUS_CODES[status] ?? 'Error'}: ${codes.length === 0 ? 'see the catalogue' : codes.join(', ')}`,
    'x-problem-codes': codes,
    ...(status === 429 || status === 503 || status === 409
      ? { headers: { 'Retry-After': ref('headers', 'RetryAfter') } }
      : {}),
    content: { [PROBLEM_MEDIA]: { schema: { $ref: PROBLEM_REF }, ...example } },
  };
}

/** The statuses every operation can answer, whatever it declares: the edge answers them. */
function edgeStatuses(operation: Operation): number[] {
  const route = operation['x-route'];
  const statuses = [400, 429, 500, 503];
  if (route?.secured === true) statuses.push(401, 403);
  return statuses;
}

/**
 * Problem responses are shared: one `components.responses` entry per status and tag set (the
 * codes depend on nothing else), referenced by every operation with those tags. A tag set whose
 * codes for a status are only the generic ones (no code of its own) shares the `Any` entry, so a
 * new area costs the document nothing until it has codes of its own.
 */
function sharedProblemResponse(status: number, tags: string[], shared: Shared): Schema {
  const generic = tags.length === 0 || codesFor(status, tags).length === codesFor(status, []).length;
  const area = generic ? ['any'] : [...tags].sort();
  const name = `${area.map((tag) => tag[0]!.toUpperCase() + tag.slice(1)).join('')}Problem${status}`;
  shared.responses[name] ??= problemResponse(status, tags, shared.baseUrl);
  return ref('responses', name);
}

function enrichOperation(operation: Operation, shared: Shared): void {
  const tags = operation.tags ?? [];
  const route = operation['x-route'];
  const parameters = [...(operation.parameters ?? [])].filter(
    (parameter) =>
      !['idempotency-key', 'if-none-match', 'accept-language'].includes(String(parameter.name).toLowerCase()),
  );
  parameters.push(ref('parameters', 'AcceptLanguage'));
  if (route?.idempotency !== undefined)
    parameters.push(
      ref('parameters', route.idempotency === 'required' ? 'IdempotencyKeyRequired' : 'IdempotencyKey'),
    );
  const etagged = operation.responses['304'] !== undefined;
  if (etagged) parameters.push(ref('parameters', 'IfNoneMatch'));
  operation.parameters = parameters;

  const statuses = new Set([...Object.keys(operation.responses).map(Number), ...edgeStatuses(operation)]);
  const responses: Record<string, Schema> = {};
  for (const status of [...statuses].sort((a, b) => a - b)) {
    const key = String(status);
    if (status >= 400) {
      responses[key] = sharedProblemResponse(status, tags, shared);
      continue;
    }
    const response = { ...operation.responses[key]! };
    if (response.description === undefined || response.description === 'Default Response')
      response.description = SUCCESS_DESCRIPTIONS[key] ?? STATUS_CODES[status] ?? 'Success';
    const headers: Record<string, unknown> = {
      ...(response.headers as Record<string, unknown> | undefined),
      'X-Request-Id': ref('headers', 'RequestId'),
    };
    if (status === 201 && route?.location === true) {
      headers.Location = ref('headers', 'Location');
      if (response.description === 'Created') response.description = 'Created; Location names it';
    }
    if (etagged && status === 200) headers.ETag = ref('headers', 'ETag');
    if (route?.idempotency !== undefined && status < 300)
      headers['Idempotent-Replayed'] = ref('headers', 'IdempotentReplayed');
    response.headers = headers;
    responses[key] = response;
  }
  operation.responses = responses;
  delete operation['x-route'];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** The whole document after generation: shared components, problem responses by $ref, headers. */
function transformDocument(document: Schema, baseUrl: string): Schema {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  const shared: Shared = { responses: {}, baseUrl };
  for (const methods of Object.values(paths))
    for (const [method, operation] of Object.entries(methods))
      if (METHODS.includes(method)) enrichOperation(operation, shared);
  const existing = (document.components ?? {}) as Record<string, Record<string, unknown>>;
  document.components = {
    ...existing,
    securitySchemes: components.securitySchemes,
    parameters: components.parameters,
    headers: components.headers,
    responses: Object.fromEntries(Object.entries(shared.responses).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  return document;
}

/** The @fastify/swagger options: the document's frame, servers, and the two transforms. */
export function openapiOptions(publicBaseUrl: string): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Food delivery API (Cameroon)',
        version: '1.0.0',
        description:
          'REST API for the apps. Sign in with POST /v1/auth/login and send the access token as ' +
          '`Authorization: Bearer`. Errors are RFC 9457 `application/problem+json` with a stable ' +
          '`code`; each code is explained at its `type` URL (/problems/{code}, English and French). ' +
          'Writes that create or move money take an `Idempotency-Key`. Conventions: docs/api.md.',
      },
      servers: [{ url: publicBaseUrl.replace(/\/$/, ''), description: 'This deployment' }],
      components: { securitySchemes: components.securitySchemes },
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, index) => String(json.$id ?? `def-${index}`),
    },
    transform: transformRoute as never,
    transformObject: ((input: { openapiObject: Schema }) =>
      transformDocument(input.openapiObject, publicBaseUrl.replace(/\/$/, ''))) as never,
  } as SwaggerOptions;
}
