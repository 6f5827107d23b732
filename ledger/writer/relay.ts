import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { ownTables } from '../../src/db/own-tables.js';
import type { Transfer } from '../rules/index.js';
import { assertTransferShape, type TransferOutcome } from './batch.js';
import { LedgerSubmissionTooLargeError, LedgerUnavailableError } from './errors.js';
import {
  decodeRelayValue,
  encodeError,
  encodeRelayValue,
  resultOf,
  type RelayAnswer,
} from './relay-codec.js';
import {
  CALL_CHANNEL,
  claimCalls,
  insertCall,
  releaseClaims,
  storeAnswers,
  takeAnswers,
  withdrawCall,
  type ClaimedCall,
  type RelayKind,
} from './relay-io.js';
import type { LedgerTables } from './tables.js';
import type { LedgerAccountView, LedgerWriter } from './writer.js';

/**
 * The ledger's calls on any instance (docs/ledger.md, "Several instances"). Only the lease holder's
 * writer can decide transfers and knows current balances; an instance without the lease forwards
 * its calls to the holder through PostgreSQL: it inserts the call into `ledger_relay` and NOTIFYs
 * `ledger_relay`; the holder claims pending calls (SKIP LOCKED), runs them against its writer,
 * stores each answer and NOTIFYs the caller's own channel; the caller deletes the row as it reads
 * the answer. PostgreSQL because every instance already has it (the lease is there too): no
 * address to discover, nothing more to run, and a call survives the holder's death in the table,
 * where the next holder finds it. Polls back the notifications up (a missed NOTIFY costs one poll).
 *
 * Safety: a transfer is idempotent by its id (same id and body answer `exists`), so a call run
 * twice (a holder died after appending and before answering; its successor runs the call again)
 * changes nothing twice. A call nobody claimed before the caller's deadline is deleted by the
 * caller (it never runs: `LedgerUnavailableError`, safe to retry); one claimed but not answered in
 * time is `outcomeUnknown` (retry the same transfers: they answer `exists` if they landed).
 */
export interface LedgerRelay {
  submit(transfers: readonly Transfer[]): Promise<TransferOutcome[]>;
  account(id: string): Promise<LedgerAccountView | null>;
  /**
   * Resolves once this instance can get a ledger answer: its writer holds the lease, or the holder
   * answered a ping through the relay within `timeoutMs`. The readiness check.
   */
  ping(timeoutMs?: number): Promise<{ holder: string }>;
  /** Listens for calls and answers, and starts the writer's lease loop. */
  start(): Promise<void>;
  /** Instance name in `claimed_by` and ping answers. */
  readonly instance: string;
  /** Calls forwarded by this instance and answered; calls this instance ran for others. */
  stats(): { forwarded: number; served: number; waiting: number };
  close(): Promise<void>;
}

export interface LedgerRelayOptions<DB extends LedgerTables = LedgerTables> {
  writer: LedgerWriter;
  db: Kysely<DB>;
  /** For the LISTEN connection. */
  connectionString: string;
  /** How long a forwarded call waits for its answer (default 10 s, as the writer's own wait). */
  timeoutMs?: number;
  /** Back-up poll for pending calls (holder) and answers (caller) (default 250 ms). */
  pollMs?: number;
  /**
   * Another instance's claim not answered after this long is claimed again (its holder died;
   * default 3 s); this instance's own only after ten times as long (it may still be running it).
   */
  reclaimAfterMs?: number;
  /** Transfers a forwarded submit may carry (the writer's own limit; default 8,190). */
  maxTransfers?: number;
  logger?: Logger;
}

const CLAIM_LIMIT = 500;
const MAX_DRAINS_IN_FLIGHT = 4;
/** After the deadline, how long an answer already taken from the table may take to reach its waiter. */
const SETTLE_MS = 1_000;

interface Waiter {
  resolve(answer: unknown): void;
  reject(error: unknown): void;
}

export function createLedgerRelay<DB extends LedgerTables>(options: LedgerRelayOptions<DB>): LedgerRelay {
  const { writer, logger } = options;
  const db = ownTables<LedgerTables, DB>(options.db);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pollMs = options.pollMs ?? 250;
  const reclaimAfterMs = options.reclaimAfterMs ?? 3_000;
  const maxTransfers = options.maxTransfers ?? 8_190;
  const { stream } = writer.head();
  const instance = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const replyChannel = `ledger_answer_${instance.replace(/[^a-z0-9]/gi, '_')}`;
  const waiting = new Map<string, Waiter>();
  /** Claimed calls being run and answered: a closing holder answers them before it goes. */
  const inService = new Set<Promise<void>>();
  let listener: pg.Client | null = null;
  let connecting: Promise<void> | null = null;
  let poller: NodeJS.Timeout | null = null;
  let closed = false;
  let started = false;
  let writerStarted = false;
  let forwarded = 0;
  let served = 0;
  let drains = 0;
  let drainAgain = false;
  let collecting: Promise<void> | null = null;
  let collectAgain = false;

  /** A failing poll repeats every `pollMs`: its warning is logged at most every 10 s. */
  let lastWarningAt = 0;
  function warn(error: unknown, message: string): void {
    if (Date.now() - lastWarningAt < 10_000) return;
    lastWarningAt = Date.now();
    logger?.warn({ err: error }, message);
  }

  // ---- the LISTEN connection -----------------------------------------------------------

  function ensureListening(): Promise<void> {
    if (closed) return Promise.reject(new LedgerUnavailableError('the ledger relay is closed'));
    if (listener !== null) return Promise.resolve();
    connecting ??= connect().finally(() => (connecting = null));
    return connecting;
  }

  async function connect(): Promise<void> {
    const client = new pg.Client({ connectionString: options.connectionString });
    const lost = () => {
      if (listener !== client) return;
      listener = null;
      if (!closed) logger?.warn('ledger relay lost its LISTEN connection; polling until it is back');
      client.end().catch(() => undefined);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (message.channel === CALL_CHANNEL) drain();
      else if (message.channel === replyChannel) collect();
    });
    await client.connect();
    await client.query(`LISTEN ${CALL_CHANNEL}`);
    await client.query(`LISTEN ${replyChannel}`);
    if (closed) {
      await client.end().catch(() => undefined);
      return;
    }
    listener = client;
  }

  function startPolling(): void {
    if (poller !== null || closed) return;
    poller = setInterval(() => {
      if (listener === null) ensureListening().catch(() => undefined);
      // A writer that just became ready serves what waited for a holder; otherwise the poll backs
      // up a missed NOTIFY.
      if (writer.ready()) drain();
      if (waiting.size > 0) collect();
    }, pollMs);
    poller.unref();
  }

  // ---- the holder's side: claim, run, answer ---------------------------------------------

  function drain(): void {
    if (closed || !writer.ready()) return;
    if (drains >= MAX_DRAINS_IN_FLIGHT) {
      drainAgain = true;
      return;
    }
    drains += 1;
    drainOnce()
      .then((claimed) => {
        drains -= 1;
        if (claimed > 0 || drainAgain) {
          drainAgain = false;
          drain();
        }
      })
      .catch((error: unknown) => {
        drains -= 1;
        warn(error, 'ledger relay: could not serve forwarded calls; the poll retries');
      });
  }

  /** Claims a batch of pending calls and, in the background, runs and answers them. */
  async function drainOnce(): Promise<number> {
    const calls = await claimCalls(db, { stream, instance, reclaimAfterMs, limit: CLAIM_LIMIT });
    if (calls.length === 0) return 0;
    if (closed) {
      // Closing meanwhile: give the calls back at once for the next holder.
      await releaseClaims(
        db,
        calls.map((call) => call.id),
      );
      return 0;
    }
    const serving = serve(calls).catch((error: unknown) =>
      warn(error, 'ledger relay: answers not stored; the calls are claimed again'),
    );
    inService.add(serving);
    void serving.finally(() => inService.delete(serving));
    return calls.length;
  }

  async function serve(calls: ClaimedCall[]): Promise<void> {
    // All at once: the writer batches the submissions into as few events as it can.
    const answers = await Promise.all(
      calls.map(async (call) => {
        let answer: RelayAnswer;
        try {
          answer = { ok: await run(call) };
        } catch (error) {
          answer = encodeError(error);
        }
        return { id: call.id, answer: encodeRelayValue(answer) };
      }),
    );
    await storeAnswers(db, answers);
    served += answers.length;
  }

  function run(call: { kind: RelayKind; payload: string }): Promise<unknown> {
    const payload = decodeRelayValue(call.payload);
    switch (call.kind) {
      case 'submit':
        return writer.submit(payload as Transfer[]);
      case 'account':
        return writer.account(payload as string);
      case 'ping':
        return Promise.resolve({ holder: instance });
      default: {
        const unknown: never = call.kind;
        return Promise.reject(new TypeError(`unknown ledger relay call ${String(unknown)}`));
      }
    }
  }

  // ---- the caller's side: forward, wait, collect -----------------------------------------

  function collect(): void {
    if (collecting !== null) {
      collectAgain = true;
      return;
    }
    collecting = collectOnce()
      .catch((error: unknown) => logger?.debug({ err: error }, 'ledger relay: answers not read yet'))
      .finally(() => {
        collecting = null;
        if (collectAgain && waiting.size > 0) {
          collectAgain = false;
          collect();
        }
      });
  }

  async function collectOnce(): Promise<void> {
    const ids = [...waiting.keys()];
    if (ids.length === 0) return;
    for (const row of await takeAnswers(db, ids)) {
      const waiter = waiting.get(row.id);
      if (waiter === undefined) continue;
      waiting.delete(row.id);
      try {
        waiter.resolve(resultOf(row.answer));
      } catch (error) {
        waiter.reject(error);
      }
    }
  }

  /** The writer's loop takes the lease whenever it is free (now, or when the holder dies). */
  function startWriter(): void {
    if (writerStarted) return;
    writerStarted = true;
    void writer.start().catch(() => undefined);
  }

  async function forward(kind: RelayKind, payload: unknown, deadlineMs = timeoutMs): Promise<unknown> {
    startWriter();
    await ensureListening().catch((error: unknown) => {
      throw new LedgerUnavailableError('the ledger relay cannot listen for answers', false, { cause: error });
    });
    startPolling();
    const id = randomUUID();
    const answer = new Promise<unknown>((resolve, reject) => waiting.set(id, { resolve, reject }));
    answer.catch(() => undefined);
    try {
      await insertCall(db, { id, stream, kind, payload: encodeRelayValue(payload), replyTo: replyChannel });
    } catch (error) {
      waiting.delete(id);
      throw new LedgerUnavailableError('the ledger call could not be forwarded', false, { cause: error });
    }
    // This instance may hold the lease meanwhile: it serves its own call.
    drain();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), deadlineMs);
    });
    try {
      const first = await Promise.race([answer, expired]);
      if (first !== 'expired') return first;
      return await giveUp(id, answer);
    } finally {
      clearTimeout(timer);
      waiting.delete(id);
      forwarded += 1;
    }
  }

  /** The deadline passed: withdraw the call if no holder took it; else its outcome is unknown. */
  async function giveUp(id: string, answer: Promise<unknown>): Promise<unknown> {
    const withdrawn = await withdrawCall(db, id);
    switch (withdrawn.state) {
      case 'answered':
        return resultOf(withdrawn.answer);
      case 'unclaimed':
        throw new LedgerUnavailableError('no ledger writer holds the lease; retry shortly');
      case 'claimed':
        throw new LedgerUnavailableError(
          'the ledger writer did not answer in time; retry the same transfers',
          true,
        );
      case 'absent': {
        // A collect took the answer just after the deadline: it is on its way to the waiter.
        const settled = await Promise.race([
          answer.then((value) => ({ value })),
          new Promise<null>((resolve) => setTimeout(() => resolve(null), SETTLE_MS)),
        ]);
        if (settled !== null) return settled.value;
        throw new LedgerUnavailableError('the ledger answer was lost; retry the same transfers', true);
      }
      default: {
        const unknown: never = withdrawn;
        throw new Error(`unknown withdrawal ${String(unknown)}`);
      }
    }
  }

  async function viaWriterOrRelay<T>(local: () => Promise<T>, kind: RelayKind, payload: unknown): Promise<T> {
    if (writer.ready()) {
      try {
        return await local();
      } catch (error) {
        // The lease moved while the call waited in this writer's queue: the new holder answers it
        // (the same transfers: what landed answers `exists`).
        if (!(error instanceof LedgerUnavailableError) || writer.ready() || writer.failure() !== null)
          throw error;
      }
    }
    if (writer.failure() !== null) throw writer.failure();
    return (await forward(kind, payload)) as T;
  }

  return {
    instance,

    submit(transfers) {
      if (transfers.length === 0) return Promise.resolve([]);
      if (writer.ready() || closed)
        return viaWriterOrRelay(() => writer.submit(transfers), 'submit', transfers);
      // Refused here as the writer would refuse it, before anything travels.
      if (transfers.length > maxTransfers)
        return Promise.reject(
          new LedgerSubmissionTooLargeError(`at most ${maxTransfers} transfers per submit`),
        );
      transfers.forEach(assertTransferShape);
      return viaWriterOrRelay(() => writer.submit(transfers), 'submit', [...transfers]);
    },

    account(id) {
      return viaWriterOrRelay(() => writer.account(id), 'account', id);
    },

    async ping(deadlineMs = 1_500) {
      const failure = writer.failure();
      if (failure !== null) throw failure;
      if (writer.ready()) return { holder: instance };
      return (await forward('ping', null, deadlineMs)) as { holder: string };
    },

    async start() {
      if (started) return;
      started = true;
      startWriter();
      startPolling();
      await ensureListening().catch((error: unknown) =>
        logger?.warn({ err: error }, 'ledger relay not listening yet; the poll retries'),
      );
      drain();
    },

    stats: () => ({ forwarded, served, waiting: waiting.size }),

    async close() {
      closed = true;
      if (poller !== null) clearInterval(poller);
      poller = null;
      await Promise.all(inService);
      for (const [id, waiter] of waiting) {
        waiting.delete(id);
        waiter.reject(new LedgerUnavailableError('the ledger relay is closing', true));
      }
      await connecting?.catch(() => undefined);
      const client = listener;
      listener = null;
      await client?.end().catch(() => undefined);
    },
  };
}
