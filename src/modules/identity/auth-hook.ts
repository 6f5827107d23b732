import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isAdmitted, type RouteAccess } from '../../http/access.js';
import { PROFILE_LANGUAGE_DECORATOR, type ProfileLanguageLookup } from '../../http/errors.js';
import { HttpProblem } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import type { Identity } from './service.js';
import { sha256Hex } from './signing.js';
import { PARTNER_KEY_WARNING_MS, type PartnerCaller } from './partner-keys.js';
import { TokenError, type VerifiedToken } from './tokens.js';
import { Readable } from 'node:stream';

/**
 * Authentication and authorization of every request (spec §2, §3.1), at the app root:
 *  - reads `Authorization: Bearer …`, verifies it (EdDSA only, known `kid`, issuer, audience,
 *    expiry, not blacklisted, session and user not revoked) and sets `request.principal`;
 *  - enforces the route's `config.access`: public passes (an invalid token is ignored there);
 *    otherwise no valid token is 401, admins without a second factor get 403
 *    `two_factor_required` except on the set-up routes, a missing permission is 403
 *    `permission_denied`, and a route marked `stepUp` wants a TOTP/password confirmation of
 *    the last STEP_UP_WINDOW_MS (403 `step_up_required`);
 *  - `/v1/admin/*` answers 403 `ip_not_allowed` outside ADMIN_IP_ALLOWLIST when it is set;
 *  - admin sessions end after SESSION_TIMEOUT without a request (401 `session_idle_timeout`).
 * It also keeps the table of routes and their access, which the authorization matrix reads.
 */
export const STEP_UP_WINDOW_MS = 5 * 60_000;
export const GATE_CODES = [
  'unauthorized',
  'invalid_token',
  'token_expired',
  'token_revoked',
  'session_idle_timeout',
  'permission_denied',
  'two_factor_required',
  'step_up_required',
  'ip_not_allowed',
] as const;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes an admin without a second factor may still call: only the 2FA set-up. */
    allowWithoutTwoFactor?: boolean;
    /** Server-to-server route that requires an HMAC request signature (identity/signing.ts). */
    requestSignature?: boolean;
    /**
     * Partner route (identity/partner-keys.ts): a live partner API key in `x-api-key` with this
     * scope instead of a user token; `signed` also wants the key's HMAC request signature.
     */
    partner?: { scope: string; signed: boolean };
  }
  interface FastifyInstance {
    /** Every route with its declared access, in registration order (the authorization matrix). */
    routeAccessTable: RouteAccessEntry[];
  }
}

export interface RouteAccessEntry {
  method: string;
  url: string;
  access: RouteAccess | undefined;
  allowWithoutTwoFactor: boolean;
  requestSignature: boolean;
}

const verifiedTokens = new WeakMap<FastifyRequest, VerifiedToken>();
const bodyHashes = new WeakMap<FastifyRequest, string>();
const tokenFailures = new WeakMap<FastifyRequest, TokenError>();
const partners = new WeakMap<FastifyRequest, PartnerCaller>();

/** The partner a `config.partner` route's request authenticated as (set before validation). */
export function partnerOf(request: FastifyRequest): PartnerCaller {
  const partner = partners.get(request);
  if (partner === undefined) throw new Error('partnerOf: this route has no config.partner');
  return partner;
}

const needsBodyHash = (request: FastifyRequest) => {
  const config = request.routeOptions.config;
  return config?.requestSignature === true || config?.partner?.signed === true;
};

/** The verified access token of this request (logout blacklists its `jti`). */
export function verifiedTokenOf(request: FastifyRequest): VerifiedToken | undefined {
  return verifiedTokens.get(request);
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  return match?.[1];
}

function unauthorized(code: string, detail: string): HttpProblem {
  return new HttpProblem(401, code, detail, {
    headers: {
      'www-authenticate': `Bearer realm="api", error="${code === 'unauthorized' ? 'invalid_request' : 'invalid_token'}"`,
    },
  });
}

const TOKEN_DETAIL: Record<TokenError['code'], string> = {
  invalid_token: 'The access token is not valid.',
  token_expired: 'The access token has expired; refresh it.',
  token_revoked: 'The access token was revoked; refresh it or log in again.',
};

async function identityAuth(
  app: FastifyInstance,
  options: { services: { identity: Identity; runtime: Runtime } },
): Promise<void> {
  const { identity, runtime } = options.services;
  const allowlist = runtime.config.adminIpAllowlist;
  if (!app.hasDecorator('parseCookie')) await app.register(cookie);

  const table: RouteAccessEntry[] = [];
  app.decorate('routeAccessTable', table);
  // Problems to a signed-in client that named no language of ours come in its profile's.
  const profileLanguageOf: ProfileLanguageLookup = async (userId) => {
    const locale = await identity.repository.localeOf(userId);
    return locale === 'fr' || locale === 'en' ? locale : undefined;
  };
  app.decorate(PROFILE_LANGUAGE_DECORATOR, profileLanguageOf);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      table.push({
        method,
        url: route.url,
        access: route.config?.access,
        allowWithoutTwoFactor: route.config?.allowWithoutTwoFactor === true,
        requestSignature: route.config?.requestSignature === true || route.config?.partner?.signed === true,
      });
    }
  });

  // Signed routes need the exact body bytes: hash them as they stream in.
  const bodyLimit = runtime.config.BODY_LIMIT_BYTES;
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (!needsBodyHash(request)) return payload;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of payload) {
      size += (chunk as Buffer).length;
      if (size > bodyLimit) throw new HttpProblem(413, 'payload_too_large', 'The request body is too large.');
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    bodyHashes.set(request, sha256Hex(body));
    return Readable.from([body]);
  });
  app.addHook('preValidation', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config?.partner !== undefined) {
      const partner = await identity.partnerKeys.authenticate(
        request,
        config.partner,
        bodyHashes.get(request) ?? sha256Hex(''),
      );
      partners.set(request, partner);
      reply.header('x-api-key-expires-at', partner.expiresAt.toISOString());
      if (partner.expiresAt.getTime() - Date.now() <= PARTNER_KEY_WARNING_MS) {
        reply.header('x-api-key-expiry-warning', 'This key expires soon: ask for a rotated key.');
      }
      return;
    }
    if (config?.requestSignature !== true) return;
    await identity.signatures.verify(request, bodyHashes.get(request) ?? sha256Hex(''));
  });

  app.addHook('onRequest', async (request) => {
    const url = request.routeOptions.url ?? '';
    if (url.startsWith('/v1/admin/') && allowlist.length > 0 && !allowlist.includes(request.ip)) {
      throw new HttpProblem(403, 'ip_not_allowed', 'Admin routes are not reachable from this address.');
    }
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined) {
      try {
        const verified = await identity.tokens.verify(token);
        verifiedTokens.set(request, verified);
        request.principal = verified.principal;
      } catch (error) {
        if (!(error instanceof TokenError)) throw error;
        tokenFailures.set(request, error);
      }
    }
  });
  // Enforced after the route's rate limit (a route-level onRequest hook, which runs after this
  // app-level one and keys on the principal set above): requests refused 401/403 still count
  // against their address or user, so a flood of bad tokens meets the limit too.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const config = request.routeOptions.config;
    const access = config?.access;
    if (access === undefined || 'public' in access) return payload;
    await enforce(request, access, config?.allowWithoutTwoFactor === true, tokenFailures.get(request));
    return payload;
  });

  async function enforce(
    request: FastifyRequest,
    access: Exclude<RouteAccess, { public: true }>,
    allowWithoutTwoFactor: boolean,
    failure: TokenError | undefined,
  ): Promise<void> {
    const verified = verifiedTokens.get(request);
    if (verified === undefined) {
      if (failure !== undefined) throw unauthorized(failure.code, TOKEN_DETAIL[failure.code]);
      throw unauthorized('unauthorized', 'Send an access token: Authorization: Bearer <token>.');
    }
    const { principal } = verified;
    if (principal.roles.includes('admin')) {
      if (!(await identity.sessions.touchAdminActivity(principal.sessionId))) {
        await identity.sessions.end(principal.sessionId, 'idle_timeout');
        throw unauthorized('session_idle_timeout', 'The admin session ended after inactivity; log in again.');
      }
      if (!verified.twoFactorVerified && !allowWithoutTwoFactor) {
        throw new HttpProblem(
          403,
          'two_factor_required',
          'Admins must set up two-factor authentication first: POST /v1/auth/2fa/setup.',
        );
      }
    }
    if (!isAdmitted(principal, access)) {
      throw new HttpProblem(403, 'permission_denied', 'Your role does not allow this.');
    }
    if (access.stepUp === true) {
      const recent = principal.stepUpAt !== undefined && Date.now() - principal.stepUpAt <= STEP_UP_WINDOW_MS;
      if (!recent) {
        throw new HttpProblem(
          403,
          'step_up_required',
          'Confirm this action: POST /v1/auth/step-up, then retry with the new token.',
        );
      }
    }
  }
}

export const identityAuthPlugin = fp(identityAuth, { name: 'identity-auth', fastify: '5.x' });
