/**
 * Delivery receipts (issue #19, docs/notification-channels.md): Twilio posts each SMS's status
 * changes to `POST /v1/webhooks/twilio/status` (the `statusCallback` the Twilio adapter sets).
 * The `X-Twilio-Signature` is checked with the SDK's `validateRequest` over our public URL and
 * the posted parameters before anything else (403 otherwise); the status then updates the
 * delivery Twilio knows by its message SID. An unknown SID is answered 200 and changes nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import Type from 'typebox';
import twilio from 'twilio';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { TWILIO_STATUS_PATH } from '../notifications/index.js';
import type { ReceiptStatus } from './tables.js';

/** The one thing the route needs: record a receipt by the provider's message id. */
export interface DeliveryReceipts {
  /** Answers whether a delivery with that provider id exists. */
  markDelivery(providerId: string, status: ReceiptStatus, reason?: string): Promise<boolean>;
}

export interface ReceiptRouteOptions {
  /** Twilio signs callbacks with the account's auth token. */
  twilioAuthToken: string;
  /** Our public origin (PUBLIC_BASE_URL): the URL Twilio signed is this origin and the path. */
  publicBaseUrl: string;
}

/** Twilio's message statuses, as the receipts we keep. */
const TWILIO_STATUSES: Record<string, ReceiptStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
};

/** A form post is at most a few hundred bytes; Twilio adds parameters over time, so allow some. */
const FORM_LIMIT_BYTES = 16_384;

const TwilioStatusBody = Type.Object(
  {
    MessageSid: Type.String({ pattern: '^(SM|MM)[0-9a-f]{32}$' }),
    MessageStatus: Type.String({ minLength: 1, maxLength: 32 }),
    ErrorCode: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  },
  { additionalProperties: true },
);
type TwilioStatusBody = { MessageSid: string; MessageStatus: string; ErrorCode?: string } & Record<
  string,
  string
>;

export function registerReceiptRoutes(
  app: FastifyInstance,
  receipts: DeliveryReceipts,
  options: ReceiptRouteOptions,
): void {
  const url = `${options.publicBaseUrl.replace(/\/+$/, '')}${TWILIO_STATUS_PATH}`;
  // Delivered against failed per provider: the success rate past the provider's acceptance.
  const received = new Counter({
    name: 'notification_receipts_total',
    help: 'Delivery receipts from providers, by provider, channel and status (queued, sent, delivered, failed)',
    labelNames: ['provider', 'channel', 'status'] as const,
    registers: [],
  });
  app.metricsRegistry.registerMetric(received);
  // Twilio posts forms: parsed here, in this route's own scope only.
  void app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_LIMIT_BYTES },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scope.route({
      method: 'POST',
      url: TWILIO_STATUS_PATH,
      config: {
        access: { public: true, description: 'signed by Twilio (X-Twilio-Signature, checked first)' },
      },
      schema: {
        tags: ['webhooks'],
        summary: 'Twilio message status callback: signature checked, then the delivery’s receipt updated',
        body: TwilioStatusBody,
        response: {
          200: Type.Object({ received: Type.Boolean(), applied: Type.Boolean() }),
          400: ProblemSchema,
          403: ProblemSchema,
        },
      },
      // Before validation: an unsigned post learns nothing, not even what a valid body is.
      preValidation: async (request: FastifyRequest) => {
        const signature = request.headers['x-twilio-signature'];
        const params = isForm(request.body) ? request.body : undefined;
        if (
          typeof signature !== 'string' ||
          params === undefined ||
          !twilio.validateRequest(options.twilioAuthToken, signature, url, params)
        )
          throw new HttpProblem(
            403,
            'receipt_signature_invalid',
            'The status callback is not signed by Twilio.',
          );
      },
      handler: async (request) => {
        const body = request.body as TwilioStatusBody;
        const status = TWILIO_STATUSES[body.MessageStatus];
        // A status we do not keep (e.g. receiving, for inbound messages): acknowledged, ignored.
        if (status === undefined) return { received: true, applied: false };
        const reason =
          status === 'failed'
            ? `twilio ${body.MessageStatus}${body.ErrorCode !== undefined ? ` ${body.ErrorCode}` : ''}`
            : undefined;
        const applied = await receipts.markDelivery(body.MessageSid, status, reason);
        if (applied) received.inc({ provider: 'twilio', channel: 'sms', status });
        request.log.info({ providerId: body.MessageSid, status, applied }, 'delivery receipt');
        return { received: true, applied };
      },
    });
  });
}

function isForm(body: unknown): body is Record<string, string> {
  return (
    body !== null &&
    typeof body === 'object' &&
    !Array.isArray(body) &&
    Object.values(body).every((value) => typeof value === 'string')
  );
}
