/**
 * What every Twilio webhook of ours shares (support's inbound SMS, USSD's SMS commands): the form
 * Twilio posts, its `X-Twilio-Signature` checked with the SDK's `validateRequest` over our public
 * URL and the posted parameters before anything else, and the empty TwiML answer.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import twilio from 'twilio';
import { HttpProblem } from './problem.js';

/** An empty TwiML `<Response/>`: nothing is sent back in the webhook's answer. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

function isForm(body: unknown): body is Record<string, string> {
  return (
    body !== null &&
    typeof body === 'object' &&
    !Array.isArray(body) &&
    Object.values(body).every((value) => typeof value === 'string')
  );
}

/** Parses the `application/x-www-form-urlencoded` posts of this scope, up to `limitBytes`. */
export function parseTwilioForms(scope: FastifyInstance, limitBytes: number): void {
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: limitBytes },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
}

/**
 * A `preValidation` hook: 403 `sms_signature_invalid` unless Twilio signed this post for `url`
 * (before validation, so an unsigned post learns nothing, not even what a valid body is).
 */
export function twilioSignatureCheck(authToken: string, url: string) {
  return async (request: FastifyRequest): Promise<void> => {
    const signature = request.headers['x-twilio-signature'];
    const params = isForm(request.body) ? request.body : undefined;
    if (
      typeof signature !== 'string' ||
      params === undefined ||
      !twilio.validateRequest(authToken, signature, url, params)
    )
      throw new HttpProblem(403, 'sms_signature_invalid', 'The inbound SMS is not signed by Twilio.');
  };
}
