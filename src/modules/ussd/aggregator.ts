/**
 * The aggregator port: how one USSD gateway posts a customer's input and reads our screen back.
 * Africa's Talking is the first (docs/ussd.md); a second aggregator is another `UssdAggregator`
 * with its own parsing and answer, the session logic unchanged.
 */
import { normalizePhone } from '../../shared/phone.js';

/** One callback, as every aggregator reduces to it. */
export interface UssdRequest {
  /** The aggregator's id of this dial (stable across the session's callbacks). */
  sessionId: string;
  serviceCode: string;
  /** E.164, as the mobile network reports it (the network vouches for it). */
  phone: string;
  /** Every input of this dial so far, in order (Africa's Talking sends them `*`-joined). */
  inputs: string[];
}

export interface UssdAnswer {
  contentType: string;
  body: string;
}

export interface UssdAggregator {
  name: string;
  /** The request, or the reason it is not one (answered 400, nothing changes). */
  parse(fields: Record<string, string>): UssdRequest | { problem: string };
  /** The screen as the aggregator wants it: continue (`CON`) or end (`END`) the session. */
  answer(screen: { text: string; end: boolean }): UssdAnswer;
}

/** At most this many inputs in one dial: a couple of minutes of a person typing. */
export const MAX_INPUTS = 64;
/** `text` longer than this is no person's input (64 inputs of a few digits). */
export const MAX_TEXT_CHARS = 512;
const SESSION_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const SERVICE_CODE = /^[*#0-9]{1,32}$/;

/**
 * Africa's Talking USSD (https://developers.africastalking.com/docs/ussd/handle_sessions): a form
 * post with `sessionId`, `serviceCode`, `phoneNumber`, `networkCode` and `text` (the inputs of
 * this dial joined by `*`, empty on the first callback); the answer is `text/plain` starting
 * `CON ` (wait for input) or `END ` (close).
 */
export const africasTalking: UssdAggregator = {
  name: 'africastalking',
  parse(fields) {
    const { sessionId, serviceCode, phoneNumber } = fields;
    const text = fields.text ?? '';
    if (sessionId === undefined || !SESSION_ID.test(sessionId))
      return { problem: 'sessionId must be 1 to 100 letters, digits or ._:-' };
    if (serviceCode === undefined || !SERVICE_CODE.test(serviceCode))
      return { problem: 'serviceCode must be a USSD code such as *123#' };
    const phone = phoneNumber === undefined ? undefined : normalizePhone(phoneNumber);
    if (phone === undefined) return { problem: 'phoneNumber must be a valid phone number' };
    if (text.length > MAX_TEXT_CHARS) return { problem: `text is longer than ${MAX_TEXT_CHARS} characters` };
    const inputs = text === '' ? [] : text.split('*');
    if (inputs.length > MAX_INPUTS) return { problem: `text holds more than ${MAX_INPUTS} inputs` };
    return { sessionId, serviceCode, phone, inputs };
  },
  answer(screen) {
    return { contentType: 'text/plain; charset=utf-8', body: `${screen.end ? 'END' : 'CON'} ${screen.text}` };
  },
};
