import pg from 'pg';

/**
 * LISTEN/NOTIFY for live subscribers in other processes. Subscribers in this process are woken
 * directly after each append; NOTIFY is batched (at most one in flight, at least `minIntervalMs`
 * apart) because every NOTIFY is a small commit and serializes on the notification queue.
 * Polling remains the fallback: a lost notification or a dropped LISTEN connection only delays.
 */
export interface Notifier {
  notify(): void;
  listen(): void;
  close(): Promise<void>;
}

const RECONNECT_DELAY_MS = 1_000;
/**
 * How often the notifier looks whether any other process listens. With nobody else listening a
 * NOTIFY wakes nobody (this process's subscribers are woken directly), so none is sent. A process
 * that starts listening is not seen by the others for up to this long: it reads what it missed
 * when it connects, then wakes itself every JOINING_WAKE_MS until every appender has seen it.
 */
const LISTENERS_CHECK_MS = 1_000;
const JOINING_WAKE_MS = 25;
const JOINING_PERIOD_MS = LISTENERS_CHECK_MS + 250;

export function createNotifier(options: {
  pool: pg.Pool;
  connectionString: string;
  channel: string;
  minIntervalMs: number;
  onNotification(): void;
}): Notifier {
  let pending = false;
  let sending = false;
  let closed = false;
  let listener: pg.Client | undefined;
  let listening = false;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let joiningTimer: NodeJS.Timeout | undefined;

  let othersListening = true;
  let checkedAt = 0;
  async function lookForListeners(): Promise<void> {
    checkedAt = Date.now();
    const result = await options.pool.query<{ listeners: number }>({
      name: 'es_listeners',
      text: `SELECT count(*)::int AS listeners FROM pg_stat_activity
              WHERE datname = current_database() AND application_name = 'eventstore-listen'`,
    });
    const own = listener !== undefined && listening ? 1 : 0;
    othersListening = (result.rows[0]?.listeners ?? 1) > own;
  }

  async function send(): Promise<void> {
    sending = true;
    try {
      while (pending && !closed) {
        pending = false;
        if (Date.now() - checkedAt >= LISTENERS_CHECK_MS)
          await lookForListeners().catch(() => (othersListening = true));
        if (!othersListening) continue;
        const startedAt = Date.now();
        await options.pool.query(`NOTIFY ${options.channel}`).catch(() => undefined);
        const elapsedMs = Date.now() - startedAt;
        if (elapsedMs < options.minIntervalMs) {
          await new Promise((resolve) => setTimeout(resolve, options.minIntervalMs - elapsedMs));
        }
      }
    } finally {
      sending = false;
    }
  }

  async function connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: options.connectionString,
      application_name: 'eventstore-listen',
    });
    listener = client;
    const retry = () => {
      if (listener !== client) return;
      listener = undefined;
      client.end().catch(() => undefined);
      if (!closed) reconnectTimer = setTimeout(() => void connect().catch(retry), RECONNECT_DELAY_MS);
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', () => options.onNotification());
    try {
      await client.connect();
      await client.query(`LISTEN ${options.channel}`);
      // Anything appended while we were disconnected is picked up by the next read.
      options.onNotification();
      // Appenders that last looked before we connected do not NOTIFY us yet (LISTENERS_CHECK_MS).
      clearInterval(joiningTimer);
      const joinedAt = Date.now();
      joiningTimer = setInterval(() => {
        if (Date.now() - joinedAt > JOINING_PERIOD_MS || listener !== client) clearInterval(joiningTimer);
        else options.onNotification();
      }, JOINING_WAKE_MS);
      joiningTimer.unref();
    } catch {
      retry();
    }
  }

  return {
    notify() {
      pending = true;
      if (!sending) void send();
    },
    listen() {
      if (listening || closed) return;
      listening = true;
      void connect();
    },
    async close() {
      closed = true;
      clearTimeout(reconnectTimer);
      clearInterval(joiningTimer);
      const client = listener;
      listener = undefined;
      if (client !== undefined) await client.end().catch(() => undefined);
    },
  };
}
