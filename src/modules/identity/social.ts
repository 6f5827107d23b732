import { randomState } from 'openid-client';
import type { Role } from '../../shared/principal.js';
import { requirePhone } from './accounts.js';
import type { AuditFunction } from './audit.js';
import { keyedHash, open, opaqueToken, seal } from './crypto.js';
import { identityErrors } from './errors.js';
import type { KeyValue } from './kv.js';
import type { PhoneCodes } from './otp.js';
import type { IdentityRepository, UserRow } from './repository.js';
import type { ClientKind, IssuedTokens, RequestContext } from './sessions.js';
import type { SessionService } from './sessions.js';
import type { SocialRepository } from './social-repository.js';
import type { SocialProfile, SocialProvider, SocialProviderName } from './social-providers.js';
import type { TwoFactor } from './two-factor.js';

/**
 * Sign-in and sign-up with Google and Facebook (issue #26, spec task 2.1).
 *
 * 1. `start`: a fresh `state` (and, in the adapter, a PKCE verifier and a nonce) is kept
 *    server-side for 10 minutes under a keyed hash of the state; the person goes to the provider.
 * 2. `callback`: the state is taken (single use: a replay, a forged or an expired state finds
 *    nothing), the code exchanged, the ID token checked (signature, issuer, audience, nonce,
 *    expiry) by openid-client. An unverified e-mail is refused. A provider account already linked
 *    signs its person in (after the authenticator code when 2FA is on); otherwise the answer is a
 *    ticket: the phone must be proved first.
 * 3. `sendCode` / `complete`: the ticket's holder names a phone number and proves it with the
 *    usual SMS code. The account holding that number is then linked (after its authenticator code
 *    when 2FA is on); without one, a customer account is created with the phone already
 *    verified. So nobody links someone else's account with a Google login alone, and no account
 *    can order or pay before its phone is proved (Mobile Money needs it).
 * The provider's tokens never leave the adapter; only the provider's subject is stored.
 */
export const SOCIAL_STATE_TTL_MS = 10 * 60_000;
export const SOCIAL_TICKET_TTL_MS = 10 * 60_000;
/** Wrong authenticator codes a ticket survives before it is burnt. */
export const SOCIAL_TICKET_MAX_ATTEMPTS = 5;

interface PendingState {
  provider: SocialProviderName;
  codeVerifier: string;
  nonce: string | null;
}

type Ticket =
  | {
      kind: 'link';
      provider: SocialProviderName;
      subject: string;
      email: string | null;
      name: string | null;
      phone: string | null;
      /** The SMS code was right: only the authenticator code (if any) is still missing. */
      phoneProved: boolean;
      attempts: number;
      expiresAtMs: number;
    }
  | {
      kind: 'two_factor';
      provider: SocialProviderName;
      subject: string;
      userId: string;
      attempts: number;
      expiresAtMs: number;
    };

export type SocialOutcome =
  | { status: 'signed_in'; tokens: IssuedTokens; user: UserRow; twoFactor: boolean }
  | { status: 'phone_required' | 'two_factor_required'; ticket: string; expiresInSeconds: number };

export interface SocialDependencies {
  repository: IdentityRepository;
  social: SocialRepository;
  providers: ReadonlyMap<SocialProviderName, SocialProvider>;
  kv: KeyValue;
  codes: PhoneCodes;
  sessions: SessionService;
  twoFactor: TwoFactor;
  audit: AuditFunction;
  masterKey: Buffer;
  hashKey: Buffer;
  now?: () => number;
}

const actorOf = (context: RequestContext, userId: string | null) => ({
  kind: userId === null ? ('anonymous' as const) : ('user' as const),
  userId,
  ip: context.ip,
  userAgent: context.userAgent,
  requestId: context.requestId ?? null,
});

const ticketInvalid = () =>
  identityErrors.of(
    'validation',
    'social_ticket_invalid',
    'The sign-in ticket is unknown, used or expired; start the sign-in again.',
  );

function isUniqueViolation(error: unknown): string | undefined {
  const pgError = error as { code?: unknown; constraint?: unknown };
  return pgError.code === '23505' ? String(pgError.constraint ?? '') : undefined;
}

export function createSocialSignIn(deps: SocialDependencies) {
  const { repository, social, providers, kv, codes, sessions, twoFactor, audit } = deps;
  const now = deps.now ?? Date.now;
  const stateKey = (state: string) => `social:state:${keyedHash(deps.hashKey, 'social-state', state)}`;
  const ticketKey = (ticket: string) => `social:ticket:${keyedHash(deps.hashKey, 'social-ticket', ticket)}`;

  function providerOf(name: SocialProviderName): SocialProvider {
    const provider = providers.get(name);
    if (provider === undefined)
      throw identityErrors.of(
        'not_found',
        'social_provider_not_configured',
        `Sign-in with ${name} is not available.`,
      );
    return provider;
  }

  // Tickets hold a phone number, an e-mail and a name for a few minutes: sealed, so a copy of
  // Redis shows none of them.
  async function saveTicket(token: string, ticket: Ticket): Promise<void> {
    const sealed = seal(deps.masterKey, Buffer.from(JSON.stringify(ticket)), 'social-ticket');
    await kv.set(ticketKey(token), sealed.toString('base64'), Math.max(1, ticket.expiresAtMs - now()));
  }
  async function readTicket(token: string, take = false): Promise<Ticket> {
    const stored = take ? await kv.take(ticketKey(token)) : await kv.get(ticketKey(token));
    if (stored === null) throw ticketInvalid();
    const ticket = JSON.parse(
      open(deps.masterKey, Buffer.from(stored, 'base64'), 'social-ticket').toString(),
    ) as Ticket;
    if (ticket.expiresAtMs <= now()) throw ticketInvalid();
    return ticket;
  }
  async function newTicket(ticket: Ticket): Promise<SocialOutcome> {
    const token = opaqueToken('st');
    await saveTicket(token, ticket);
    return {
      status: ticket.kind === 'link' ? 'phone_required' : 'two_factor_required',
      ticket: token,
      expiresInSeconds: Math.round(SOCIAL_TICKET_TTL_MS / 1000),
    };
  }

  async function signIn(
    user: UserRow,
    link: { provider: SocialProviderName; id: string },
    options: { client: ClientKind; twoFactor: boolean; context: RequestContext },
  ): Promise<SocialOutcome> {
    const signedIn = await repository.updateUser(user.id, { last_login_at: new Date(now()) });
    await social.touch(link.id);
    const tokens = await sessions.start(signedIn, {
      kind: 'user',
      client: options.client,
      twoFactorVerified: options.twoFactor,
      context: options.context,
    });
    await audit({
      action: 'auth.login',
      actor: actorOf(options.context, user.id),
      subjectUserId: user.id,
      resource: `session:${tokens.sessionId}`,
      newValue: { method: link.provider, twoFactor: options.twoFactor, client: options.client },
    });
    return { status: 'signed_in', tokens, user: signedIn, twoFactor: options.twoFactor };
  }

  function assertActive(user: UserRow): void {
    if (user.status === 'suspended')
      throw identityErrors.of(
        'forbidden',
        'account_suspended',
        'This account is suspended; contact support.',
      );
    if (user.status !== 'active')
      throw identityErrors.of('forbidden', 'account_closed', 'This account is closed.');
  }

  /** Burns the ticket after too many wrong authenticator codes; the caller throws. */
  async function countWrongCode(token: string, ticket: Ticket): Promise<void> {
    const attempts = ticket.attempts + 1;
    if (attempts >= SOCIAL_TICKET_MAX_ATTEMPTS) await kv.delete(ticketKey(token));
    else await saveTicket(token, { ...ticket, attempts });
  }

  async function checkSecondFactor(
    token: string,
    ticket: Ticket,
    userId: string,
    totp: string | undefined,
  ): Promise<boolean> {
    if (!(await twoFactor.isEnabled(userId))) return false;
    if (totp === undefined || totp === '')
      throw identityErrors.of(
        'unauthorized',
        'two_factor_code_required',
        'Send the code of your authenticator app in `totp`.',
      );
    if (!(await twoFactor.verify(userId, totp))) {
      await countWrongCode(token, ticket);
      throw identityErrors.of('unauthorized', 'invalid_two_factor_code', 'The authenticator code is wrong.');
    }
    return true;
  }

  /**
   * The account the proved phone belongs to, linked to the provider account; created (a verified
   * customer) when the number has none. One transaction: the user row is locked by its number.
   */
  async function linkByPhone(
    ticket: Extract<Ticket, { kind: 'link' }>,
    phone: string,
    locale: 'fr' | 'en',
    context: RequestContext,
  ): Promise<{ user: UserRow; linkId: string; created: boolean }> {
    try {
      return await repository.transaction(async (transaction) => {
        let user = await repository.lockUserByPhone(phone, transaction);
        let created = false;
        if (user === undefined) {
          const email =
            ticket.email !== null && !(await repository.emailTakenByOther(ticket.email, null, transaction))
              ? ticket.email.toLowerCase()
              : null;
          user = await repository.insertUser(
            {
              phone,
              name: ticket.name?.slice(0, 100) ?? null,
              email,
              passwordHash: null,
              roles: ['customer'],
              status: 'active',
              phoneVerified: true,
              locale,
            },
            transaction,
          );
          created = true;
        } else if (user.status === 'pending_verification' || user.status === 'guest') {
          // The person who proves the number wins, as with the registration code; a pending
          // registration's password was chosen by whoever typed the number, so it goes.
          const roles = [
            ...new Set([...(user.roles as Role[]).filter((role) => role !== 'guest'), 'customer' as const]),
          ];
          user = await repository.updateUser(
            user.id,
            { status: 'active', phone_verified: true, roles, password_hash: null },
            transaction,
          );
          created = true;
        } else {
          assertActive(user);
        }
        const link = await social.insert(
          { userId: user.id, provider: ticket.provider, subject: ticket.subject },
          transaction,
        );
        await audit(
          {
            action: created ? 'account.registered' : 'social.linked',
            actor: actorOf(context, user.id),
            subjectUserId: user.id,
            resource: `user:${user.id}`,
            newValue: { provider: ticket.provider, ...(created ? { status: 'active', phone } : {}) },
          },
          transaction,
        );
        return { user, linkId: link.id, created };
      });
    } catch (error) {
      const constraint = isUniqueViolation(error);
      if (constraint?.includes('one_per_provider'))
        throw identityErrors.of(
          'conflict',
          'social_provider_already_linked',
          `This account is already linked to another ${ticket.provider} account; unlink it first.`,
        );
      // Two tickets proving the same new number (or carrying the same e-mail) at the same moment:
      // both saw no account, the first insert won, the second hits the users' unique index.
      if (constraint === 'users_phone_bidx_unique' || constraint === 'users_email_bidx_unique')
        throw identityErrors.of(
          'conflict',
          'social_account_just_created',
          'An account was created for this phone number a moment ago by another sign-in; start the sign-in again to link to it.',
        );
      if (constraint?.includes('subject') === true)
        throw identityErrors.of(
          'conflict',
          'social_identity_taken',
          `This ${ticket.provider} account is already linked; start the sign-in again.`,
        );
      throw error;
    }
  }

  return {
    configured: (): SocialProviderName[] => [...providers.keys()],

    async start(
      name: SocialProviderName,
    ): Promise<{ authorizationUrl: string; state: string; expiresInSeconds: number }> {
      const provider = providerOf(name);
      const state = randomState();
      const { url, pending } = await provider.authorize(state);
      const stored: PendingState = { provider: name, ...pending };
      await kv.set(stateKey(state), JSON.stringify(stored), SOCIAL_STATE_TTL_MS);
      return { authorizationUrl: url, state, expiresInSeconds: SOCIAL_STATE_TTL_MS / 1000 };
    },

    async callback(
      name: SocialProviderName,
      input: { code: string; state: string; iss?: string | undefined; client: ClientKind },
      context: RequestContext,
    ): Promise<SocialOutcome> {
      const provider = providerOf(name);
      // Taken, not read: the first use ends it, so a replayed code meets no state.
      const stored = await kv.take(stateKey(input.state));
      const pending = stored === null ? undefined : (JSON.parse(stored) as PendingState);
      if (pending === undefined || pending.provider !== name)
        throw identityErrors.of(
          'validation',
          'social_state_invalid',
          'The sign-in state is unknown, used or expired; start the sign-in again.',
        );
      const profile: SocialProfile = await provider.complete(input, pending);
      if (profile.email !== null && !profile.emailVerified)
        throw identityErrors.of(
          'forbidden',
          'social_email_unverified',
          `Verify your e-mail address at ${name} first, then sign in again.`,
        );
      const linked = await social.find(name, profile.subject);
      if (linked === undefined)
        return newTicket({
          kind: 'link',
          provider: name,
          subject: profile.subject,
          email: profile.email,
          name: profile.name,
          phone: null,
          phoneProved: false,
          attempts: 0,
          expiresAtMs: now() + SOCIAL_TICKET_TTL_MS,
        });
      const user = await repository.findUserById(linked.user_id);
      if (user === undefined)
        throw identityErrors.of('forbidden', 'account_closed', 'This account is closed.');
      assertActive(user);
      if (await twoFactor.isEnabled(user.id))
        return newTicket({
          kind: 'two_factor',
          provider: name,
          subject: profile.subject,
          userId: user.id,
          attempts: 0,
          expiresAtMs: now() + SOCIAL_TICKET_TTL_MS,
        });
      return signIn(
        user,
        { provider: name, id: linked.id },
        { client: input.client, twoFactor: false, context },
      );
    },

    /** Sends the SMS code to the number the ticket's holder names (the same answer for any number). */
    async sendCode(
      input: { ticket: string; phone: string; locale?: string | undefined },
      context: RequestContext,
    ): Promise<{ expiresInSeconds: number }> {
      const ticket = await readTicket(input.ticket);
      if (ticket.kind !== 'link') throw ticketInvalid();
      const phone = requirePhone(input.phone);
      const sent = await codes.issue(phone, 'social_link', { locale: input.locale, ip: context.ip });
      await saveTicket(input.ticket, { ...ticket, phone, phoneProved: false });
      return sent;
    },

    async complete(
      input: {
        ticket: string;
        code?: string;
        totp?: string;
        client: ClientKind;
        locale?: string | undefined;
      },
      context: RequestContext,
    ): Promise<SocialOutcome> {
      const ticket = await readTicket(input.ticket);
      if (ticket.kind === 'two_factor') {
        const user = await repository.findUserById(ticket.userId);
        if (user === undefined) throw ticketInvalid();
        assertActive(user);
        const checked = await checkSecondFactor(input.ticket, ticket, user.id, input.totp);
        await readTicket(input.ticket, true); // single use: of two requests, one signs in
        const link = await social.find(ticket.provider, ticket.subject);
        if (link === undefined || link.user_id !== user.id) throw ticketInvalid();
        return signIn(
          user,
          { provider: ticket.provider, id: link.id },
          { client: input.client, twoFactor: checked, context },
        );
      }
      if (ticket.phone === null)
        throw identityErrors.of(
          'conflict',
          'social_phone_missing',
          'Name your phone number first (POST /v1/auth/social/phone); its SMS code completes the sign-in.',
        );
      let proved = ticket;
      if (!ticket.phoneProved) {
        if (input.code === undefined)
          throw identityErrors.of('validation', 'otp_invalid', 'Send the SMS code in `code`.');
        await codes.verify(ticket.phone, 'social_link', input.code);
        proved = { ...ticket, phoneProved: true };
        await saveTicket(input.ticket, proved);
      }
      // Proved phone first, then (an account with an authenticator) its code: nobody learns
      // whether a number's account has 2FA without the number's SMS code.
      const existing = await repository.findUserByPhone(ticket.phone);
      const secondFactor =
        existing !== undefined && existing.status === 'active'
          ? await checkSecondFactor(input.ticket, proved, existing.id, input.totp)
          : false;
      await readTicket(input.ticket, true);
      const locale = input.locale?.startsWith('en') === true ? ('en' as const) : ('fr' as const);
      const { user, linkId } = await linkByPhone(ticket, ticket.phone, locale, context);
      return signIn(
        user,
        { provider: ticket.provider, id: linkId },
        { client: input.client, twoFactor: secondFactor, context },
      );
    },

    async list(userId: string) {
      return (await social.listForUser(userId)).map((row) => ({
        provider: row.provider,
        linkedAt: row.created_at.toISOString(),
        lastUsedAt: row.last_used_at?.toISOString() ?? null,
      }));
    },

    /** Unlinks, keeping at least one way to sign in: a password or another linked provider. */
    async unlink(userId: string, name: SocialProviderName, context: RequestContext): Promise<void> {
      await repository.transaction(async (transaction) => {
        const user = await repository.lockUserById(userId, transaction);
        if (user === undefined) throw identityErrors.notFound('The account no longer exists.');
        const links = await social.listForUser(userId, transaction);
        if (!links.some((link) => link.provider === name))
          throw identityErrors.of('not_found', 'social_identity_not_found', `No ${name} account is linked.`);
        const remaining = links.length - 1 + (user.password_hash === null ? 0 : 1);
        if (remaining === 0)
          throw identityErrors.of(
            'conflict',
            'last_sign_in_method',
            `${name} is your only way to sign in: set a password first (POST /v1/auth/password/forgot sends a link).`,
          );
        await social.delete(userId, name, transaction);
        await audit(
          {
            action: 'social.unlinked',
            actor: actorOf(context, userId),
            subjectUserId: userId,
            resource: `user:${userId}`,
            oldValue: { provider: name },
          },
          transaction,
        );
      });
    },
  };
}

export type SocialSignIn = ReturnType<typeof createSocialSignIn>;
