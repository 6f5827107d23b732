import { createServer, type Server } from 'node:http';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';
import { freePort } from './ports.js';

/**
 * A real OpenID provider (`oidc-provider`) playing Google's role in tests: discovery, JWKS, the
 * authorisation code flow with PKCE, ID tokens signed with its own RS256 key. Accounts are the
 * `accounts` given; the login step picks the one named by `login_hint` (the test is the browser).
 *
 * `tamperIdToken` makes the provider lie once: its next token response carries an ID token
 * rebuilt from the real one with changed claims and signed with the provider's own key (another
 * audience, another nonce…), which only the relying party's checks can catch.
 */
export interface TestAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface LocalOpenIdProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  accounts: Map<string, TestAccount>;
  /** Changes the claims of the next ID token the token endpoint returns. */
  tamperIdToken(change: (claims: JWTPayload) => JWTPayload): void;
  /** Plays the person's browser: follows the provider's redirects and returns the callback's query. */
  authorize(authorizationUrl: string, loginHint: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export async function startLocalOpenIdProvider(
  options: { redirectUri?: string; accounts?: TestAccount[] } = {},
): Promise<LocalOpenIdProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'fd-google-test';
  const clientSecret = 'fd-google-test-secret-0123456789';
  const redirectUri = options.redirectUri ?? 'http://127.0.0.1:9/auth/social/callback';
  const accounts = new Map((options.accounts ?? []).map((account) => [account.sub, account]));
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey: JWK = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  let tamper: ((claims: JWTPayload) => JWTPayload) | undefined;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Google puts e-mail and name in the ID token.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 600,
      IdToken: 600,
      Interaction: 600,
      Session: 600,
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // No consent screen: the test person always agrees (Google remembers the grant too).
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client!.clientId,
        accountId: ctx.oidc.session!.accountId!,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
    async findAccount(_ctx, id) {
      const account = accounts.get(id);
      if (account === undefined) return undefined;
      return { accountId: id, claims: async () => ({ ...account }) };
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: string } | undefined;
    if (ctx.path !== '/token' || ctx.status !== 200 || tamper === undefined || !body?.id_token) return;
    const change = tamper;
    tamper = undefined;
    const claims = change({ ...decodeJwt(body.id_token) });
    body.id_token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid!, typ: 'JWT' })
      .sign(privateKey);
  });

  const handle = provider.callback();
  const server: Server = createServer((request, response) => {
    if (request.url?.startsWith('/interaction/') === true) {
      void (async () => {
        const details = await provider.interactionDetails(request, response);
        const accountId = String(details.params.login_hint ?? '');
        await provider.interactionFinished(
          request,
          response,
          { login: { accountId } },
          { mergeWithLastSubmission: false },
        );
      })().catch((error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      });
      return;
    }
    handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    issuer,
    clientId,
    clientSecret,
    redirectUri,
    accounts,
    tamperIdToken(change) {
      tamper = change;
    },
    async authorize(authorizationUrl, loginHint) {
      const cookies = new Map<string, string>();
      let next = new URL(authorizationUrl);
      next.searchParams.set('login_hint', loginHint);
      for (let hop = 0; hop < 10; hop += 1) {
        const response = await fetch(next, {
          redirect: 'manual',
          headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
        });
        for (const line of response.headers.getSetCookie()) {
          const pair = line.split(';')[0]!;
          const equals = pair.indexOf('=');
          const name = pair.slice(0, equals);
          const value = pair.slice(equals + 1);
          if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) cookies.delete(name);
          else cookies.set(name, value);
        }
        const location = response.headers.get('location');
        if (location === null)
          throw new Error(
            `the provider stopped at ${response.status}: ${(await response.text()).slice(0, 300)}`,
          );
        const target = new URL(location, next);
        if (`${target.origin}${target.pathname}` === redirectUri)
          return Object.fromEntries(target.searchParams);
        next = target;
      }
      throw new Error('too many redirects at the provider');
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
