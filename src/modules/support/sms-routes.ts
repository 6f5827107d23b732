/**
 * Inbound SMS to support: Twilio posts each message a person sends to our number to
 * `POST /v1/webhooks/twilio/sms` (the number's "A message comes in" webhook). The
 * `X-Twilio-Signature` is checked with the SDK's `validateRequest` over our public URL and the
 * posted parameters before anything else (403 otherwise); the text then becomes a ticket or a
 * message (intake.ts). The answer is an empty TwiML `<Response/>`: nothing is sent back by SMS.
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { ProblemSchema } from '../../http/problem.js';
import { EMPTY_TWIML, parseTwilioForms, twilioSignatureCheck } from '../../http/twilio-webhook.js';
import type { SupportIntake } from './intake.js';

export const TWILIO_SMS_PATH = '/v1/webhooks/twilio/sms';
const FORM_LIMIT_BYTES = 16_384;

const InboundSms = Type.Object(
  {
    MessageSid: Type.String({ pattern: '^(SM|MM)[0-9a-f]{32}$' }),
    From: Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$' }),
    Body: Type.String({ maxLength: 1_600 }),
  },
  { additionalProperties: true },
);

export function registerSmsIntakeRoutes(
  app: FastifyInstance,
  intake: SupportIntake,
  options: { twilioAuthToken: string; publicBaseUrl: string },
): void {
  const url = `${options.publicBaseUrl.replace(/\/+$/, '')}${TWILIO_SMS_PATH}`;
  void app.register(async (scope) => {
    parseTwilioForms(scope, FORM_LIMIT_BYTES);
    scope.route({
      method: 'POST',
      url: TWILIO_SMS_PATH,
      config: {
        access: { public: true, description: 'signed by Twilio (X-Twilio-Signature, checked first)' },
      },
      schema: {
        tags: ['webhooks'],
        summary:
          'Twilio inbound SMS: signature checked, then the text continues or opens the sender’s ticket',
        body: InboundSms,
        response: { 200: Type.String(), 400: ProblemSchema, 403: ProblemSchema },
      },
      preValidation: twilioSignatureCheck(options.twilioAuthToken, url),
      handler: async (request, reply) => {
        const body = request.body as { MessageSid: string; From: string; Body: string };
        const result = await intake.sms({ from: body.From, body: body.Body, providerId: body.MessageSid });
        // No phone number or text in the log: the provider's id and what happened.
        request.log.info({ providerId: body.MessageSid, ...result }, 'support SMS intake');
        return reply.type('text/xml').send(EMPTY_TWIML);
      },
    });
  });
}
