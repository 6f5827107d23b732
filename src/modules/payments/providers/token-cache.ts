/**
 * Caches one provider access token until shortly before it expires, and makes concurrent
 * callers share a single token request instead of stampeding the token endpoint.
 */
export interface IssuedToken {
  token: string;
  expiresInSeconds: number;
}

export interface TokenCache {
  get(): Promise<string>;
  /** Forget the token (the provider said 401): the next get() asks for a new one. */
  invalidate(token: string): void;
}

/** Refresh this long before expiry, at most: a token must not expire between get() and use. */
const MAX_REFRESH_MARGIN_MS = 60_000;

export function createTokenCache(
  issue: () => Promise<IssuedToken>,
  now: () => number = Date.now,
): TokenCache {
  let cached: { token: string; refreshAtMs: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function refresh(): Promise<string> {
    const issued = await issue();
    const lifetimeMs = Math.max(0, issued.expiresInSeconds * 1000);
    // A tenth of the lifetime keeps short test tokens usable; a minute at most for real ones.
    const marginMs = Math.min(MAX_REFRESH_MARGIN_MS, lifetimeMs / 10);
    cached = { token: issued.token, refreshAtMs: now() + lifetimeMs - marginMs };
    return issued.token;
  }

  return {
    async get() {
      if (cached !== undefined && now() < cached.refreshAtMs) return cached.token;
      inFlight ??= refresh().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}
