import type pg from 'pg';

/**
 * Group commit for appends. An append that finds fewer than `maxInFlight` calls running goes out
 * at once, alone, through eventstore_append; appends that arrive while the slots are busy wait and
 * leave together, as one eventstore_append_batch call: one round trip and one commit (one WAL
 * flush) for many appends. Each append still resolves only after its own transaction committed,
 * with its own outcome. If the batch call fails as a whole (an error raised by one item, a
 * deadlock, a lost connection), every item of it is appended alone, so one bad append cannot fail
 * the others.
 */
export interface AppendRow {
  outcome: string;
  next_revision: bigint | null;
  txid: string | null;
  last_position: bigint | null;
  actual: bigint | null;
}

export interface AppendRequest {
  stream: string;
  /** The events as a JSON array (already serialized and measured). */
  json: string;
  kind: number;
  revision: string | null;
}

export interface AppendBatcherOptions {
  pool: pg.Pool;
  /** One append alone, with its own retries (the adapter's eventstore_append call). */
  single(request: AppendRequest): Promise<AppendRow>;
  /** Calls running at once (each holds one pooled connection); default 4. */
  maxInFlight?: number;
  /** Appends per batch call; default 128. */
  maxBatch?: number;
}

interface Waiting {
  request: AppendRequest;
  resolve(row: AppendRow): void;
  reject(error: unknown): void;
}

export function createAppendBatcher(options: AppendBatcherOptions) {
  const maxInFlight = options.maxInFlight ?? 4;
  const maxBatch = options.maxBatch ?? 128;
  let inFlight = 0;
  const queue: Waiting[] = [];

  async function runBatch(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Waiting];
      await options.single(only.request).then(only.resolve, only.reject);
      return;
    }
    const json = `[${batch
      .map(({ request }) => `{"s":${JSON.stringify(request.stream)},"k":${request.kind},"e":${request.revision === null ? 'null' : `"${request.revision}"`},"ev":${request.json}}`)
      .join(',')}]`;
    let rows: (AppendRow & { idx: number })[];
    try {
      const result = await options.pool.query<AppendRow & { idx: number }>({
        name: 'es_append_batch',
        text: 'SELECT idx, outcome, next_revision, txid, last_position, actual FROM eventstore_append_batch($1::jsonb)',
        values: [json],
      });
      rows = result.rows;
    } catch {
      // Alone, each append meets only its own error.
      await Promise.all(batch.map((item) => options.single(item.request).then(item.resolve, item.reject)));
      return;
    }
    const byIndex = new Map(rows.map((row) => [row.idx, row]));
    batch.forEach((item, index) => {
      const row = byIndex.get(index + 1);
      if (row === undefined) item.reject(new Error('eventstore_append_batch returned no outcome for an append'));
      else item.resolve(row);
    });
  }

  function pump(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      inFlight += 1;
      void runBatch(batch).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  }

  return {
    append(request: AppendRequest): Promise<AppendRow> {
      return new Promise<AppendRow>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        pump();
      });
    },
    /** Appends waiting for a slot (for tests and metrics). */
    waiting: () => queue.length,
  };
}
