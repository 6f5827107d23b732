/**
 * What a file store throws when it cannot do its work (issue #18), shared by the adapters so the
 * files context handles one set of errors whatever the store.
 *
 * `FileStoreUnavailableError` carries `kind: 'unavailable'` and is not a DomainError, so the HTTP
 * edge treats it as a dependency outage (src/shared/outage.ts): 503 with `Retry-After`, logged
 * with its cause. Its `reason` tells the operator where to look: `unreachable` (network, timeout,
 * the store's own 5xx: retrying may help) or `misconfigured` (credentials, permissions, bucket,
 * region: only the configuration fixes it).
 */
export type FileStoreUnavailableReason = 'unreachable' | 'misconfigured';

export class FileStoreUnavailableError extends Error {
  readonly kind = 'unavailable' as const;

  constructor(
    readonly store: 'disk' | 's3',
    readonly operation: string,
    readonly reason: FileStoreUnavailableReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`file store (${store}) ${operation}: ${message}`, options);
    this.name = 'FileStoreUnavailableError';
  }
}

/**
 * The store answered, but refused the request for a reason that is a bug on our side or damage
 * on the way (a checksum mismatch, a malformed request): 500, never retried blindly.
 */
export class FileStoreError extends Error {
  constructor(
    readonly store: 'disk' | 's3',
    readonly operation: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`file store (${store}) ${operation}: ${message}`, options);
    this.name = 'FileStoreError';
  }
}
