/**
 * Phone numbers are stored in E.164, validated by the shared phone module (libphonenumber-js,
 * Cameroon by default; other countries' valid numbers for diaspora customers).
 */
export { maskPhone, normalizePhone } from '../../shared/phone.js';

export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@', 2);
  return `${local.slice(0, 1)}***@${domain}`;
}
