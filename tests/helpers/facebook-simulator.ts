import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { freePort } from './ports.js';

/**
 * Facebook Login as its documentation describes it, for tests (no internet here): the Login
 * dialog (`/v21.0/dialog/oauth`, which here signs in the person named by `login_hint` at once and
 * redirects with `code` and `state`), the code exchange (`POST /v21.0/oauth/access_token`: client
 * id and secret, the same `redirect_uri`, the PKCE `code_verifier`; a code works once), and Graph
 * `/me?fields=id,name,email` with the access token. Errors use Graph's shape:
 * `{ "error": { "message", "type": "OAuthException", "code" } }` with HTTP 400.
 */
export interface FacebookPerson {
  id: string;
  name: string;
  email?: string;
}

export interface FacebookSimulator {
  baseUrl: string;
  appId: string;
  appSecret: string;
  people: Map<string, FacebookPerson>;
  /** The person's browser: the dialog's redirect back, as a query. */
  authorize(authorizationUrl: string, personId: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

interface IssuedCode {
  personId: string;
  redirectUri: string;
  challenge: string;
  used: boolean;
}

function graphError(response: ServerResponse, message: string, code = 100) {
  response.writeHead(400, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error: { message, type: 'OAuthException', code } }));
}

async function formOf(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startFacebookSimulator(options: { redirectUri: string }): Promise<FacebookSimulator> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const appId = '1234567890123456';
  const appSecret = 'facebook-test-app-secret-0123456789';
  const people = new Map<string, FacebookPerson>();
  const codes = new Map<string, IssuedCode>();
  const tokens = new Map<string, string>();

  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', baseUrl);
      if (request.method === 'GET' && url.pathname === '/v21.0/dialog/oauth') {
        const query = url.searchParams;
        if (query.get('client_id') !== appId || query.get('redirect_uri') !== options.redirectUri)
          return graphError(response, 'Invalid app id or redirect_uri');
        if (query.get('code_challenge_method') !== 'S256' || query.get('code_challenge') === null)
          return graphError(response, 'PKCE required');
        const personId = query.get('login_hint') ?? '';
        if (!people.has(personId)) return graphError(response, 'Unknown person');
        const code = randomBytes(24).toString('base64url');
        codes.set(code, {
          personId,
          redirectUri: options.redirectUri,
          challenge: query.get('code_challenge')!,
          used: false,
        });
        const back = new URL(options.redirectUri);
        back.searchParams.set('code', code);
        back.searchParams.set('state', query.get('state') ?? '');
        response.writeHead(302, { location: back.href });
        return response.end();
      }
      if (request.method === 'POST' && url.pathname === '/v21.0/oauth/access_token') {
        const form = await formOf(request);
        const issued = codes.get(form.get('code') ?? '');
        if (form.get('client_id') !== appId || form.get('client_secret') !== appSecret)
          return graphError(response, 'Error validating client secret.', 1);
        if (issued === undefined || issued.used)
          return graphError(response, 'This authorization code has been used.');
        issued.used = true;
        const verifier = form.get('code_verifier') ?? '';
        if (createHash('sha256').update(verifier).digest('base64url') !== issued.challenge)
          return graphError(response, 'Invalid code verifier');
        if (form.get('redirect_uri') !== issued.redirectUri)
          return graphError(response, 'redirect_uri mismatch');
        const token = `EAAG${randomBytes(24).toString('base64url')}`;
        tokens.set(token, issued.personId);
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end(
          JSON.stringify({ access_token: token, token_type: 'bearer', expires_in: 5_183_944 }),
        );
      }
      if (request.method === 'GET' && url.pathname === '/v21.0/me') {
        const token = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
        const person = people.get(tokens.get(token) ?? '');
        if (person === undefined) return graphError(response, 'Invalid OAuth access token.', 190);
        const fields = (url.searchParams.get('fields') ?? 'id,name').split(',');
        const answer = Object.fromEntries(Object.entries(person).filter(([field]) => fields.includes(field)));
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end(JSON.stringify(answer));
      }
      response.writeHead(404).end();
    })().catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    baseUrl,
    appId,
    appSecret,
    people,
    async authorize(authorizationUrl, personId) {
      const url = new URL(authorizationUrl);
      url.searchParams.set('login_hint', personId);
      const response = await fetch(url, { redirect: 'manual' });
      const location = response.headers.get('location');
      if (location === null)
        throw new Error(`the dialog answered ${response.status}: ${await response.text()}`);
      return Object.fromEntries(new URL(location).searchParams);
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
