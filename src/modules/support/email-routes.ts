/**
 * Inbound e-mail to support: a Mailgun route's `forward("https://…/v1/webhooks/mailgun/inbound")`
 * posts each message to support's address, parsed (Mailgun's "fully parsed" format: form fields
 * `from`, `sender`, `subject`, `body-plain`, `stripped-text`, `message-headers`, `Message-Id`, and
 * `timestamp`, `token`, `signature`). Before anything else the signature is checked: the hex
 * HMAC-SHA256 of `timestamp` + `token` with the webhook signing key, compared in constant time,
 * with a timestamp within SIGNATURE_WINDOW_SECONDS of ours (403 otherwise). The text then
 * continues or opens the sender's ticket (intake.ts). Attachments (multipart posts) are read and
 * dropped, not kept. Mailgun retries anything but 200 and 406 for hours: a signed message we will
 * never take (unknown sender, spam, a failed SPF or DKIM check) is answered 200 and changes nothing.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { SupportIntake } from './intake.js';

export const MAILGUN_INBOUND_PATH = '/v1/webhooks/mailgun/inbound';
/** The largest post taken (text fields; attachments are dropped as they stream). */
export const EMAIL_FORM_LIMIT_BYTES = 512 * 1_024;
const FIELD_LIMIT_BYTES = 256 * 1_024;
const FIELDS_MAX = 100;
const ATTACHMENTS_MAX = 10;
const ATTACHMENT_LIMIT_BYTES = 25 * 1_024 * 1_024;
export const SIGNATURE_WINDOW_SECONDS = 15 * 60;

const InboundEmail = Type.Object(
  {
    timestamp: Type.String({ pattern: '^[0-9]{1,12}$' }),
    token: Type.String({ minLength: 1, maxLength: 200 }),
    signature: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    from: Type.String({ minLength: 3, maxLength: 1_000 }),
    subject: Type.Optional(Type.String({ maxLength: 2_000 })),
    'body-plain': Type.Optional(Type.String({ maxLength: FIELD_LIMIT_BYTES })),
    'stripped-text': Type.Optional(Type.String({ maxLength: FIELD_LIMIT_BYTES })),
    'message-headers': Type.Optional(Type.String({ maxLength: FIELD_LIMIT_BYTES })),
    'Message-Id': Type.Optional(Type.String({ minLength: 1, maxLength: 1_000 })),
  },
  { additionalProperties: true },
);
type InboundEmailBody = {
  timestamp: string;
  token: string;
  signature: string;
  from: string;
  subject?: string;
  'body-plain'?: string;
  'stripped-text'?: string;
  'message-headers'?: string;
  'Message-Id'?: string;
};

/** Whether Mailgun signed these fields with the key, recently (pure, for tests too). */
export function mailgunSignatureValid(
  key: string,
  fields: { timestamp?: unknown; token?: unknown; signature?: unknown },
  nowSeconds: number,
): boolean {
  const { timestamp, token, signature } = fields;
  if (typeof timestamp !== 'string' || typeof token !== 'string' || typeof signature !== 'string')
    return false;
  if (!/^[0-9]{1,12}$/.test(timestamp) || !/^[0-9a-f]{64}$/.test(signature)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS) return false;
  const expected = createHmac('sha256', key)
    .update(timestamp + token)
    .digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

/** The address in a `From` header (`Awa N. <awa@example.cm>` or a bare address), lower-cased. */
export function addressOf(from: string): string | undefined {
  const bracketed = /<([^<>\s]+@[^<>\s]+)>/.exec(from)?.[1];
  const address = (bracketed ?? from).trim().toLowerCase();
  return /^[^@\s<>"]{1,64}@[a-z0-9.-]{1,253}\.[a-z]{2,63}$/.test(address) ? address : undefined;
}

/**
 * Why a message is not taken, from Mailgun's own checks in its headers (when the domain has spam
 * marking on): flagged as spam, or neither SPF nor DKIM passed. Undefined when it is taken.
 */
export function refusalOf(headersJson: string | undefined): 'spam' | 'sender_unverified' | undefined {
  if (headersJson === undefined) return undefined;
  let headers: unknown;
  try {
    headers = JSON.parse(headersJson);
  } catch {
    return undefined;
  }
  if (!Array.isArray(headers)) return undefined;
  const value = (name: string) => {
    const found = headers.find(
      (pair): pair is [string, string] =>
        Array.isArray(pair) && typeof pair[0] === 'string' && pair[0].toLowerCase() === name,
    );
    return typeof found?.[1] === 'string' ? found[1].trim().toLowerCase() : undefined;
  };
  if (value('x-mailgun-sflag') === 'yes') return 'spam';
  const spf = value('x-mailgun-spf');
  const dkim = value('x-mailgun-dkim-check-result');
  if ((spf !== undefined || dkim !== undefined) && spf !== 'pass' && dkim !== 'pass')
    return 'sender_unverified';
  return undefined;
}

export function registerEmailIntakeRoutes(
  app: FastifyInstance,
  intake: SupportIntake,
  options: { signingKey: string; now?: () => Date },
): void {
  const now = options.now ?? (() => new Date());
  void app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: EMAIL_FORM_LIMIT_BYTES },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    // Mailgun posts multipart/form-data when the message has attachments: the fields become the
    // body, each attachment is drained as it streams and kept as an empty value.
    await scope.register(multipart, {
      attachFieldsToBody: 'keyValues',
      limits: {
        fieldSize: FIELD_LIMIT_BYTES,
        fields: FIELDS_MAX,
        files: ATTACHMENTS_MAX,
        fileSize: ATTACHMENT_LIMIT_BYTES,
        parts: FIELDS_MAX + ATTACHMENTS_MAX,
      },
      async onFile(part) {
        part.file.resume();
        await new Promise((resolve) => part.file.once('end', resolve));
        (part as unknown as { value: string }).value = '';
      },
    });
    scope.route({
      method: 'POST',
      url: MAILGUN_INBOUND_PATH,
      bodyLimit: EMAIL_FORM_LIMIT_BYTES,
      config: {
        access: {
          public: true,
          description: 'signed by Mailgun (signature over timestamp and token, checked first)',
        },
      },
      schema: {
        tags: ['webhooks'],
        summary:
          'Mailgun inbound e-mail: signature checked, then the text continues or opens the sender’s ticket',
        body: InboundEmail,
        response: {
          200: Type.Object({ outcome: Type.String() }),
          400: ProblemSchema,
          403: ProblemSchema,
          413: ProblemSchema,
        },
      },
      preValidation: async (request: FastifyRequest) => {
        const body = request.body as Record<string, unknown> | null | undefined;
        if (
          body === null ||
          typeof body !== 'object' ||
          !mailgunSignatureValid(options.signingKey, body, Math.floor(now().getTime() / 1_000))
        )
          throw new HttpProblem(
            403,
            'email_signature_invalid',
            'The inbound e-mail is not signed by Mailgun with our key, or the signature is too old.',
          );
      },
      handler: async (request) => {
        const body = request.body as InboundEmailBody;
        const refusal = refusalOf(body['message-headers']);
        const address = addressOf(body.from);
        const result =
          refusal !== undefined
            ? { outcome: 'ignored', reason: refusal }
            : address === undefined
              ? { outcome: 'ignored', reason: 'unknown_sender' }
              : await intake.email({
                  from: address,
                  subject: body.subject ?? '',
                  text: (body['stripped-text'] ?? '').trim() || (body['body-plain'] ?? ''),
                  // Scoped to the sender (another's Message-Id names nothing of theirs), and
                  // hashed: the id lands in the audit log, the address must not.
                  providerId: `mailgun:${createHash('sha256')
                    .update(`${address} ${body['Message-Id'] ?? body.token}`)
                    .digest('hex')
                    .slice(0, 32)}`,
                });
        // No address, subject or text in the log: Mailgun's token and what happened.
        request.log.info({ providerToken: body.token.slice(0, 64), ...result }, 'support e-mail intake');
        return { outcome: result.outcome };
      },
    });
  });
}
