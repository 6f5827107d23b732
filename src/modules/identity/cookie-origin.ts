import { identityErrors } from './errors.js';

/**
 * Requests authenticated by the refresh cookie (web clients refreshing or logging out) are checked
 * for where they come from, as OWASP's CSRF guidance puts it: SameSite=Strict is one defence,
 * not the only one. The `Origin` must be one of the allowed origins (CORS_ORIGINS and this
 * service's own); without `Origin`, `Sec-Fetch-Site` must say same-origin (or none: typed by the
 * user); without either, the `Referer`'s origin must be allowed. A request with none of the three
 * comes from no browser, hence no cross-site forgery, and passes. Requests carrying the refresh
 * token in the body or an access token in `Authorization` are not cookie-authenticated: a forged
 * cross-site request cannot attach them.
 */
export type OriginVerdict = 'allowed' | 'refused';

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export function cookieRequestOrigin(
  headers: Record<string, string | string[] | undefined>,
  allowedOrigins: readonly string[],
): OriginVerdict {
  const origin = single(headers.origin);
  if (origin !== undefined) return allowedOrigins.includes(origin) ? 'allowed' : 'refused';
  const site = single(headers['sec-fetch-site']);
  if (site !== undefined) return site === 'same-origin' || site === 'none' ? 'allowed' : 'refused';
  const referer = single(headers.referer);
  if (referer !== undefined) {
    const refererOrigin = originOf(referer);
    return refererOrigin !== undefined && allowedOrigins.includes(refererOrigin) ? 'allowed' : 'refused';
  }
  return 'allowed';
}

/** The origins a cookie-authenticated request may come from: CORS_ORIGINS and PUBLIC_BASE_URL's. */
export function allowedCookieOrigins(config: { corsOrigins: string[]; PUBLIC_BASE_URL: string }): string[] {
  const own = originOf(config.PUBLIC_BASE_URL);
  return [...config.corsOrigins, ...(own === undefined ? [] : [own])];
}

export function assertCookieOrigin(
  headers: Record<string, string | string[] | undefined>,
  allowedOrigins: readonly string[],
): void {
  if (cookieRequestOrigin(headers, allowedOrigins) === 'allowed') return;
  throw identityErrors.of(
    'forbidden',
    'origin_not_allowed',
    'This request comes from a site that may not use the session cookie.',
  );
}
