import { randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verifySync } from 'otplib';
import { identityErrors } from './errors.js';
import { constantTimeEqual, keyedHash, open, seal } from './crypto.js';
import type { Executor, IdentityRepository } from './repository.js';

/**
 * TOTP second factor (RFC 6238 through otplib): 30-second steps, one step of drift either
 * way, a code used once (the last used step is stored), and ten single-use backup codes kept
 * as keyed hashes. The seed is sealed with the master key.
 */
export const TOTP_ISSUER = 'Food Delivery CM';
export const BACKUP_CODE_COUNT = 10;
const STEP_MS = 30_000;

const PERIOD_S = STEP_MS / 1000;

export interface TwoFactor {
  isEnabled(userId: string, transaction?: Executor): Promise<boolean>;
  /** A new, not yet enabled seed; replaces a pending one. */
  setup(userId: string, label: string): Promise<{ secret: string; otpauthUrl: string }>;
  /** Enables after a correct code; returns the backup codes, shown once. */
  enable(userId: string, code: string): Promise<{ backupCodes: string[] }>;
  /** Checks a TOTP code or consumes a backup code of an enabled factor. */
  verify(userId: string, code: string): Promise<boolean>;
  remove(userId: string): Promise<void>;
}

function normaliseBackupCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}

function newBackupCode(): string {
  const raw = randomBytes(5).toString('hex'); // 10 hex characters, 40 bits
  return `${raw.slice(0, 5)}-${raw.slice(5)}`;
}

export function createTwoFactor(options: {
  repository: IdentityRepository;
  masterKey: Buffer;
  hashKey: Buffer;
  now?: () => number;
}): TwoFactor {
  const { repository, masterKey, hashKey } = options;
  const now = options.now ?? Date.now;
  const aad = (userId: string) => `totp:${userId}`;
  const backupHash = (userId: string, code: string) =>
    keyedHash(hashKey, `backup:${userId}`, normaliseBackupCode(code));

  /** The step a code matched, or undefined. */
  function matchedStep(secret: string, code: string): number | undefined {
    if (!/^\d{6}$/.test(code)) return undefined;
    // One step of drift either way; the matched step is what replay protection remembers.
    const result = verifySync({
      secret,
      token: code,
      period: PERIOD_S,
      digits: 6,
      epoch: Math.floor(now() / 1000),
      epochTolerance: PERIOD_S,
    });
    return result.valid ? Math.floor(now() / STEP_MS) + result.delta : undefined;
  }

  return {
    async isEnabled(userId, transaction) {
      const row = await repository.findTwoFactor(userId, transaction);
      return row?.enabled_at != null;
    },

    async setup(userId, label) {
      const existing = await repository.findTwoFactor(userId);
      if (existing?.enabled_at != null) {
        throw identityErrors.of(
          'conflict',
          'two_factor_already_enabled',
          'Two-factor authentication is already on; disable it first.',
        );
      }
      const secret = generateSecret({ length: 20 });
      await repository.upsertTwoFactorSecret(userId, seal(masterKey, Buffer.from(secret), aad(userId)));
      return {
        secret,
        otpauthUrl: generateURI({ issuer: TOTP_ISSUER, label, secret, period: PERIOD_S, digits: 6 }),
      };
    },

    async enable(userId, code) {
      return repository.transaction(async (transaction) => {
        const row = await repository.lockTwoFactor(userId, transaction);
        if (row === undefined)
          throw identityErrors.of('conflict', 'two_factor_not_set_up', 'Call POST /v1/auth/2fa/setup first.');
        if (row.enabled_at !== null)
          throw identityErrors.of(
            'conflict',
            'two_factor_already_enabled',
            'Two-factor authentication is already on.',
          );
        const secret = open(masterKey, row.secret_ciphertext, aad(userId)).toString('utf8');
        const step = matchedStep(secret, code);
        if (step === undefined)
          throw identityErrors.of(
            'validation',
            'invalid_two_factor_code',
            'The code is wrong; check the clock of your device.',
          );
        const backupCodes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
        await repository.updateTwoFactor(
          userId,
          {
            enabledAt: new Date(now()),
            lastUsedStep: step,
            backupCodeHashes: backupCodes.map((item) => backupHash(userId, item)),
          },
          transaction,
        );
        return { backupCodes };
      });
    },

    async verify(userId, code) {
      return repository.transaction(async (transaction) => {
        const row = await repository.lockTwoFactor(userId, transaction);
        if (row === undefined || row.enabled_at === null) return false;
        const secret = open(masterKey, row.secret_ciphertext, aad(userId)).toString('utf8');
        const step = matchedStep(secret, code.trim());
        if (step !== undefined) {
          // A code works once: replaying it within its 90-second window fails.
          if (row.last_used_step !== null && BigInt(step) <= row.last_used_step) return false;
          await repository.updateTwoFactor(userId, { lastUsedStep: step }, transaction);
          return true;
        }
        const hashed = backupHash(userId, code);
        const remaining = row.backup_code_hashes.filter((item) => !constantTimeEqual(item, hashed));
        if (remaining.length === row.backup_code_hashes.length) return false;
        await repository.updateTwoFactor(userId, { backupCodeHashes: remaining }, transaction);
        return true;
      });
    },

    remove: async (userId) => void (await repository.deleteTwoFactor(userId)),
  };
}
