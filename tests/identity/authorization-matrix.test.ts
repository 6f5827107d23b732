import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { isAdmitted, ROLES, type Principal, type Role, type RouteAccess } from '../../src/http/access.js';
import { GATE_CODES, type RouteAccessEntry } from '../../src/modules/identity/index.js';
import { permissionsOf, createTokenService } from '../../src/modules/identity/tokens.js';
import { createTestApp } from '../helpers/app.js';
import {
  authHeader,
  createGuest,
  createUser,
  withStepUp,
  type CreatedUser,
  AUTH_TEST_ENV,
} from '../helpers/auth.js';

/**
 * The authorization matrix, GENERATED from the route table the identity-auth plugin keeps
 * (every route registered after it, from every context): each route × each role, plus no
 * token and five kinds of bad token. A new route is covered without editing this file.
 *  - public routes: never refused by the gate, whatever token is sent;
 *  - other routes: no or bad token → 401; a role the declared access admits → not refused
 *    by the gate (the handler may still answer 400/404 to the placeholder request); a role it
 *    does not admit → 403 `permission_denied`; step-up routes want a recent confirmation;
 *    admins without a second factor get 403 `two_factor_required` except on the set-up routes.
 */
const testApp = await createTestApp({ env: AUTH_TEST_ENV });
afterAll(async () => {
  await testApp.close();
});

const { identity } = testApp.services;
const PLACEHOLDER_ID = '00000000-0000-4000-8000-000000000000';
const gateCodes = new Set<string>(GATE_CODES);

const routes: RouteAccessEntry[] = testApp.app.routeAccessTable.filter(
  (route) => route.url.startsWith('/v1/') || route.url.startsWith('/.well-known/'),
);

function concreteUrl(url: string): string {
  return url.replace(/:[A-Za-z0-9_]+/g, PLACEHOLDER_ID).replace(/\*/g, 'x');
}

async function call(route: RouteAccessEntry, headers: Record<string, string>) {
  const hasBody = route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH';
  return testApp.app.inject({
    method: route.method as 'GET',
    url: concreteUrl(route.url),
    headers,
    ...(hasBody ? { payload: {} } : {}),
  });
}

function principalFor(role: Role): Principal {
  return {
    kind: role === 'guest' ? 'guest' : 'user',
    userId: PLACEHOLDER_ID,
    sessionId: PLACEHOLDER_ID,
    roles: [role],
    permissions: new Set(permissionsOf(role === 'guest' ? 'guest' : 'user', [role])),
  };
}

async function freshPrincipal(role: Role): Promise<CreatedUser> {
  return role === 'guest' ? createGuest(testApp) : createUser(testApp, { roles: [role] });
}

function gateRefusal(response: { statusCode: number; json(): { code?: string } }): string | undefined {
  if (response.statusCode !== 401 && response.statusCode !== 403) return undefined;
  const code = response.json().code ?? '';
  return gateCodes.has(code) ? code : undefined;
}

/** Five tokens the hook must refuse. */
async function badTokens(): Promise<Record<string, string>> {
  const holder = await createUser(testApp, { roles: ['customer'] });
  const [header, payload, signature] = holder.accessToken.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const kid = JSON.parse(Buffer.from(header, 'base64url').toString()).kid as string;
  const past = createTokenService({
    keyRing: identity.keyRing,
    kv: identity.kv,
    repository: identity.repository,
    now: () => Date.now() - 3_600_000,
  });
  const expired = (
    await past.issue({
      userId: holder.userId,
      sessionId: holder.sessionId,
      kind: 'user',
      roles: ['customer'],
      twoFactorVerified: false,
    })
  ).token;
  const foreign = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const otherKey = await new SignJWT({
    ...claims,
    roles: ['admin'],
    perms: permissionsOf('user', ['admin']),
    tfa: true,
  })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
    .sign(foreign.privateKey);
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const algNone = `${encode({ alg: 'none', kid, typ: 'at+jwt' })}.${encode({ ...claims, roles: ['admin'], perms: permissionsOf('user', ['admin']), tfa: true })}.`;
  const tampered = `${header}.${encode({ ...claims, roles: ['admin'], perms: permissionsOf('user', ['admin']), tfa: true })}.${signature}`;
  const publicJwk = (await identity.keyRing.jwks()).keys[0] as { x: string };
  const hmacWithPublicKey = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
    .sign(new TextEncoder().encode(publicJwk.x));
  return { expired, otherKey, algNone, tampered, hmacWithPublicKey };
}

const invalid = await badTokens();

describe('authorization matrix (generated from the route table)', () => {
  it('covers the identity routes and more than a handful of routes', () => {
    const urls = new Set(routes.map((route) => route.url));
    for (const url of ['/v1/auth/login', '/v1/me', '/.well-known/jwks.json']) expect(urls).toContain(url);
    expect(routes.length).toBeGreaterThan(5);
  });

  describe.each(routes.map((route) => [`${route.method} ${route.url}`, route] as const))(
    '%s',
    (_name, route) => {
      const access = route.access as RouteAccess | undefined;
      const isPublic = access === undefined || 'public' in access;

      if (route.requestSignature) {
        it('refuses every unsigned request with 401', async () => {
          const user = await createUser(testApp, { roles: ['admin'] });
          for (const headers of [{}, authHeader(user.accessToken)]) {
            const response = await call(route, headers);
            expect(response.statusCode).toBe(401);
          }
        });
        return;
      }

      it('answers a request without a token and with bad tokens as the access says', async () => {
        const cases: [string, Record<string, string>][] = [
          ['no token', {}],
          ...Object.entries(invalid).map(
            ([name, token]) => [name, authHeader(token)] as [string, Record<string, string>],
          ),
        ];
        for (const [name, headers] of cases) {
          const response = await call(route, headers);
          if (isPublic) expect(gateRefusal(response), `${name} on a public route`).toBeUndefined();
          else expect(response.statusCode, name).toBe(401);
        }
      });

      it.each(ROLES.map((role) => [role]))('as %s', async (role) => {
        const principal = await freshPrincipal(role);
        const admitted = isPublic || isAdmitted(principalFor(role), access);
        const stepUp = !isPublic && access.stepUp === true;
        if (admitted && stepUp) {
          const refused = await call(route, authHeader(principal.accessToken));
          expect(refused.statusCode).toBe(403);
          expect(refused.json().code).toBe('step_up_required');
        }
        const token = admitted && stepUp ? await withStepUp(testApp, principal) : principal.accessToken;
        const response = await call(route, authHeader(token));
        if (admitted) {
          expect(
            gateRefusal(response),
            `${response.statusCode} ${response.body.slice(0, 200)}`,
          ).toBeUndefined();
        } else {
          expect(response.statusCode).toBe(403);
          expect(response.json().code).toBe('permission_denied');
        }
      });

      if (!isPublic) {
        it('refuses an admin without a second factor unless the route sets it up', async () => {
          const admin = await createUser(testApp, { roles: ['admin'], twoFactor: false });
          const token = access.stepUp === true ? await withStepUp(testApp, admin) : admin.accessToken;
          const response = await call(route, authHeader(token));
          if (route.allowWithoutTwoFactor) expect(gateRefusal(response)).toBeUndefined();
          else {
            expect(response.statusCode).toBe(403);
            expect(response.json().code).toBe('two_factor_required');
          }
        });
      }
    },
  );
});
