import pg from 'pg';

/**
 * The writer's lease on its stream: a PostgreSQL session advisory lock held on a dedicated
 * connection for as long as the writer runs. Only the holder appends; if its connection dies the
 * lock goes with it and another process may take over. The lease is an optimisation against
 * wasted work, not the safety net: every append still carries the expected revision.
 */
export interface Lease {
  /** Waits until the lock is held (retrying every `retryMs`) or `signal` aborts. */
  acquire(signal: AbortSignal): Promise<void>;
  /** True once acquired and until the connection is lost or released. */
  held(): boolean;
  release(): Promise<void>;
}

export interface LeaseOptions {
  connectionString: string;
  stream: string;
  retryMs?: number;
  onLost?: () => void;
}

export function createLease(options: LeaseOptions): Lease {
  const retryMs = options.retryMs ?? 1_000;
  const key = `ledger-writer:${options.stream}`;
  let client: pg.Client | null = null;
  let isHeld = false;

  async function connect(): Promise<pg.Client> {
    const connection = new pg.Client({
      connectionString: options.connectionString,
      application_name: `ledger-writer ${options.stream}`,
      // A holder whose machine vanished (no FIN, no RST) must lose the lock in seconds, not after
      // the kernel's two-hour keepalive: the server probes this session after 5 s of silence,
      // every 2 s, and ends it (freeing the lock) after 3 unanswered probes.
      options: '-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3',
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
    });
    connection.on('error', () => lost(connection));
    connection.on('end', () => lost(connection));
    await connection.connect();
    return connection;
  }

  function lost(connection: pg.Client): void {
    if (connection !== client) return;
    client = null;
    if (isHeld) {
      isHeld = false;
      options.onLost?.();
    }
  }

  async function tryOnce(): Promise<boolean> {
    client ??= await connect();
    const result = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
      [key],
    );
    return result.rows[0]?.locked === true;
  }

  return {
    async acquire(signal) {
      while (!isHeld) {
        if (signal.aborted) throw new Error('lease acquisition aborted');
        try {
          isHeld = await tryOnce();
        } catch {
          const stale = client;
          client = null;
          await stale?.end().catch(() => undefined);
        }
        if (!isHeld) await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    },
    held: () => isHeld,
    async release() {
      const connection = client;
      isHeld = false;
      client = null;
      // Closing the session releases the lock.
      await connection?.end().catch(() => undefined);
    },
  };
}
