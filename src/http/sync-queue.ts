/**
 * Priority sync (issue #25, docs/api.md "Priority sync"): an app that was offline sends its whole
 * queue in one request, `POST /v1/sync/queue`, and the server runs it in priority order: orders
 * first (oldest queued first), then payments' state, then everything else (menus, profile). Each
 * operation is an ordinary request of this API, run through the app itself (`inject`) with the
 * caller's credentials, address and language, so access, ownership, validation, rate limits and
 * idempotency are exactly those of the route; nothing here decides anything about orders.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import type { RouteAccess } from './access.js';
import { HttpProblem, ProblemSchema } from './problem.js';

export const MAX_QUEUED_OPERATIONS = 20;
const QUEUE_BODY_LIMIT_BYTES = 256 * 1024;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** 0: orders, 1: payments, 2: the rest (menus, profile, cart). */
export type Priority = 0 | 1 | 2;

const UUID = '[0-9a-fA-F-]{36}';
/** What may be queued, and its priority; anything else refuses the whole queue (nothing runs). */
const ALLOWED: { methods: readonly Method[]; path: RegExp; priority: Priority }[] = [
  { methods: ['POST'], path: /^\/v1\/orders(\/offline)?$/, priority: 0 },
  { methods: ['POST'], path: new RegExp(`^/v1/orders/${UUID}/(reorder|cancel|dispute)$`), priority: 0 },
  { methods: ['GET'], path: new RegExp(`^/v1/orders/${UUID}$`), priority: 1 },
  { methods: ['GET'], path: /^\/v1\/wallet(\/transactions)?$/, priority: 1 },
  { methods: ['POST'], path: /^\/v1\/wallet\/topups$/, priority: 1 },
  { methods: ['GET'], path: new RegExp(`^/v1/sync/menus/${UUID}$`), priority: 2 },
  { methods: ['GET'], path: /^\/v1\/sync\/(orders|addresses)$/, priority: 2 },
  { methods: ['GET'], path: /^\/v1\/orders$/, priority: 2 },
  { methods: ['GET', 'PATCH'], path: /^\/v1\/me$/, priority: 2 },
  { methods: ['GET', 'POST'], path: /^\/v1\/me\/addresses$/, priority: 2 },
  { methods: ['PATCH', 'DELETE'], path: new RegExp(`^/v1/me/addresses/${UUID}$`), priority: 2 },
  { methods: ['GET', 'PUT'], path: /^\/v1\/me\/notification-preferences$/, priority: 2 },
  { methods: ['GET', 'PUT', 'DELETE'], path: /^\/v1\/cart$/, priority: 2 },
  { methods: ['GET'], path: new RegExp(`^/v1/restaurants/${UUID}(/menu)?$`), priority: 2 },
];

export function priorityOf(method: string, path: string): Priority | undefined {
  const [pathname = '', query] = path.split('?', 2);
  if (query !== undefined && (method !== 'GET' || query.length > 300)) return undefined;
  return ALLOWED.find((rule) => rule.methods.includes(method as Method) && rule.path.test(pathname))
    ?.priority;
}

const Operation = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9._:-]+$',
      description: "the app's id of the queued operation",
    }),
    method: Type.Union([
      Type.Literal('GET'),
      Type.Literal('POST'),
      Type.Literal('PUT'),
      Type.Literal('PATCH'),
      Type.Literal('DELETE'),
    ]),
    path: Type.String({
      minLength: 4,
      maxLength: 500,
      pattern: '^/v1/',
      description: 'a path of this API, with its query',
    }),
    body: Type.Optional(Type.Object({}, { additionalProperties: true })),
    idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    ifNoneMatch: Type.Optional(Type.String({ maxLength: 200 })),
    queuedAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'when the app queued it; older first within a priority',
      }),
    ),
  },
  { additionalProperties: false },
);
type QueuedOperation = Static<typeof Operation>;

const QueueBody = Type.Object(
  { operations: Type.Array(Operation, { minItems: 1, maxItems: MAX_QUEUED_OPERATIONS }) },
  { additionalProperties: false },
);

const QueueResult = Type.Object({
  id: Type.String(),
  priority: Type.Integer({ description: '0 orders, 1 payments, 2 the rest' }),
  status: Type.Integer({ description: 'the operation’s own status; 0 when it was not run' }),
  etag: Type.Optional(Type.String()),
  location: Type.Optional(Type.String()),
  body: Type.Optional(Type.Unknown({ description: 'its JSON answer (a problem for a 4xx)' })),
  skipped: Type.Optional(
    Type.Boolean({ description: 'not run: an earlier one was refused for load; send it again later' }),
  ),
});

/**
 * The order the queue runs in: by priority, then by `queuedAt` (oldest first; operations without
 * it after those with it), then as sent. Pure.
 */
export function planQueue<T extends Pick<QueuedOperation, 'method' | 'path' | 'queuedAt'>>(
  operations: readonly T[],
): { operation: T; priority: Priority }[] {
  const planned = operations.map((operation, index) => {
    const priority = priorityOf(operation.method, operation.path);
    if (priority === undefined) {
      const what = `${operation.method} ${operation.path.split('?')[0]}`;
      throw new HttpProblem(
        400,
        'sync_operation_refused',
        `Operation ${index + 1} (${what}) cannot be queued.`,
        {
          extensions: { index },
          detailFr: `L’opération ${index + 1} (${what}) ne peut pas être mise en file.`,
        },
      );
    }
    const queuedAt =
      operation.queuedAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(operation.queuedAt);
    return { operation, priority, queuedAt, index };
  });
  planned.sort((a, b) => a.priority - b.priority || a.queuedAt - b.queuedAt || a.index - b.index);
  return planned.map(({ operation, priority }) => ({ operation, priority }));
}

const ACCESS: RouteAccess = {
  permissions: ['GUEST_ORDER', 'PROFILE_MANAGEMENT'],
  allowGuest: true,
  ownership: "each operation is run as the caller, with its own route's access and ownership",
};

/** Headers an operation carries from the queue request (who, from where, in which language). */
const FORWARDED = [
  'authorization',
  'cookie',
  'origin',
  'accept-language',
  'user-agent',
  'x-forwarded-for',
] as const;

function forwardedHeaders(request: FastifyRequest, operation: QueuedOperation): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  if (operation.idempotencyKey !== undefined) headers['idempotency-key'] = operation.idempotencyKey;
  if (operation.ifNoneMatch !== undefined) headers['if-none-match'] = operation.ifNoneMatch;
  if (operation.body !== undefined) headers['content-type'] = 'application/json';
  return headers;
}

function parsed(payload: string): unknown {
  if (payload.length === 0) return undefined;
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return undefined;
  }
}

/** Registered after every context's routes (the identity hook covers it; `inject` reaches them). */
export function registerSyncQueue(app: FastifyInstance): void {
  app.post(
    '/v1/sync/queue',
    {
      bodyLimit: QUEUE_BODY_LIMIT_BYTES,
      config: { access: ACCESS },
      schema: {
        tags: ['sync'],
        summary: 'Priority sync: run an offline queue, orders first, then payments, then the rest',
        body: QueueBody,
        response: {
          200: Type.Object({ results: Type.Array(QueueResult) }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
        },
      },
    },
    async (request) => {
      const { operations } = request.body as Static<typeof QueueBody>;
      const ids = new Set(operations.map((operation) => operation.id));
      if (ids.size !== operations.length)
        throw new HttpProblem(400, 'sync_operation_refused', 'Two queued operations have the same id.', {
          detailFr: 'Deux opérations de la file ont le même identifiant.',
        });
      const results: Static<typeof QueueResult>[] = [];
      let stopped = false;
      for (const { operation, priority } of planQueue(operations)) {
        if (stopped) {
          results.push({ id: operation.id, priority, status: 0, skipped: true });
          continue;
        }
        const answer = await app.inject({
          method: operation.method,
          url: operation.path,
          headers: forwardedHeaders(request, operation),
          remoteAddress: request.ip,
          ...(operation.body === undefined ? {} : { payload: JSON.stringify(operation.body) }),
        });
        const etag = answer.headers.etag;
        const location = answer.headers.location;
        results.push({
          id: operation.id,
          priority,
          status: answer.statusCode,
          ...(typeof etag === 'string' ? { etag } : {}),
          ...(typeof location === 'string' ? { location } : {}),
          ...(answer.statusCode === 304 ? {} : { body: parsed(answer.payload) }),
        });
        // Load shedding and outages stop the queue: the rest waits for the app's next attempt.
        if (answer.statusCode === 429 || answer.statusCode >= 500) stopped = true;
      }
      return { results };
    },
  );
}
