/**
 * The first-line assistant over the WebSocket role namespaces (`/ws/customer`, `/ws/restaurant`,
 * `/ws/driver`), beside `POST /v1/support/assistant`: an app already connected for its order's
 * updates and chat asks without another request. Clients send
 *
 *   {"type":"support-assistant","id":…,"data":{"question","orderId"?,"ticketId"?,"clientQuestionId"?,"language"?}}
 *
 * and get `support-assistant-ack` with the REST route's answer, or an `error` with its codes.
 * `clientQuestionId` is the REST route's Idempotency-Key: a hand-over retried over either
 * transport writes one ticket and one message (the same derived ids). `language` (`fr`, the
 * default, or `en`) stands for the REST route's Accept-Language, which a socket does not resend.
 */
import { keyedUuid } from '../../shared/keyed-uuid.js';
import type { InboundHandler } from '../../realtime/index.js';
import type { SupportAssistant } from './assistant.js';
import { QUESTION_MAX } from './assistant-rules.js';
import { callerOn, fieldsOf, invalid, SIDES, UNSAFE_TEXT, uuidField } from './chat.js';
import { supportErrors } from './errors.js';

const FIELDS = ['question', 'orderId', 'ticketId', 'clientQuestionId', 'language'] as const;

/** The idempotency scope of a person's questions (the REST route's too). */
export const assistantScope = (userId: string) => `support:assistant:${userId}`;

/** The hand-over's ticket and message ids a client's key gives, whichever transport asked. */
export function assistantKeyedIds(userId: string, key: string) {
  const scope = assistantScope(userId);
  return {
    ticketId: keyedUuid('support-assistant-ticket', scope, key),
    messageId: keyedUuid('support-assistant-message', scope, key),
  };
}

export function supportAssistantInbound(assistant: SupportAssistant): InboundHandler[] {
  return SIDES.filter((side) => side.path !== '/ws/support').map((side): InboundHandler => ({
    path: side.path,
    type: 'support-assistant',
    async handle(data, connection) {
      const caller = callerOn(side, connection);
      const body = fieldsOf(data, FIELDS);
      if (
        typeof body.question !== 'string' ||
        body.question.length === 0 ||
        body.question.length > QUESTION_MAX
      )
        throw invalid(`question must be a string of 1 to ${QUESTION_MAX} characters.`);
      if (UNSAFE_TEXT.test(body.question))
        throw supportErrors.of(
          'validation',
          'invalid_characters',
          'The text holds a NUL or a lone surrogate.',
        );
      if (body.language !== undefined && body.language !== 'fr' && body.language !== 'en')
        throw invalid('language must be fr or en.');
      const orderId = body.orderId === undefined ? undefined : uuidField(body, 'orderId');
      const ticketId = body.ticketId === undefined ? undefined : uuidField(body, 'ticketId');
      const key = body.clientQuestionId === undefined ? undefined : uuidField(body, 'clientQuestionId');
      const answer = await assistant.ask(
        caller,
        {
          question: body.question,
          ...(orderId === undefined ? {} : { orderId }),
          ...(ticketId === undefined ? {} : { ticketId }),
        },
        body.language === 'en' ? 'en' : 'fr',
        key === undefined ? {} : assistantKeyedIds(caller.userId, key),
      );
      return { ...answer };
    },
  }));
}
