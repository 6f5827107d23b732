import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryKeyValue } from '../../src/modules/identity/kv.js';
import { ACCESS_TOKEN_TTL_MS, createTokenService, TokenError } from '../../src/modules/identity/tokens.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createUser, type CreatedUser } from '../helpers/auth.js';

/**
 * Access tokens are verified once and remembered; what must not change is what a request is told:
 * expiry, revocation and forgery are decided exactly as without the memory.
 */
let testApp: TestApp;
let user: CreatedUser;
let clock = Date.now();
beforeAll(async () => {
  testApp = await createTestApp({ env: { MAX_EVENT_LOOP_DELAY_MS: '0' } });
  user = await createUser(testApp);
});
afterAll(async () => testApp?.close());

function service() {
  const kv = createMemoryKeyValue(() => clock);
  return {
    kv,
    tokens: createTokenService({
      keyRing: testApp.services.identity.keyRing,
      kv,
      repository: testApp.services.identity.repository,
      now: () => clock,
    }),
  };
}
const issueFor = (tokens: ReturnType<typeof service>['tokens']) =>
  tokens.issue({
    userId: user.userId,
    sessionId: user.sessionId,
    kind: 'user',
    roles: ['customer'],
    twoFactorVerified: false,
  });

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (error instanceof TokenError) return error.code;
    throw error;
  }
}

describe('verified access tokens remembered in memory', () => {
  it('still refuses a remembered token once it is revoked, and once it has expired', async () => {
    clock = Date.now();
    const { tokens } = service();
    const issued = await issueFor(tokens);
    expect((await tokens.verify(issued.token)).principal.userId).toBe(user.userId);
    expect((await tokens.verify(issued.token)).principal.userId).toBe(user.userId); // from memory
    await tokens.blacklist(issued.tokenId, issued.expiresAt.getTime());
    expect(await refusal(tokens.verify(issued.token))).toBe('token_revoked');

    const second = await issueFor(tokens);
    await tokens.verify(second.token);
    clock += ACCESS_TOKEN_TTL_MS + 6_000; // past expiry and the 5 s clock tolerance
    expect(await refusal(tokens.verify(second.token))).toBe('token_expired');
  });

  it('refuses a token one character away from a remembered one', async () => {
    clock = Date.now();
    const { tokens } = service();
    const issued = await issueFor(tokens);
    await tokens.verify(issued.token);
    const [header, payload, signature] = issued.token.split('.') as [string, string, string];
    const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    expect(await refusal(tokens.verify(flipped))).toBe('invalid_token');
    expect((await tokens.verify(issued.token)).principal.userId).toBe(user.userId);
  });
});
