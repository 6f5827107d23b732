/**
 * Delivery receipts (issue #19, docs/notification-channels.md): Twilio posts each SMS's status
 * changes to `POST /v1/webhooks/twilio/status` (the `statusCallback` the Twilio adapter sets).
 * The `X-Twilio-Signature` is checked with the SDK's `validateRequest` over our public URL and
 * the posted parameters before anything else (403 otherwise); the status then updates the
 * delivery Twilio knows by its message SID. An unknown SID is answered 200 and changes nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import Type from 'typebox';
import twilio from 'twilio';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { TWILIO_STATUS_PATH } from '../notifications/index.js';
import type { ReceiptStatus } from './tables.js';

/** The one thing the routes need: record a receipt by the provider's message id. */
export interface DeliveryReceipts {
  markDelivery(
    providerId: string,
    status: ReceiptStatus,
    reason?: string,
  ): Promise<'applied' | 'unchanged' | 'unknown'>;
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
  const received = receiptCounter(app);
  // Twilio posts forms: parsed here, in this route's own scope only.
  void app.register(async (scope) => {
    parseForms(scope);
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
        const outcome = await receipts.markDelivery(body.MessageSid, status, reason);
        if (outcome === 'applied') received.inc({ provider: 'twilio', channel: 'sms', status });
        request.log.info({ providerId: body.MessageSid, status, outcome }, 'delivery receipt');
        // `applied`: the message is ours (a repeated or older status changes nothing, still ours).
        return { received: true, applied: outcome !== 'unknown' };
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

const RECEIPTS_METRIC = 'notification_receipts_total';

/** Delivered against failed per provider: the success rate past the provider's acceptance (one counter for every provider). */
function receiptCounter(app: FastifyInstance): Counter<'provider' | 'channel' | 'status'> {
  const registry: Registry = app.metricsRegistry;
  const existing = registry.getSingleMetric(RECEIPTS_METRIC);
  if (existing !== undefined) return existing as Counter<'provider' | 'channel' | 'status'>;
  const counter = new Counter({
    name: RECEIPTS_METRIC,
    help: 'Delivery receipts from providers, by provider, channel and status (queued, sent, delivered, failed)',
    labelNames: ['provider', 'channel', 'status'] as const,
    registers: [],
  });
  registry.registerMetric(counter);
  return counter;
}

/** Providers post forms: parsed in the route's own scope only. */
function parseForms(scope: FastifyInstance): void {
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_LIMIT_BYTES },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
}

// ---- Africa's Talking delivery reports

export const AFRICASTALKING_DELIVERY_PATH = '/v1/webhooks/africastalking/delivery';

/**
 * Africa's Talking's delivery report statuses (its SMS notifications documentation) as the
 * receipts we keep: Submitted and Buffered are on their way, Sent reached the operator, Success
 * reached the phone; Rejected, Failed, AbsentSubscriber and Expired are final failures.
 */
const AFRICASTALKING_STATUSES: Record<string, ReceiptStatus> = {
  Submitted: 'queued',
  Buffered: 'queued',
  Sent: 'sent',
  Success: 'delivered',
  Rejected: 'failed',
  Failed: 'failed',
  AbsentSubscriber: 'failed',
  Expired: 'failed',
};

const AfricasTalkingReport = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' }),
    status: Type.String({ minLength: 1, maxLength: 32 }),
    failureReason: Type.Optional(Type.String({ maxLength: 64, pattern: '^[A-Za-z]*$' })),
    // phoneNumber, networkCode and retryCount are posted too; the phone is never read or logged.
  },
  { additionalProperties: true },
);

/** The callback URL's secret compared in constant time (digests: equal lengths whatever was sent). */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length === 0 || given.length > 256) return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/**
 * `POST /v1/webhooks/africastalking/delivery?token=…`: Africa's Talking posts each SMS's delivery
 * report (form-encoded `id`, `status`, `failureReason`, `phoneNumber`, `networkCode`,
 * `retryCount`) to the URL registered in its dashboard. It signs nothing and publishes no key
 * or address range, so what its API allows is a secret in that URL (HTTPS only): the token
 * (AFRICASTALKING_CALLBACK_TOKEN) is checked first, 403 otherwise. Reports are idempotent (a
 * repeat or an older status changes nothing) and an unknown id is answered 200 (it retries
 * anything else).
 */
export function registerAfricasTalkingReceipts(
  app: FastifyInstance,
  receipts: DeliveryReceipts,
  options: { callbackToken: string },
): void {
  const received = receiptCounter(app);
  void app.register(async (scope) => {
    parseForms(scope);
    scope.route({
      method: 'POST',
      url: AFRICASTALKING_DELIVERY_PATH,
      config: {
        access: {
          public: true,
          description:
            'Africa’s Talking delivery reports: the secret `token` of the registered URL, checked first',
        },
      },
      schema: {
        tags: ['webhooks'],
        summary:
          'Africa’s Talking SMS delivery report: the URL’s token checked, then the delivery’s receipt updated',
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 256 })) }),
        body: AfricasTalkingReport,
        response: {
          200: Type.Object({ received: Type.Boolean(), applied: Type.Boolean() }),
          400: ProblemSchema,
          403: ProblemSchema,
        },
      },
      preValidation: async (request: FastifyRequest) => {
        const token = (request.query as { token?: unknown } | undefined)?.token;
        if (!tokenMatches(options.callbackToken, token))
          throw new HttpProblem(
            403,
            'receipt_token_invalid',
            'The delivery report does not carry this service’s callback token.',
          );
      },
      handler: async (request) => {
        const body = request.body as { id: string; status: string; failureReason?: string };
        const status = AFRICASTALKING_STATUSES[body.status];
        if (status === undefined) return { received: true, applied: false };
        const reason =
          status === 'failed'
            ? `africastalking ${body.status}${body.failureReason ? ` ${body.failureReason}` : ''}`
            : undefined;
        const outcome = await receipts.markDelivery(body.id, status, reason);
        if (outcome === 'applied') received.inc({ provider: 'africastalking', channel: 'sms', status });
        request.log.info({ providerId: body.id, status, outcome }, 'delivery receipt');
        return { received: true, applied: outcome !== 'unknown' };
      },
    });
  });
}
