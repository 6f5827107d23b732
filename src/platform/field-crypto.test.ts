import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFieldCipher, FieldDecryptionError } from './field-crypto.js';

const key = () => randomBytes(32);

describe('field encryption', () => {
  const k1 = { id: 'k1', key: key() };
  const blindIndexKey = key();
  const cipher = createFieldCipher({ keys: [k1], blindIndexKey });

  it('round-trips, with a versioned format naming the key and a fresh IV each time', () => {
    const one = cipher.encrypt('users.phone', '+237670000001');
    const two = cipher.encrypt('users.phone', '+237670000001');
    expect(one).toMatch(/^pii1\.k1\.[A-Za-z0-9_-]+$/);
    expect(one).not.toBe(two);
    expect(one).not.toContain('670000001');
    expect(cipher.decrypt('users.phone', one)).toBe('+237670000001');
    expect(cipher.encrypt('users.phone', null)).toBeNull();
    expect(cipher.decrypt('users.phone', null)).toBeNull();
  });

  it('fails closed: another purpose, another key, an altered byte, an unknown key id, plaintext', () => {
    const sealed = cipher.encrypt('users.phone', '+237670000001');
    expect(() => cipher.decrypt('users.email', sealed)).toThrow(FieldDecryptionError);
    const stranger = createFieldCipher({ keys: [{ id: 'k1', key: key() }], blindIndexKey });
    expect(() => stranger.decrypt('users.phone', sealed)).toThrow(FieldDecryptionError);
    const altered = sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'AB' : 'AA');
    expect(() => cipher.decrypt('users.phone', altered)).toThrow(FieldDecryptionError);
    const unknown = createFieldCipher({ keys: [{ id: 'k9', key: key() }], blindIndexKey });
    expect(() => unknown.decrypt('users.phone', sealed)).toThrow(/key k1 is not in the ring/);
    expect(() => cipher.decrypt('users.phone', '+237670000001')).toThrow(FieldDecryptionError);
    expect(cipher.isCiphertext('+237670000001')).toBe(false);
    expect(cipher.isCiphertext(sealed)).toBe(true);
  });

  it('rotates: a new first key encrypts, the old one still decrypts and is flagged for re-encryption', () => {
    const old = cipher.encrypt('users.name', 'Zoé Mballa');
    const rotated = createFieldCipher({ keys: [{ id: 'k2', key: key() }, k1], blindIndexKey });
    expect(rotated.decrypt('users.name', old)).toBe('Zoé Mballa');
    expect(rotated.needsReencryption(old)).toBe(true);
    const fresh = rotated.encrypt('users.name', 'Zoé Mballa');
    expect(fresh.startsWith('pii1.k2.')).toBe(true);
    expect(rotated.needsReencryption(fresh)).toBe(false);
  });

  it('blind indexes are keyed, deterministic and separated by purpose', () => {
    const index = cipher.blindIndex('phone', '+237670000001');
    expect(cipher.blindIndex('phone', '+237670000001')).toBe(index);
    expect(cipher.blindIndex('email', '+237670000001')).not.toBe(index);
    const otherKey = createFieldCipher({ keys: [k1], blindIndexKey: key() });
    expect(otherKey.blindIndex('phone', '+237670000001')).not.toBe(index);
    expect(index).not.toContain('670000001');
  });

  it('refuses a bad key ring', () => {
    expect(() => createFieldCipher({ keys: [], blindIndexKey })).toThrow(RangeError);
    expect(() => createFieldCipher({ keys: [{ id: 'k1', key: randomBytes(16) }], blindIndexKey })).toThrow(
      RangeError,
    );
    expect(() => createFieldCipher({ keys: [k1, k1], blindIndexKey })).toThrow(/twice/);
  });
});
