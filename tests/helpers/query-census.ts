import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * Counts the SQL statements and Redis commands this process sends, each filed under the context
 * whose code issued it: the innermost frame of the call's stack (async frames included) that lies
 * in a context's folder (`src/modules/<name>`) or in one of the shared parts that issue their own
 * (the event store, the ledger writer, the projection runner, the HTTP edge's idempotency rows, the
 * job runner, the real-time bus). Work done on another context's behalf through its interface is
 * filed under the one that sent it: an order's wallet payment under `ledger`, its append under
 * `eventstore` (a group commit sends one statement for many appends). Used by
 * `bench/payments/queries.ts` and the per-context budget test (`tests/integration/payments/query-budget.test.ts`).
 *
 * It patches `pg.Client#query`, `pg.Pool#query` (a pool query is counted once, with its caller's
 * stack) and ioredis's `sendCommand` (a pipelined command is counted when it is queued, where its
 * caller still is on the stack) for the whole process: start one census at a time, and `stop` it.
 */
export interface ContextCount {
  statements: number;
  redis: number;
  /** Statements by their first keyword (select, insert, update, delete, begin, commit, ...). */
  kinds: Record<string, number>;
}

export interface QueryCensus {
  /** Forgets what was counted so far. */
  reset(): void;
  /** What was counted since the last reset, by context. */
  counts(): Record<string, ContextCount>;
  /** Statements plus Redis commands counted since the last reset (to wait for quiet). */
  total(): number;
  stop(): void;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHARED_AREAS: readonly [string, string][] = [
  ['src/eventstore/', 'eventstore'],
  ['ledger/', 'ledger'],
  ['projections/', 'projections'],
  ['src/http/', 'http'],
  ['src/jobs/', 'jobs'],
  ['src/realtime/', 'realtime'],
];

/** The context a stack's innermost project frame belongs to (`other` when none does). */
export function contextOfStack(stack: string, root = ROOT): string {
  for (const line of stack.split('\n')) {
    const at = line.indexOf(root);
    if (at < 0 || line.includes('node_modules')) continue;
    const file = line.slice(at + root.length).replace(/^\/+/, '');
    const module = /^src\/modules\/([\w-]+)\//.exec(file);
    if (module !== null) return module[1]!;
    const shared = SHARED_AREAS.find(([prefix]) => file.startsWith(prefix));
    if (shared !== undefined) return shared[1];
  }
  // The job queue's own connections (BullMQ's scripts and blocking polls) run from its library.
  return stack.includes('/bullmq/') ? 'jobs' : 'other';
}

function statementText(config: unknown): string {
  if (typeof config === 'string') return config;
  if (typeof config === 'object' && config !== null && 'text' in config) return String(config.text);
  return '';
}

const kindOf = (text: string): string => (/^\s*(\w+)/.exec(text)?.[1] ?? 'other').toLowerCase();

function callerStack(): string {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  Error.captureStackTrace(holder, callerStack);
  Error.stackTraceLimit = limit;
  return holder.stack ?? '';
}

interface Patch {
  target: Record<string, unknown>;
  name: string;
  original: unknown;
}

let active = false;

export function startQueryCensus(): QueryCensus {
  if (active) throw new Error('a query census is already running in this process');
  active = true;
  let byContext = new Map<string, ContextCount>();
  const entry = (context: string): ContextCount => {
    let count = byContext.get(context);
    if (count === undefined) byContext.set(context, (count = { statements: 0, redis: 0, kinds: {} }));
    return count;
  };
  // QUERY_CENSUS_STACKS=<context> prints the stack of each statement filed under it (to find who).
  const traced = process.env.QUERY_CENSUS_STACKS;
  const countStatement = (config: unknown) => {
    const stack = callerStack();
    const context = contextOfStack(stack);
    if (context === traced) console.log(`${statementText(config).slice(0, 160)}\n${stack}`);
    const count = entry(context);
    const kind = kindOf(statementText(config));
    count.statements += 1;
    count.kinds[kind] = (count.kinds[kind] ?? 0) + 1;
  };
  const countRedis = () => void (entry(contextOfStack(callerStack())).redis += 1);

  const patches: Patch[] = [];
  const patch = (
    target: object,
    name: string,
    wrap: (original: (...args: unknown[]) => unknown) => unknown,
  ) => {
    const record = target as Record<string, unknown>;
    const original = record[name] as (...args: unknown[]) => unknown;
    patches.push({ target: record, name, original });
    record[name] = wrap(original);
  };
  // A pool query reaches `Client#query` from the pool's connect callback, where its caller is no
  // longer on the stack: it is counted at the pool, and its statement marked so the client skips it.
  const fromPool = new WeakSet<object>();
  patch(
    pg.Pool.prototype,
    'query',
    (original) =>
      function (this: unknown, text: unknown, ...rest: unknown[]) {
        countStatement(text);
        const marked = typeof text === 'string' ? { text } : text;
        if (typeof marked === 'object' && marked !== null) fromPool.add(marked);
        return original.call(this, marked, ...rest);
      },
  );
  patch(
    pg.Client.prototype,
    'query',
    (original) =>
      function (this: unknown, config: unknown, ...rest: unknown[]) {
        if (!(typeof config === 'object' && config !== null && fromPool.has(config))) countStatement(config);
        return original.call(this, config, ...rest);
      },
  );
  const redisPrototype = Redis.prototype as unknown as Record<string, unknown>;
  patch(
    redisPrototype,
    'sendCommand',
    (original) =>
      function (this: unknown, command: unknown, stream?: { isPipeline?: boolean }, ...rest: unknown[]) {
        if (stream?.isPipeline !== true) countRedis();
        return original.call(this, command, stream, ...rest);
      },
  );
  const pipelinePrototype = Object.getPrototypeOf(new Redis({ lazyConnect: true }).pipeline()) as object;
  patch(
    pipelinePrototype,
    'sendCommand',
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        countRedis();
        return original.apply(this, args);
      },
  );

  return {
    reset: () => void (byContext = new Map()),
    counts: () =>
      Object.fromEntries(
        [...byContext.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([context, count]) => [context, { ...count, kinds: { ...count.kinds } }]),
      ),
    total: () => [...byContext.values()].reduce((sum, count) => sum + count.statements + count.redis, 0),
    stop() {
      for (const { target, name, original } of patches.reverse()) target[name] = original;
      active = false;
    },
  };
}
