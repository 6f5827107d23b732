/**
 * Live chat on a ticket over the WebSocket role namespaces (identity's `/ws/customer`,
 * `/ws/restaurant`, `/ws/driver` for the opener, `/ws/support` for staff). Clients send
 *
 *   {"type":"support-message","id":…,"data":{"ticketId","body","clientMessageId"?,"attachments"?}}
 *   {"type":"support-typing","id":…,"data":{"ticketId"}}
 *   {"type":"support-read","id":…,"data":{"ticketId","messageId"}}
 *
 * and each goes through the same service as the REST routes (one truth: a chat message is a row of
 * support_messages, audited and published like any other). The person is the audience the endpoint
 * granted at the upgrade (`user:<id>`, `owner:<id>`, `driver:<id>`, `agent:<id>`). The answers
 * come back as `<type>-ack` or an `error` with the same code the REST routes answer. Frames are at
 * most 1 KiB: longer texts go through `POST /v1/support/tickets/{id}/messages`.
 */
import { keyedUuid } from '../../shared/keyed-uuid.js';
import { audiences, type InboundHandler } from '../../realtime/index.js';
import type { Permission, Role } from '../../shared/principal.js';
import { supportErrors } from './errors.js';
import { ATTACHMENTS_MAX, type SupportCaller, type SupportService } from './service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** NUL, or a UTF-16 surrogate without its pair: refused, as the HTTP edge refuses them. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what is refused
export const UNSAFE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface Side {
  path: string;
  prefix: string;
  roles: readonly Role[];
  permissions: readonly Permission[];
}

export const SIDES: readonly Side[] = [
  { path: '/ws/customer', prefix: audiences.customer(''), roles: ['customer'], permissions: [] },
  { path: '/ws/restaurant', prefix: audiences.owner(''), roles: ['restaurant_owner'], permissions: [] },
  { path: '/ws/driver', prefix: audiences.driver(''), roles: ['driver'], permissions: [] },
  {
    path: '/ws/support',
    prefix: audiences.agent(''),
    roles: ['support'],
    permissions: ['TICKET_MANAGEMENT'],
  },
];

/**
 * The message id a chat message gets from its `clientMessageId`: the same as a REST message sent
 * with that Idempotency-Key (src/http/idempotency.ts `keyedUuid`, namespace `support-message`), so a
 * client that retries over either transport writes the message once.
 */
export function chatMessageId(userId: string, ticketId: string, clientMessageId: string): string {
  return keyedUuid('support-message', `support:message:${userId}:${ticketId}`, clientMessageId);
}

export function invalid(message: string) {
  return supportErrors.of('validation', 'validation_failed', message);
}

/** The message's data as an object with only the named fields, or a validation error. */
export function fieldsOf(data: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw invalid('data must be an object.');
  const body = data as Record<string, unknown>;
  for (const key of Object.keys(body))
    if (!allowed.includes(key)) throw invalid(`Unknown field ${key.slice(0, 40)}.`);
  return body;
}

export function uuidField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || !UUID.test(value)) throw invalid(`${name} must be a UUID.`);
  return value;
}

export interface ChatMessageData {
  ticketId: string;
  body: string;
  clientMessageId?: string;
  attachments?: string[];
}

export function parseChatMessage(data: unknown): ChatMessageData {
  const body = fieldsOf(data, ['ticketId', 'body', 'clientMessageId', 'attachments']);
  const ticketId = uuidField(body, 'ticketId');
  if (typeof body.body !== 'string' || body.body.length === 0)
    throw invalid('body must be a non-empty string.');
  if (UNSAFE_TEXT.test(body.body))
    throw supportErrors.of('validation', 'invalid_characters', 'The text holds a NUL or a lone surrogate.');
  const clientMessageId = body.clientMessageId === undefined ? undefined : uuidField(body, 'clientMessageId');
  let attachments: string[] | undefined;
  if (body.attachments !== undefined) {
    if (
      !Array.isArray(body.attachments) ||
      body.attachments.length > ATTACHMENTS_MAX ||
      !body.attachments.every((id) => typeof id === 'string' && UUID.test(id))
    )
      throw invalid(`attachments must be at most ${ATTACHMENTS_MAX} file ids.`);
    attachments = body.attachments as string[];
  }
  return {
    ticketId,
    body: body.body,
    ...(clientMessageId === undefined ? {} : { clientMessageId }),
    ...(attachments === undefined ? {} : { attachments }),
  };
}

export function callerOn(side: Side, connection: { audiences: readonly string[] }): SupportCaller {
  const own = connection.audiences.find((audience) => audience.startsWith(side.prefix));
  if (own === undefined)
    throw supportErrors.of('forbidden', 'chat_not_allowed', `This connection cannot chat on ${side.path}.`);
  const userId = own.slice(side.prefix.length);
  return {
    userId,
    roles: side.roles,
    permissions: new Set(side.permissions),
    actor: { kind: 'user', userId, ip: null, userAgent: 'websocket', requestId: null },
  };
}

/** The three chat message types on each role namespace. */
export function supportChatInbound(support: SupportService): InboundHandler[] {
  return SIDES.flatMap((side): InboundHandler[] => [
    {
      path: side.path,
      type: 'support-message',
      async handle(data, connection) {
        const caller = callerOn(side, connection);
        const message = parseChatMessage(data);
        const id =
          message.clientMessageId === undefined
            ? undefined
            : chatMessageId(caller.userId, message.ticketId, message.clientMessageId);
        const written = await support.addMessage(
          caller,
          message.ticketId,
          {
            body: message.body,
            ...(message.attachments === undefined ? {} : { attachments: message.attachments }),
          },
          id,
        );
        return { ticketId: message.ticketId, message: written };
      },
    },
    {
      path: side.path,
      type: 'support-typing',
      async handle(data, connection) {
        const caller = callerOn(side, connection);
        return support.typing(caller, uuidField(fieldsOf(data, ['ticketId']), 'ticketId'));
      },
    },
    {
      path: side.path,
      type: 'support-read',
      async handle(data, connection) {
        const caller = callerOn(side, connection);
        const body = fieldsOf(data, ['ticketId', 'messageId']);
        return support.markRead(caller, uuidField(body, 'ticketId'), uuidField(body, 'messageId'));
      },
    },
  ]);
}
