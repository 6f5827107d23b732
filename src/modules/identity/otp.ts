import { randomInt } from 'node:crypto';
import { identityErrors } from './errors.js';
import type { SmsSender } from '../notifications/index.js';
import { constantTimeEqual, keyedHash } from './crypto.js';
import type { IdentityRepository } from './repository.js';
import type { SmsBudget, SmsRoute } from './sms-budget.js';

/**
 * Six-digit SMS codes: five minutes, at most five tries, stored as a keyed hash. A new code
 * supersedes the previous one for the same number and purpose. Every code is paid for from the
 * SMS budgets (sms-budget.ts: per number, per address, platform-wide) before anything changes,
 * so a refused request does not supersede the code a person is waiting for.
 */
export const OTP_TTL_MS = 5 * 60_000;
export const OTP_MAX_ATTEMPTS = 5;

export type OtpPurpose = Extract<SmsRoute, 'register' | 'guest' | 'phone_change' | 'social_link'>;

export interface PhoneCodes {
  /**
   * `ip`: the requesting address, for its SMS budget (null: none, e.g. a command-line tool).
   * `paid`: the caller already spent the budget for this SMS (registration spends it before it
   * decides between a code and an "account exists" notice, so both answers cost the same).
   */
  issue(
    phone: string,
    purpose: OtpPurpose,
    request: { locale?: string | undefined; ip: string | null; paid?: boolean },
  ): Promise<{ expiresInSeconds: number }>;
  /** Consumes the code or throws a 400 naming why (invalid, expired, too many tries). */
  verify(phone: string, purpose: OtpPurpose, code: string): Promise<void>;
}

function message(code: string, locale: string | undefined): string {
  return locale?.startsWith('en')
    ? `Your verification code is ${code}. It expires in 5 minutes. Never share it.`
    : `Votre code de vérification est ${code}. Il expire dans 5 minutes. Ne le partagez jamais.`;
}

export function createPhoneCodes(options: {
  repository: IdentityRepository;
  sms: SmsSender;
  budget: SmsBudget;
  hashKey: Buffer;
  now?: () => number;
}): PhoneCodes {
  const { repository, sms, budget, hashKey } = options;
  const now = options.now ?? Date.now;
  const hash = (phone: string, purpose: string, code: string) =>
    keyedHash(hashKey, `otp:${purpose}:${phone}`, code);

  return {
    async issue(phone, purpose, { locale, ip, paid }) {
      if (paid !== true) await budget.spend(purpose, phone, ip);
      const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
      await repository.transaction(async (transaction) => {
        await repository.supersedePhoneCodes(phone, purpose, transaction);
        await repository.insertPhoneCode(
          {
            phone,
            purpose,
            codeHash: hash(phone, purpose, code),
            maxAttempts: OTP_MAX_ATTEMPTS,
            expiresAt: new Date(now() + OTP_TTL_MS),
          },
          transaction,
        );
      });
      await sms.send({ to: phone, body: message(code, locale), metadata: { kind: `otp.${purpose}` } });
      budget.sent(purpose);
      return { expiresInSeconds: OTP_TTL_MS / 1000 };
    },

    async verify(phone, purpose, code) {
      const outcome = await repository.transaction(async (transaction) => {
        const row = await repository.latestActivePhoneCode(phone, purpose, transaction);
        if (row === undefined) return 'otp_invalid' as const;
        if (row.expires_at.getTime() <= now()) return 'otp_expired' as const;
        if (row.attempts >= row.max_attempts) return 'otp_attempts_exceeded' as const;
        if (constantTimeEqual(row.code_hash, hash(phone, purpose, code))) {
          await repository.updatePhoneCode(row.id, { consumed: true }, transaction);
          return 'ok' as const;
        }
        const attempts = row.attempts + 1;
        // The last allowed wrong try burns the code: a new one must be requested.
        await repository.updatePhoneCode(
          row.id,
          { attempts, consumed: attempts >= row.max_attempts },
          transaction,
        );
        return attempts >= row.max_attempts ? ('otp_attempts_exceeded' as const) : ('otp_invalid' as const);
      });
      switch (outcome) {
        case 'ok':
          return;
        case 'otp_invalid':
          throw identityErrors.of(
            'validation',
            outcome,
            'The code is wrong or no code is pending; check the SMS or request a new code.',
          );
        case 'otp_expired':
          throw identityErrors.of('validation', outcome, 'The code has expired; request a new one.');
        case 'otp_attempts_exceeded':
          throw identityErrors.of('validation', outcome, 'Too many wrong codes; request a new one.');
        default: {
          const unreachable: never = outcome;
          throw new Error(`unexpected outcome ${String(unreachable)}`);
        }
      }
    },
  };
}
