/**
 * The USSD aggregator callback (docs/ussd.md): `POST /v1/ussd/africastalking`, a form post from
 * Africa's Talking answered `text/plain` (`CON …` or `END …`). The aggregator is authenticated
 * before anything else: the shared secret USSD_CALLBACK_SECRET in the callback URL (`?key=`, as
 * Africa's Talking cannot add headers) or the `X-Ussd-Key` header, and, when USSD_ALLOWED_IPS is
 * set, the caller's address. Without a secret the route exists only outside production.
 *
 * `POST /v1/sms/inbound/africastalking` is the same aggregator's incoming SMS callback (`from`,
 * `to`, `text`, `date`, `id`), behind the same key and address list: SMS commands (`STATUS`).
 *
 * `POST /v1/sms/inbound/twilio` is Twilio's "A message comes in" webhook of the commands number:
 * the `X-Twilio-Signature` (HMAC-SHA1 of our public URL and the sorted posted parameters, keyed
 * with the auth token, base64) is checked with the SDK's `validateRequest` before anything else;
 * the same commands follow, answered through our SMS transport (capped), the TwiML answer empty.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { EMPTY_TWIML, parseTwilioForms, twilioSignatureCheck } from '../../http/twilio-webhook.js';
import type { UssdAggregator } from './aggregator.js';
import { MAX_TEXT_CHARS } from './aggregator.js';
import { normalizePhone } from '../../shared/phone.js';
import type { UssdService } from './service.js';

/** An aggregator's form is a few hundred bytes; a long session's `text` stays under MAX_TEXT_CHARS. */
const FORM_LIMIT_BYTES = 4_096;

export interface UssdRouteOptions {
  secret: string | undefined;
  allowedIps: readonly string[] | undefined;
  /** Callbacks per phone number per minute (a person types far fewer). */
  perPhonePerMinute: number;
}

const CallbackBody = Type.Object(
  {
    sessionId: Type.String({ minLength: 1, maxLength: 100 }),
    serviceCode: Type.String({ minLength: 1, maxLength: 32 }),
    phoneNumber: Type.String({ minLength: 1, maxLength: 32 }),
    text: Type.Optional(Type.String({ maxLength: MAX_TEXT_CHARS })),
    networkCode: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: true },
);

const digestOf = (value: string) => createHash('sha256').update(value).digest();

/** The aggregator's check, before validation: a caller that is not it learns nothing. */
function aggregatorGuard(options: UssdRouteOptions) {
  const expected = options.secret === undefined ? undefined : digestOf(options.secret);
  const allowed = options.allowedIps === undefined ? undefined : new Set(options.allowedIps);
  return async (request: FastifyRequest) => {
    if (allowed !== undefined && !allowed.has(request.ip))
      throw new HttpProblem(403, 'ussd_caller_refused', 'This address may not call the USSD callback.');
    if (expected === undefined) return;
    const header = request.headers['x-ussd-key'];
    const presented =
      (request.query as { key?: unknown } | undefined)?.key ??
      (typeof header === 'string' ? header : undefined);
    if (typeof presented !== 'string' || !timingSafeEqual(digestOf(presented), expected))
      throw new HttpProblem(401, 'ussd_key_invalid', 'The USSD callback key is missing or wrong.');
  };
}

const access = {
  public: true as const,
  description:
    'the USSD aggregator: shared secret (?key= or X-Ussd-Key, USSD_CALLBACK_SECRET) and the USSD_ALLOWED_IPS list, checked first',
};

const InboundSmsBody = Type.Object(
  {
    from: Type.String({ minLength: 1, maxLength: 32 }),
    text: Type.String({ maxLength: 1_600 }),
    to: Type.Optional(Type.String({ maxLength: 32 })),
    id: Type.Optional(Type.String({ maxLength: 100 })),
    date: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: true },
);

export function registerUssdRoutes(
  app: FastifyInstance,
  service: UssdService,
  aggregator: UssdAggregator,
  options: UssdRouteOptions,
): void {
  const guard = aggregatorGuard(options);
  void app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_LIMIT_BYTES },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    const perPhone = (field: string) => ({
      hook: 'preHandler' as const,
      max: options.perPhonePerMinute,
      timeWindow: 60_000,
      keyGenerator: (request: FastifyRequest) =>
        `ussd:${String((request.body as Record<string, unknown> | undefined)?.[field] ?? request.ip)}`,
    });
    scope.route({
      method: 'POST',
      url: `/v1/ussd/${aggregator.name}`,
      config: { access, rateLimit: perPhone('phoneNumber') },
      schema: {
        tags: ['ussd'],
        summary: `${aggregator.name} USSD callback: one input in, the next screen out (text/plain, CON or END)`,
        querystring: Type.Object({ key: Type.Optional(Type.String({ maxLength: 256 })) }),
        body: CallbackBody,
        response: {
          200: Type.String({
            description: 'The screen: `CON ` (more input) or `END ` (closed), then the text',
          }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          429: ProblemSchema,
          503: ProblemSchema,
        },
      },
      preValidation: guard,
      handler: async (request, reply) => {
        const parsed = aggregator.parse(request.body as Record<string, string>);
        if ('problem' in parsed) throw new HttpProblem(400, 'invalid_ussd_request', parsed.problem);
        const screen = await service.handle(parsed, request.id);
        const answer = aggregator.answer(screen);
        return reply.type(answer.contentType).send(answer.body);
      },
    });
    scope.route({
      method: 'POST',
      url: `/v1/sms/inbound/${aggregator.name}`,
      config: { access, rateLimit: perPhone('from') },
      schema: {
        tags: ['ussd'],
        summary: `${aggregator.name} incoming SMS: commands (STATUS) answered by SMS`,
        querystring: Type.Object({ key: Type.Optional(Type.String({ maxLength: 256 })) }),
        body: InboundSmsBody,
        response: {
          200: Type.Object({ received: Type.Boolean(), replied: Type.Boolean() }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          429: ProblemSchema,
        },
      },
      preValidation: guard,
      handler: async (request) => {
        const { from, text, id } = request.body as { from: string; text: string; id?: string };
        const phone = normalizePhone(from);
        if (phone === undefined)
          throw new HttpProblem(400, 'invalid_ussd_request', 'from must be a valid phone number');
        const messageId = id === undefined || id === '' ? undefined : `africastalking:${id}`;
        return { received: true, ...(await service.answerSms(phone, text, messageId)) };
      },
    });
  });
}

export const TWILIO_COMMANDS_PATH = '/v1/sms/inbound/twilio';

const TwilioInboundSms = Type.Object(
  {
    MessageSid: Type.String({ pattern: '^(SM|MM)[0-9a-f]{32}$' }),
    From: Type.String({ minLength: 1, maxLength: 32 }),
    Body: Type.String({ maxLength: 1_600 }),
  },
  { additionalProperties: true },
);

/**
 * Twilio's incoming SMS for the commands (STATUS, STOP, START): the same service as Africa's
 * Talking's route, behind Twilio's signature instead of our key.
 */
export function registerTwilioSmsCommandRoute(
  app: FastifyInstance,
  service: UssdService,
  options: { twilioAuthToken: string; publicBaseUrl: string; perPhonePerMinute: number },
): void {
  const url = `${options.publicBaseUrl.replace(/\/+$/, '')}${TWILIO_COMMANDS_PATH}`;
  void app.register(async (scope) => {
    parseTwilioForms(scope, FORM_LIMIT_BYTES);
    scope.route({
      method: 'POST',
      url: TWILIO_COMMANDS_PATH,
      config: {
        access: { public: true, description: 'signed by Twilio (X-Twilio-Signature, checked first)' },
        rateLimit: {
          hook: 'preHandler' as const,
          max: options.perPhonePerMinute,
          timeWindow: 60_000,
          keyGenerator: (request: FastifyRequest) =>
            `ussd:${String((request.body as Record<string, unknown> | undefined)?.From ?? request.ip)}`,
        },
      },
      schema: {
        tags: ['ussd'],
        summary:
          'Twilio incoming SMS: signature checked, then commands (STATUS, STOP, START) answered by SMS',
        body: TwilioInboundSms,
        response: {
          200: Type.String({ description: 'An empty TwiML <Response/>: the answer goes out as its own SMS' }),
          400: ProblemSchema,
          403: ProblemSchema,
          429: ProblemSchema,
        },
      },
      // Before validation: an unsigned post learns nothing, not even what a valid body is.
      preValidation: twilioSignatureCheck(options.twilioAuthToken, url),
      handler: async (request, reply) => {
        const body = request.body as { MessageSid: string; From: string; Body: string };
        const phone = normalizePhone(body.From);
        if (phone === undefined)
          throw new HttpProblem(400, 'invalid_ussd_request', 'From must be a valid phone number');
        const { replied } = await service.answerSms(phone, body.Body, `twilio:${body.MessageSid}`);
        // Neither the number nor the text in the log: Twilio's id and whether we answered.
        request.log.info({ providerId: body.MessageSid, replied }, 'sms command');
        return reply.type('text/xml').send(EMPTY_TWIML);
      },
    });
  });
}
