import { SignJWT, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { hmacKey } from './hmac-key.js';

describe('hmacKey', () => {
  it('imports a secret once and signs and verifies HS256 with it', async () => {
    const key = await hmacKey('a webhook key of the right length!!');
    expect(await hmacKey('a webhook key of the right length!!')).toBe(key);
    const token = await new SignJWT({ source: 'campay' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1m')
      .sign(key);
    const { payload } = await jwtVerify(
      token,
      new TextEncoder().encode('a webhook key of the right length!!'),
    );
    expect(payload.source).toBe('campay');
    await expect(jwtVerify(token, await hmacKey('another key, not the one that signed'))).rejects.toThrow();
  });
});
