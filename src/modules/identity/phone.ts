/**
 * Phone numbers are stored in E.164. Cameroon numbers are +237 followed by 9 digits: mobiles
 * start with 6, fixed lines with 2 (the 2014 numbering plan). Other countries are accepted in
 * plain E.164 for diaspora customers paying with cards later; SMS to them still works.
 */
const CAMEROON = /^\+237[26]\d{8}$/;
const E164 = /^\+[1-9]\d{7,14}$/;

export function normalizePhone(input: string): string | undefined {
  const compact = input.replace(/[\s().-]/g, '');
  let candidate: string;
  if (compact.startsWith('+')) candidate = compact;
  else if (compact.startsWith('00')) candidate = `+${compact.slice(2)}`;
  else if (/^237[26]\d{8}$/.test(compact)) candidate = `+${compact}`;
  else if (/^[26]\d{8}$/.test(compact)) candidate = `+237${compact}`;
  else return undefined;
  if (candidate.startsWith('+237')) return CAMEROON.test(candidate) ? candidate : undefined;
  return E164.test(candidate) ? candidate : undefined;
}

/** `+2376****4567`: enough for a person to recognise their number, not enough to dial it. */
export function maskPhone(phone: string): string {
  if (phone.length < 8) return '****';
  return `${phone.slice(0, 5)}****${phone.slice(-4)}`;
}

export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@', 2);
  return `${local.slice(0, 1)}***@${domain}`;
}
