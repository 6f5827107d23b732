import { readFileSync } from 'node:fs';

/**
 * The password policy of spec §3.2: at least 8 characters, complexity, and a refusal of
 * common passwords (a shipped list; no network look-up, the build machines have none).
 * Pure: no I/O after the list is loaded once.
 */
export const PASSWORD_MIN_LENGTH = 8;
/** Argon2 cost does not depend on length, but a bound keeps bodies small. */
export const PASSWORD_MAX_LENGTH = 128;
/** Long passphrases may use fewer character classes. */
export const PASSPHRASE_LENGTH = 16;

export type PasswordProblem =
  'too_short' | 'too_long' | 'too_simple' | 'common_password' | 'contains_phone' | 'repeated_characters';

function loadCommonPasswords(): Set<string> {
  const text = readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8');
  return new Set(
    text
      .split('\n')
      .map((line) => line.trim().toLowerCase())
      .filter((line) => line.length > 0 && !line.startsWith('#')),
  );
}

export const COMMON_PASSWORDS: ReadonlySet<string> = loadCommonPasswords();

function characterClasses(password: string): number {
  return [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((pattern) => pattern.test(password)).length;
}

/** True when the password, or its root without trailing digits and symbols, is a common one. */
export function isCommonPassword(password: string): boolean {
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return true;
  const root = lower.replace(/[\d\W_]+$/u, '');
  const leading = lower.replace(/^[\d\W_]+/u, '');
  return (
    (root.length >= 3 && COMMON_PASSWORDS.has(root)) || (leading.length >= 3 && COMMON_PASSWORDS.has(leading))
  );
}

export function checkPassword(password: string, context: { phone?: string | null } = {}): PasswordProblem[] {
  const problems: PasswordProblem[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) problems.push('too_short');
  if (length > PASSWORD_MAX_LENGTH) problems.push('too_long');
  const classes = characterClasses(password);
  if (classes < 3 && !(length >= PASSPHRASE_LENGTH && classes >= 2)) problems.push('too_simple');
  if (isCommonPassword(password)) problems.push('common_password');
  if (/(.)\1{3,}/u.test(password)) problems.push('repeated_characters');
  const digits = context.phone?.replace(/\D/g, '') ?? '';
  if (digits.length >= 8 && password.replace(/\D/g, '').includes(digits.slice(-8))) {
    problems.push('contains_phone');
  }
  return problems;
}

export const PASSWORD_PROBLEM_TEXT: Record<PasswordProblem, string> = {
  too_short: `use at least ${PASSWORD_MIN_LENGTH} characters`,
  too_long: `use at most ${PASSWORD_MAX_LENGTH} characters`,
  too_simple: `mix at least three of lower case, upper case, digits and symbols (or two in ${PASSPHRASE_LENGTH}+ characters)`,
  common_password: 'this password is too common',
  contains_phone: 'do not use your phone number',
  repeated_characters: 'avoid long runs of one character',
};
