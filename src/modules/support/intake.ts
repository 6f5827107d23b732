/**
 * Tickets from other channels. An inbound SMS (Twilio's inbound webhook, sms-routes.ts) or
 * e-mail (Mailgun's inbound route, email-routes.ts) from a known person's phone or address continues
 * the ticket its e-mail subject names (`[#T-…]`, theirs only), else their latest open or pending
 * ticket of the last INTAKE_CONTINUE_DAYS, or opens a new one (category from keywords, subject from the text's
 * start), through the same service as the app (checks, encryption, audit, real-time). The
 * provider's message id names the message or ticket, so a redelivered webhook writes nothing new.
 * A number nobody holds, a person without an opener role, or an empty text are acknowledged and
 * change nothing.
 */
import { createHash } from 'node:crypto';
import type { Permission, Role } from '../../shared/principal.js';
import { keywordCategory } from './assist-rules.js';
import type { SupportService } from './service.js';
import { mayWrite } from './rules.js';
import { OPENER_ROLES } from './tables.js';

export const INTAKE_CONTINUE_DAYS = 7;
export const SMS_SUBJECT_CHARS = 60;
// eslint-disable-next-line no-control-regex -- NUL is exactly what is refused
const UNSAFE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Who a phone number belongs to (identity's repository): active people only. */
export type PhoneDirectory = (
  phone: string,
) => Promise<{ userId: string; roles: readonly string[]; status: string } | undefined>;

export function providerUuid(namespace: string, id: string): string {
  const bytes = createHash('sha256').update(namespace).update('\u0000').update(id).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Who an e-mail address belongs to (identity's repository), like PhoneDirectory. */
export type EmailDirectory = PhoneDirectory;

/** The longest first message a ticket takes (the app's limit): a longer e-mail is cut. */
export const EMAIL_TEXT_MAX = 5_000;
export const EMAIL_SUBJECT_MAX = 200;

export type IntakeOutcome =
  | { outcome: 'opened' | 'continued'; ticketId: string }
  | { outcome: 'ignored'; reason: 'unknown_sender' | 'not_an_opener' | 'empty_text' };

/**
 * A ticket's reference in an e-mail subject, as support's e-mail replies write it (`[#T-1a2b3c4d]`:
 * notify's `ticketReference`, the ticket id's first 8 hex digits); any case, spaces inside the
 * brackets tolerated.
 */
export const TICKET_REFERENCE = /\[\s*#?\s*T-([0-9a-f]{8})\s*\]/gi;

/** The reference an e-mail's subject names (the last one, the newest in a forwarded chain). */
export function referenceIn(subject: string): string | undefined {
  const found = [...subject.matchAll(TICKET_REFERENCE)];
  return found.at(-1)?.[1]?.toLowerCase();
}

/** Cut to `max` characters without splitting a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}

export function createSupportIntake(deps: {
  support: SupportService;
  phones: PhoneDirectory;
  emails?: EmailDirectory;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());

  async function sms(input: { from: string; body: string; providerId: string }): Promise<IntakeOutcome> {
    const text = input.body.trim();
    if (text.length === 0 || UNSAFE_TEXT.test(text)) return { outcome: 'ignored', reason: 'empty_text' };
    return intake('sms', await deps.phones(input.from), {
      text,
      subject: text.length <= SMS_SUBJECT_CHARS ? text : `${text.slice(0, SMS_SUBJECT_CHARS - 1)}…`,
      providerId: input.providerId,
    });
  }

  /**
   * An e-mail (Mailgun's parsed inbound message): the sender's address finds the person; the text
   * (the reply without its quoted part when the provider separated it) continues or opens their
   * ticket, cut to EMAIL_TEXT_MAX; the subject, without its `Re:`/`Fwd:` prefixes, names a new one.
   */
  async function email(input: {
    from: string;
    subject: string;
    text: string;
    providerId: string;
  }): Promise<IntakeOutcome> {
    const text = cut(input.text.trim(), EMAIL_TEXT_MAX);
    if (text.length === 0 || UNSAFE_TEXT.test(text) || UNSAFE_TEXT.test(input.subject))
      return { outcome: 'ignored', reason: 'empty_text' };
    const person = deps.emails === undefined ? undefined : await deps.emails(input.from);
    const reference = referenceIn(input.subject);
    const bare = input.subject
      .replace(TICKET_REFERENCE, ' ')
      .replace(/^\s*((re|fwd?|tr|réf?)\s*:\s*)+/i, '')
      .replace(/\s+/g, ' ')
      .trim();
    const subject = cut(bare.length > 0 ? bare : text.replace(/\s+/g, ' '), EMAIL_SUBJECT_MAX);
    return intake('email', person, {
      text,
      subject,
      providerId: input.providerId,
      ...(reference === undefined ? {} : { reference }),
    });
  }

  async function intake(
    channel: 'sms' | 'email',
    person: Awaited<ReturnType<PhoneDirectory>>,
    input: { text: string; subject: string; providerId: string; reference?: string },
  ): Promise<IntakeOutcome> {
    const { text, subject } = input;
    if (person === undefined || person.status !== 'active')
      return { outcome: 'ignored', reason: 'unknown_sender' };
    const roles = person.roles.filter((role): role is Role =>
      (OPENER_ROLES as readonly string[]).includes(role),
    );
    if (roles.length === 0) return { outcome: 'ignored', reason: 'not_an_opener' };
    const caller = {
      userId: person.userId,
      roles,
      permissions: new Set<Permission>(),
      actor: {
        kind: 'user' as const,
        userId: person.userId,
        ip: null,
        userAgent: channel,
        requestId: input.providerId,
      },
    };
    // A redelivery of the message that opened a ticket finds that ticket, not a second message.
    const ticketId = providerUuid(`support-${channel}-ticket`, input.providerId);
    if ((await deps.support.repository.find(ticketId))?.opener_id === person.userId)
      return { outcome: 'opened', ticketId };
    // A redelivery of a message that continued a ticket finds it there, whatever the ticket's
    // status became meanwhile (no second ticket for it).
    const messageId = providerUuid(`support-${channel}-message`, input.providerId);
    const written = await deps.support.repository.findMessage(messageId);
    if (written !== undefined && written.author_id === person.userId)
      return { outcome: 'continued', ticketId: written.ticket_id };
    const current = await ticketToContinue(person.userId, input.reference);
    if (current !== undefined) {
      await deps.support.addMessage(caller, current.id, { body: text }, messageId);
      return { outcome: 'continued', ticketId: current.id };
    }
    const ticket = await deps.support.open(
      caller,
      { category: keywordCategory(`${subject} ${text}`), subject, body: text },
      ticketId,
      'fr',
      { source: channel },
    );
    return { outcome: 'opened', ticketId: ticket.id };
  }

  /**
   * The ticket a message continues. With a reference (an e-mail's `[#T-1a2b3c4d]`): the sender's
   * own ticket it names, whatever its age, when they may still write on it; a reference that names
   * none of theirs (another person's ticket, a typo) or a ticket resolved or closed continues
   * nothing: a new ticket is opened, never another person's. Without one: their latest open or
   * pending ticket of the last INTAKE_CONTINUE_DAYS.
   */
  async function ticketToContinue(openerId: string, reference: string | undefined) {
    if (reference !== undefined) {
      const named = await deps.support.repository.openerTicketByPrefix(openerId, reference);
      return named !== undefined && mayWrite(named.status, 'opener') ? named : undefined;
    }
    const since = new Date(now().getTime() - INTAKE_CONTINUE_DAYS * 86_400_000);
    return deps.support.repository.latestActiveOf(openerId, since);
  }

  return { sms, email };
}

export type SupportIntake = ReturnType<typeof createSupportIntake>;
