/**
 * The support routes: tickets opened by customers, restaurant owners and drivers
 * (`/v1/support/tickets`), their messages and workflow, and the staff queue and actions
 * (`/v1/admin/support/tickets`). Who may see a ticket is decided by the service: its opener and
 * support staff; anyone else gets 404, as for no ticket.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { preferredLanguage } from '../../http/problem-catalogue.js';
import type { Runtime } from '../../runtime.js';
import { AVAILABILITY_MINUTES, CAPACITY_MAX, TEAM_PATTERN } from './agents.js';
import type { SupportAssist } from './assist.js';
import {
  ATTACHMENTS_MAX,
  CHAT_PAGE_DEFAULT,
  CHAT_PAGE_MAX,
  PAGE_MAX,
  type SupportCaller,
  type SupportService,
} from './service.js';

type TicketView = Awaited<ReturnType<SupportService['open']>>;
type MessageView = Awaited<ReturnType<SupportService['addMessage']>>;
import { CSAT_MAX, CSAT_MIN } from './rules.js';
import { CATEGORIES, PRIORITIES, STATUSES } from './tables.js';

/** Length limits of the texts (characters, after the edge refused NUL and lone surrogates). */
export const SUBJECT_MAX = 200;
export const BODY_MAX = 5_000;
export const REASON_MAX = 500;

const tags = ['support'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
};

/** Reads and markers: no conflict or unprocessable answer. */
const readErrors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };

const OPENER: RouteAccess = {
  permissions: ['PROFILE_MANAGEMENT', 'ORDER_PROCESSING', 'ORDER_ACCEPTANCE'],
  ownership:
    'customers, restaurant owners and drivers, for themselves (an order must be one they are party to)',
};
const TICKET: RouteAccess = {
  permissions: ['PROFILE_MANAGEMENT', 'ORDER_PROCESSING', 'ORDER_ACCEPTANCE', 'TICKET_MANAGEMENT'],
  ownership: 'the ticket’s opener, or support staff; others get 404',
};
const DISPUTE: RouteAccess = {
  permissions: ['PROFILE_MANAGEMENT'],
  ownership: 'the opener of an order-problem ticket who is the order’s customer',
};
const STAFF: RouteAccess = { permissions: ['TICKET_MANAGEMENT'], ownership: 'support staff (or an admin)' };

const Uuid = Type.String({ format: 'uuid' });
const Attachments = Type.Array(Uuid, {
  maxItems: ATTACHMENTS_MAX,
  description: 'File ids (POST /v1/files) the caller may read',
});
const Body = Type.String({ minLength: 1, maxLength: BODY_MAX });
const OpenBody = Type.Object(
  {
    category: Type.Union(
      CATEGORIES.map((category) => Type.Literal(category)),
      { description: CATEGORIES.join(', ') },
    ),
    subject: Type.String({ minLength: 1, maxLength: SUBJECT_MAX }),
    body: Body,
    orderId: Type.Optional(Uuid),
    attachments: Type.Optional(Attachments),
  },
  { additionalProperties: false },
);
const MessageBody = Type.Object(
  {
    body: Type.Optional(Body),
    cannedResponseId: Type.Optional(
      Type.String({
        format: 'uuid',
        description: 'Staff: send this canned response’s text (instead of `body`)',
      }),
    ),
    internal: Type.Optional(
      Type.Boolean({ description: 'A note visible to support staff only (staff alone)' }),
    ),
    attachments: Type.Optional(Attachments),
  },
  { additionalProperties: false },
);
const StatusBody = Type.Object(
  {
    status: Type.Union(
      STATUSES.map((status) => Type.Literal(status)),
      {
        description:
          'staff: open ⇄ pending, → resolved, resolved → closed; opener: close a resolved ticket; anyone: reopen within the window',
      },
    ),
  },
  { additionalProperties: false },
);
const ReasonBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: REASON_MAX }) },
  { additionalProperties: false },
);
const RatingBody = Type.Object(
  { score: Type.Integer({ minimum: CSAT_MIN, maximum: CSAT_MAX, description: '1 (bad) to 5 (very good)' }) },
  { additionalProperties: false },
);
const AssignBody = Type.Object({ assigneeId: Uuid }, { additionalProperties: false });
const EmptyBody = Type.Object({}, { additionalProperties: false });
const Params = Type.Object({ id: Uuid }, { additionalProperties: false });
const Page = Type.Object(
  {
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE_MAX, default: 20 })),
  },
  { additionalProperties: false },
);
const QueueQuery = Type.Object(
  {
    status: Type.Optional(Type.Union(STATUSES.map((status) => Type.Literal(status)))),
    priority: Type.Optional(Type.Union(PRIORITIES.map((priority) => Type.Literal(priority)))),
    assignee: Type.Optional(Uuid),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE_MAX, default: 20 })),
  },
  { additionalProperties: false },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Summary = {
  id: Uuid,
  category: Type.String({ description: CATEGORIES.join(', ') }),
  subject: Nullable(Type.String()),
  status: Type.String({ description: STATUSES.join(', ') }),
  priority: Type.String({ description: PRIORITIES.join(', ') }),
  orderId: Nullable(Uuid),
  openerId: Uuid,
  openerRole: Type.String(),
  assigneeId: Nullable(Uuid),
  escalations: Type.Integer(),
  source: Type.String({ description: 'app, sms, email, dispute, delivery_failed' }),
  slaDueAt: Type.String({ format: 'date-time' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  resolvedAt: Nullable(Type.String({ format: 'date-time' })),
  closedAt: Nullable(Type.String({ format: 'date-time' })),
};
const Message = Type.Object({
  id: Uuid,
  from: Type.String({ description: 'opener or staff' }),
  authorId: Uuid,
  internal: Type.Boolean(),
  body: Nullable(Type.String()),
  attachments: Type.Array(Uuid),
  createdAt: Type.String({ format: 'date-time' }),
});
const TicketOrder = Nullable(
  Type.Object({
    status: Type.String(),
    dispute: Type.String({ description: 'none, open or resolved' }),
    refundMinor: Type.Integer({ description: 'refunded so far (XAF)' }),
  }),
);
/** A ticket's reopen count and rating (CSAT): on the ticket itself, not in the lists. */
const Outcome = {
  reopenCount: Type.Integer({ minimum: 0 }),
  csat: Nullable(Type.Object({ score: Type.Integer(), at: Nullable(Type.String({ format: 'date-time' })) })),
};
/** What a workflow change answers: the ticket without its messages. */
const TicketState = Type.Object({ ...Summary, ...Outcome, order: TicketOrder });
const ReadUpTo = Type.Object(
  { opener: Nullable(Uuid), staff: Nullable(Uuid) },
  { description: 'The last message each side has read (null: none yet)' },
);
const Ticket = Type.Object({
  ...Summary,
  ...Outcome,
  order: TicketOrder,
  opener: Type.Optional(
    Nullable(
      Type.Object(
        { name: Nullable(Type.String()), phoneMasked: Nullable(Type.String()) },
        {
          description: 'staff only; phone masked',
        },
      ),
    ),
  ),
  readUpTo: ReadUpTo,
  messages: Type.Array(Message),
});
const OpenedTicket = Type.Object({
  ...Ticket.properties,
  suggestedArticles: Type.Array(
    Type.Object({ id: Uuid, slug: Type.String(), locale: Type.String(), title: Type.String() }),
    { description: 'help articles close to the ticket' },
  ),
});
const AssistAnswer = Type.Object({
  reply: Type.String({ description: 'a draft; never sent by itself' }),
  category: Type.String({ description: CATEGORIES.join(', ') }),
  source: Type.String({ description: 'model (Gemini) or fallback (deterministic)' }),
  model: Nullable(Type.String()),
  articles: Type.Array(Type.Object({ slug: Type.String(), locale: Type.String(), title: Type.String() })),
});
const MessagesQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ format: 'uuid', description: 'A message id: only later messages' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CHAT_PAGE_MAX, default: CHAT_PAGE_DEFAULT })),
  },
  { additionalProperties: false },
);
const MessagePage = Type.Object({
  items: Type.Array(Message),
  nextAfter: Nullable(Uuid),
  readUpTo: ReadUpTo,
});
const ReadBody = Type.Object({ messageId: Uuid }, { additionalProperties: false });
const ReadAnswer = Type.Object({
  ticketId: Uuid,
  side: Type.String({ description: 'opener or staff' }),
  readUpTo: Nullable(Uuid),
});
const TicketPage = Type.Object({
  items: Type.Array(Type.Object(Summary)),
  nextCursor: Nullable(Type.String()),
});

export interface SupportRouteServices {
  support: SupportService;
  runtime: Runtime;
  assist: SupportAssist;
}

export function callerOf(request: FastifyRequest): SupportCaller {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user')
    throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return {
    userId: principal.userId,
    roles: principal.roles,
    permissions: principal.permissions,
    actor: {
      kind: 'user',
      userId: principal.userId,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      requestId: request.id,
    },
  };
}

/** The id a keyed creation gets: a retry after a crash finds the row its first attempt wrote. */
function keyedId(request: FastifyRequest, namespace: string, scope: string): string | undefined {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' ? keyedUuid(namespace, scope, key) : undefined;
}

export function registerSupportRoutes(
  root: FastifyInstance,
  { support, runtime, assist }: SupportRouteServices,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = runtime.database.db;

  app.post(
    '/v1/support/tickets',
    {
      config: { idempotency: 'optional', location: true, access: OPENER },
      schema: {
        tags,
        summary:
          'Open a support ticket (optionally about one of your orders) with its first message; answers help articles close to it',
        body: OpenBody,
        response: { 201: OpenedTicket, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const scope = `support:ticket:${caller.userId}`;
      const answer = await withIdempotency(db, request, reply, { scope }, async () => {
        const ticket = await support.open(
          caller,
          request.body,
          keyedId(request, 'support-ticket', scope),
          preferredLanguage(request.headers['accept-language']),
        );
        reply.header('location', `/v1/support/tickets/${ticket.id}`);
        return { statusCode: 201, body: ticket };
      });
      return answer as TicketView;
    },
  );

  app.get(
    '/v1/support/tickets',
    {
      config: { access: OPENER },
      schema: {
        tags,
        summary: 'My tickets, newest first',
        querystring: Page,
        response: { 200: TicketPage, ...errors },
      },
    },
    async (request) => support.listMine(callerOf(request), request.query),
  );

  app.get(
    '/v1/support/tickets/:id',
    {
      config: { access: TICKET },
      schema: {
        tags,
        summary: 'A ticket with its messages (staff also see internal notes) and its order’s dispute status',
        params: Params,
        response: { 200: Ticket, ...errors },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return support.read(callerOf(request), request.params.id);
    },
  );

  app.post(
    '/v1/support/tickets/:id/messages',
    {
      config: { idempotency: 'optional', location: true, access: TICKET },
      schema: {
        tags,
        summary: 'Write on a ticket (its opener, or staff; staff may write internal notes)',
        params: Params,
        body: MessageBody,
        response: { 201: Message, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const scope = `support:message:${caller.userId}:${request.params.id}`;
      const answer = await withIdempotency(db, request, reply, { scope }, async () => {
        const message = await support.addMessage(
          caller,
          request.params.id,
          request.body,
          keyedId(request, 'support-message', scope),
        );
        // Messages are read with their ticket.
        reply.header('location', `/v1/support/tickets/${request.params.id}`);
        return { statusCode: 201, body: message };
      });
      return answer as MessageView;
    },
  );

  app.get(
    '/v1/support/tickets/:id/messages',
    {
      config: { access: TICKET },
      schema: {
        tags,
        summary: 'A ticket’s messages after one, oldest first (chat catch-up)',
        params: Params,
        querystring: MessagesQuery,
        response: { 200: MessagePage, ...readErrors },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return support.messagesSince(callerOf(request), request.params.id, request.query);
    },
  );

  app.post(
    '/v1/support/tickets/:id/read',
    {
      config: { access: TICKET },
      schema: {
        tags,
        summary: 'Mark your side read up to a message (only forward)',
        params: Params,
        body: ReadBody,
        response: { 200: ReadAnswer, ...readErrors },
      },
    },
    async (request) => support.markRead(callerOf(request), request.params.id, request.body.messageId),
  );

  app.post(
    '/v1/support/tickets/:id/status',
    {
      config: { access: TICKET },
      schema: {
        tags,
        summary: 'Change a ticket’s status (staff: the workflow; opener: close or reopen within the window)',
        params: Params,
        body: StatusBody,
        response: { 200: TicketState, ...errors },
      },
    },
    async (request) => support.changeStatus(callerOf(request), request.params.id, request.body.status),
  );

  app.post(
    '/v1/support/tickets/:id/dispute',
    {
      config: { access: DISPUTE },
      schema: {
        tags,
        summary:
          'Open the order’s dispute from an order-problem ticket (the refund comes with support’s resolve)',
        params: Params,
        body: ReasonBody,
        response: { 200: TicketState, ...errors },
      },
    },
    async (request) => support.openDispute(callerOf(request), request.params.id, request.body.reason),
  );

  app.get(
    '/v1/admin/support/tickets',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary: 'The support queue, soonest SLA due time first (open and pending unless `status` says)',
        querystring: QueueQuery,
        response: { 200: TicketPage, ...errors },
      },
    },
    async (request) => support.queue(request.query, callerOf(request)),
  );

  app.post(
    '/v1/admin/support/tickets/:id/assign',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary: 'Assign a ticket to a support agent',
        params: Params,
        body: AssignBody,
        response: { 200: TicketState, ...errors },
      },
    },
    async (request) => support.assign(callerOf(request), request.params.id, request.body.assigneeId),
  );

  app.post(
    '/v1/support/tickets/:id/rating',
    {
      config: { access: TICKET },
      schema: {
        tags,
        summary: 'Rate a resolved ticket 1-5 (its opener, once)',
        params: Params,
        body: RatingBody,
        response: { 200: TicketState, ...errors },
      },
    },
    async (request) => support.rate(callerOf(request), request.params.id, request.body.score),
  );

  app.post(
    '/v1/admin/support/tickets/:id/assist',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary: 'A draft reply and category for a ticket (Gemini, or a fixed draft); never sent',
        params: Params,
        body: EmptyBody,
        response: { 200: AssistAnswer, ...readErrors },
      },
    },
    async (request) =>
      assist.suggest(
        callerOf(request),
        request.params.id,
        preferredLanguage(request.headers['accept-language']),
      ),
  );

  app.post(
    '/v1/admin/support/tickets/:id/escalate',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary: 'Escalate a ticket: one priority higher, due sooner',
        params: Params,
        body: EmptyBody,
        response: { 200: TicketState, ...errors },
      },
    },
    async (request) => support.escalate(callerOf(request), request.params.id),
  );
}

const ADMIN: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'], ownership: 'admins' };
const AgentParams = Type.Object({ userId: Uuid }, { additionalProperties: false });
const AgentBody = Type.Object(
  {
    supervisor: Type.Optional(Type.Boolean()),
    capacity: Type.Optional(Type.Integer({ minimum: 0, maximum: CAPACITY_MAX })),
    team: Type.Optional(
      Nullable(
        Type.String({
          pattern: TEAM_PATTERN,
          maxLength: 40,
          description:
            'a lowercase slug (letters, digits, inner hyphens); null takes the agent out of their team',
        }),
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
const AvailabilityBody = Type.Object({ available: Type.Boolean() }, { additionalProperties: false });
const AgentAnswer = Type.Object({
  userId: Uuid,
  supervisor: Type.Boolean(),
  capacity: Type.Integer(),
  availableUntil: Nullable(Type.String({ format: 'date-time' })),
  away: Type.Boolean(),
  team: Nullable(Type.String()),
  activeTickets: Type.Integer(),
});

const Seconds = Nullable(Type.Integer({ minimum: 0 }));
const Timing = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  averageSeconds: Seconds,
  medianSeconds: Seconds,
  p90Seconds: Seconds,
});
const Figures = {
  opened: Type.Integer({ minimum: 0 }),
  firstResponse: Timing,
  resolution: Timing,
  slaBreaches: Type.Object({
    firstResponse: Type.Integer({ minimum: 0 }),
    resolution: Type.Integer({ minimum: 0 }),
  }),
  reopen: Type.Object(
    {
      resolved: Type.Integer({ minimum: 0 }),
      reopened: Type.Integer({ minimum: 0 }),
      rate: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
    },
    { description: 'of the tickets ever resolved' },
  ),
  csat: Type.Object(
    {
      count: Type.Integer({ minimum: 0 }),
      average: Nullable(Type.Number({ minimum: CSAT_MIN, maximum: CSAT_MAX })),
      satisfiedShare: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
    },
    { description: 'ratings 1-5; satisfied: 4 and 5' },
  ),
};
const MetricsAnswer = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  scope: Type.Union([Type.Literal('all'), Type.Literal('own')]),
  overall: Type.Object(Figures),
  agents: Type.Array(Type.Object({ assigneeId: Nullable(Uuid), ...Figures })),
  teams: Type.Array(Type.Object({ team: Nullable(Type.String()), ...Figures }), {
    description: "per the current assignee's team (null: not assigned, or an agent in no team)",
  }),
});
const MetricsQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

/** Supervisors, capacities and availability for round-robin assignment (agents.ts); figures (metrics.ts). */
export function registerAgentRoutes(app: FastifyInstance, support: SupportService): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get(
    '/v1/admin/support/metrics',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary:
          'First response and resolution times and SLA breaches of the tickets opened in a period, overall and per agent (a plain agent: their own)',
        querystring: MetricsQuery,
        response: { 200: MetricsAnswer, ...readErrors },
      },
    },
    async (request) => support.metrics(callerOf(request), request.query),
  );
  typed.put(
    '/v1/admin/support/agents/:userId',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary:
          'Make a support agent a supervisor (or not), set their capacity (active tickets at most) and their team',
        params: AgentParams,
        body: AgentBody,
        response: { 200: AgentAnswer, ...errors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return support.configureAgent(caller, request.params.userId, request.body);
    },
  );
  typed.post(
    '/v1/support/agents/me/availability',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary: `Say you are available for new tickets (renew within ${AVAILABILITY_MINUTES} minutes; being connected to /ws/support is enough) or away`,
        body: AvailabilityBody,
        response: { 200: AgentAnswer, ...readErrors },
      },
    },
    async (request) => support.setAvailability(callerOf(request), request.body.available),
  );
}
