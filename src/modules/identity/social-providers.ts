import * as oidc from 'openid-client';
import type { Config } from '../../config/index.js';
import { DomainError } from '../../shared/errors.js';
import { identityErrors } from './errors.js';

/**
 * The social sign-in port (issue #26): one adapter per provider over `openid-client`, the
 * authorisation code flow with PKCE (S256), `state`, and for OpenID Connect a `nonce`. Google is
 * read through OIDC discovery (its issuer's `/.well-known/openid-configuration` and JWKS);
 * Facebook through its documented OAuth 2.0 endpoints (Login dialog, Graph token exchange, Graph
 * `/me`). An adapter hands back the provider's subject, e-mail and name only: the provider's
 * access and ID tokens end with the call that received them and are never stored.
 */
export const SOCIAL_PROVIDERS = ['google', 'facebook'] as const;
export type SocialProviderName = (typeof SOCIAL_PROVIDERS)[number];

/** A provider answer slower than this is a 503, not a hanging sign-in. */
const PROVIDER_TIMEOUT_SECONDS = 10;

export interface SocialProfile {
  subject: string;
  email: string | null;
  /** What the provider vouches for; an unverified e-mail is refused (never trusted for an account). */
  emailVerified: boolean;
  name: string | null;
}

/** What the server keeps (briefly) between sending the person to the provider and their return. */
export interface PendingAuthorization {
  codeVerifier: string;
  nonce: string | null;
}

export interface AuthorizationCallback {
  code: string;
  state: string;
  /** RFC 9207: providers that announce it send their issuer back with the code. */
  iss?: string | undefined;
}

export interface SocialProvider {
  readonly name: SocialProviderName;
  /** The URL to send the person to, with a fresh `state` the caller stores with `pending`. */
  authorize(state: string): Promise<{ url: string; pending: PendingAuthorization }>;
  /** Exchanges the code (state, PKCE verifier and nonce checked) for the person's profile. */
  complete(callback: AuthorizationCallback, pending: PendingAuthorization): Promise<SocialProfile>;
}

/** Why a provider answer was refused; the edge maps each to a 4xx, an outage to 503. */
function providerError(error: unknown, provider: SocialProviderName): Error {
  if (error instanceof oidc.AuthorizationResponseError)
    return identityErrors.of(
      'validation',
      'social_authorization_denied',
      `${provider} did not authorise the sign-in (${error.error}).`,
    );
  if (error instanceof oidc.ResponseBodyError && error.status < 500)
    // invalid_grant: a code already used, expired, or issued for another verifier or client.
    return identityErrors.of(
      'validation',
      'social_code_rejected',
      `${provider} refused the authorisation code (${error.error}); start the sign-in again.`,
    );
  // A 4xx that is not an RFC 6749 error body: Facebook's Graph answers `{error: {message, type}}`.
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Response && cause.status >= 400 && cause.status < 500)
    return identityErrors.of(
      'validation',
      'social_code_rejected',
      `${provider} refused the authorisation code (HTTP ${cause.status}); start the sign-in again.`,
    );
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('OAUTH_') && code !== 'OAUTH_RESPONSE_IS_NOT_CONFORM')
    // Wrong nonce, audience, issuer, signature or expiry of the ID token, or a wrong `iss`.
    return identityErrors.of(
      'unauthorized',
      'social_token_invalid',
      `The answer of ${provider} failed validation; start the sign-in again.`,
    );
  return identityErrors.of(
    'unavailable',
    'social_provider_unavailable',
    `${provider} could not be reached.`,
    {
      retryAfterSeconds: 30,
    },
  );
}

function callbackUrl(redirectUri: string, callback: AuthorizationCallback): URL {
  const url = new URL(redirectUri);
  url.search = '';
  url.hash = '';
  url.searchParams.set('code', callback.code);
  url.searchParams.set('state', callback.state);
  if (callback.iss !== undefined) url.searchParams.set('iss', callback.iss);
  return url;
}

function insecureAllowed(url: string, production: boolean): boolean {
  return !production && url.startsWith('http://');
}

/** Google (or any OpenID Connect provider) through discovery; the ID token is the answer. */
export function createOidcProvider(options: {
  name: SocialProviderName;
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  production: boolean;
  scope?: string;
}): SocialProvider {
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    discovered ??= oidc
      .discovery(
        new URL(options.issuer),
        options.clientId,
        options.clientSecret,
        undefined,
        insecureAllowed(options.issuer, options.production)
          ? { execute: [oidc.allowInsecureRequests], timeout: PROVIDER_TIMEOUT_SECONDS }
          : { timeout: PROVIDER_TIMEOUT_SECONDS },
      )
      .catch((error: unknown) => {
        discovered = undefined; // the next sign-in discovers again
        throw providerError(error, options.name);
      });
    return discovered;
  };
  return {
    name: options.name,
    async authorize(state) {
      const config = await configuration();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: options.redirectUri,
        scope: options.scope ?? 'openid email profile',
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { url: url.href, pending: { codeVerifier, nonce } };
    },
    async complete(callback, pending) {
      const config = await configuration();
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl(options.redirectUri, callback), {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: callback.state,
          expectedNonce: pending.nonce ?? undefined,
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        if (claims === undefined)
          throw identityErrors.of('unauthorized', 'social_token_invalid', 'No ID token.');
        return {
          subject: claims.sub,
          email: typeof claims.email === 'string' ? claims.email : null,
          emailVerified: claims.email_verified === true,
          name: typeof claims.name === 'string' ? claims.name : null,
        };
      } catch (error) {
        if (error instanceof DomainError) throw error;
        throw providerError(error, options.name);
      }
    },
  };
}

/**
 * Facebook Login through its documented OAuth 2.0 endpoints: the Login dialog, the Graph token
 * exchange, then Graph `/me?fields=id,name,email` with the access token (dropped right after).
 * Facebook returns an e-mail only when the person confirmed it, so a returned e-mail counts as
 * verified. There is no ID token, hence no nonce: `state` and PKCE protect the exchange.
 */
export function createFacebookProvider(options: {
  clientId: string;
  clientSecret: string;
  authorizationUrl: string;
  tokenUrl: string;
  userInfoUrl: string;
  redirectUri: string;
  production: boolean;
}): SocialProvider {
  const config = new oidc.Configuration(
    {
      issuer: new URL(options.authorizationUrl).origin,
      authorization_endpoint: options.authorizationUrl,
      token_endpoint: options.tokenUrl,
    },
    options.clientId,
    options.clientSecret,
  );
  config.timeout = PROVIDER_TIMEOUT_SECONDS;
  if ([options.tokenUrl, options.userInfoUrl].some((url) => insecureAllowed(url, options.production)))
    oidc.allowInsecureRequests(config);
  return {
    name: 'facebook',
    async authorize(state) {
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: options.redirectUri,
        scope: 'email public_profile',
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
      });
      return { url: url.href, pending: { codeVerifier, nonce: null } };
    },
    async complete(callback, pending) {
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl(options.redirectUri, callback), {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: callback.state,
        });
        const response = await oidc.fetchProtectedResource(
          config,
          tokens.access_token,
          new URL(options.userInfoUrl),
          'GET',
        );
        if (!response.ok) throw new Error(`Graph /me answered ${response.status}`);
        const me = (await response.json()) as { id?: unknown; name?: unknown; email?: unknown };
        if (typeof me.id !== 'string' || me.id === '')
          throw identityErrors.of('unauthorized', 'social_token_invalid', 'Facebook named nobody.');
        const email = typeof me.email === 'string' ? me.email : null;
        return {
          subject: me.id,
          email,
          emailVerified: email !== null,
          name: typeof me.name === 'string' ? me.name : null,
        };
      } catch (error) {
        if (error instanceof DomainError) throw error;
        throw providerError(error, 'facebook');
      }
    },
  };
}

/** The providers configured in the environment (a provider without a client id is off). */
export function socialProvidersOf(config: Config): Map<SocialProviderName, SocialProvider> {
  const redirectUri = config.SOCIAL_REDIRECT_URI ?? `${config.PUBLIC_BASE_URL}/auth/social/callback`;
  const providers = new Map<SocialProviderName, SocialProvider>();
  if (config.GOOGLE_CLIENT_ID !== undefined && config.GOOGLE_CLIENT_SECRET !== undefined)
    providers.set(
      'google',
      createOidcProvider({
        name: 'google',
        issuer: config.GOOGLE_ISSUER,
        clientId: config.GOOGLE_CLIENT_ID,
        clientSecret: config.GOOGLE_CLIENT_SECRET,
        redirectUri,
        production: config.isProduction,
      }),
    );
  if (config.FACEBOOK_CLIENT_ID !== undefined && config.FACEBOOK_CLIENT_SECRET !== undefined)
    providers.set(
      'facebook',
      createFacebookProvider({
        clientId: config.FACEBOOK_CLIENT_ID,
        clientSecret: config.FACEBOOK_CLIENT_SECRET,
        authorizationUrl: config.FACEBOOK_AUTHORIZATION_URL,
        tokenUrl: config.FACEBOOK_TOKEN_URL,
        userInfoUrl: config.FACEBOOK_USERINFO_URL,
        redirectUri,
        production: config.isProduction,
      }),
    );
  return providers;
}
