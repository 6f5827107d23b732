import type pg from 'pg';
import { createGroupRunner } from '../../db/group-runner.js';

/**
 * Group commit for appends (src/db/group-runner.ts): appends that arrive while every append slot
 * is busy leave together as one eventstore_append_batch call, one round trip and one commit (one
 * WAL flush) for many appends. Each append still resolves only after its own transaction
 * committed, with its own outcome. If the batch call fails as a whole (an error raised by one
 * item, a deadlock, a lost connection), every item of it is appended alone.
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

export function createAppendBatcher(options: AppendBatcherOptions) {
  const runner = createGroupRunner<AppendRequest, AppendRow>({
    runOne: options.single,
    async runMany(requests) {
      const json = `[${requests
        .map(
          (request) =>
            `{"s":${JSON.stringify(request.stream)},"k":${request.kind},"e":${request.revision === null ? 'null' : `"${request.revision}"`},"ev":${request.json}}`,
        )
        .join(',')}]`;
      const result = await options.pool.query<AppendRow & { idx: number }>({
        name: 'es_append_batch',
        text: 'SELECT idx, outcome, next_revision, txid, last_position, actual FROM eventstore_append_batch($1::jsonb)',
        values: [json],
      });
      const byIndex = new Map(result.rows.map((row) => [row.idx, row]));
      return requests.map((_, index) => {
        const row = byIndex.get(index + 1);
        if (row === undefined) throw new Error('eventstore_append_batch returned no outcome for an append');
        return row;
      });
    },
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
    ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
  });
  return { append: runner.run, waiting: runner.waiting };
}
