import { Redis } from 'ioredis';
import { expect } from 'vitest';
import pg from 'pg';
import { createTestApp } from '../../helpers/app.js';
import { TEST_REDIS_URL } from '../../helpers/database.js';
import { settledInvariants, type Violation } from '../invariants.js';
import { createClient, type Client } from './client.js';
import { runLoad, type LoadResult, type Phase } from './load.js';
import { invariantSource } from './source.js';
import { APP_CONNECTION_NAME, faultWorld, type FaultWorld, type WorldOptions } from './world.js';

/** What a fault can do to the world while the load runs. */
export interface FaultContext {
  world: FaultWorld;
  /** Seeded: the same seed draws the same moments. */
  random(): number;
  /** True once the load is over: a fault that repeats stops then. */
  loadDone(): boolean;
  /** What the fault did, printed with the outcome. */
  log(line: string): void;
  /** Requests sent and not answered yet; requests answered so far. */
  inFlight(): number;
  answered(): number;
}

export interface Schedule {
  name: string;
  /** The phases during which `fault` is started (once per phase). */
  phases: Phase[];
  fault(context: FaultContext, phase: Phase): Promise<void>;
  world?: WorldOptions;
}

export interface ScheduleOutcome {
  seed: number;
  violations: Violation[];
  /** Answers to a retry after recovery that differ from the first answer. */
  replayMismatches: string[];
  faultLog: string[];
  load: LoadResult;
  appStarts: number;
  durationMs: number;
}

/** mulberry32: small, seeded, good enough to pick moments. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function seedOf(name: string): number {
  const fromEnvironment = Number(process.env.FAULT_SEED);
  if (Number.isSafeInteger(fromEnvironment) && fromEnvironment > 0) return fromEnvironment;
  let hash = 2_166_136_261;
  for (const character of name) hash = Math.imul(hash ^ character.charCodeAt(0), 16_777_619) >>> 0;
  return hash;
}

/** How long the invariants may take to hold once the load and the sweeps are over. */
const SETTLE_DEADLINE_MS = 90_000;

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (bounded) until `ready()` holds; the schedules time their faults on progress, not clocks. */
export async function when(ready: () => boolean, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!ready() && Date.now() < deadline) await pause(5);
}

// ---- faults the schedules share -------------------------------------------------------------

/** kill -9 of the app, then a restart (the supervisor bringing it back). */
export async function killAndRestart(context: FaultContext): Promise<void> {
  const inFlight = context.inFlight();
  await context.world.app.kill();
  context.log(`killed with ${inFlight} requests in flight, ${context.answered()} answered`);
  await context.world.app.start();
  context.log('restarted');
}

/** Cuts every connection the app has to PostgreSQL (its pool, its LISTEN connection). */
export async function cutDatabaseConnections(context: FaultContext): Promise<number> {
  const client = new pg.Client({ connectionString: context.world.database.url });
  await client.connect();
  try {
    const result = await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`,
      [context.world.database.name, APP_CONNECTION_NAME],
    );
    return result.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

/** Deletes every Redis key under the app's prefix (and only those: other tests share the Redis). */
export async function emptyRedis(context: FaultContext): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${context.world.redisPrefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function control(url: string, path: string, body: Record<string, unknown>): Promise<void> {
  const answer = await fetch(`${url}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (answer.status >= 300) throw new Error(`control ${path}: ${answer.status} ${await answer.text()}`);
}

// ---- the run --------------------------------------------------------------------------------

const MONEY_OPERATIONS = new Set(['top-up', 'wallet order', 'mobile money order', 'withdrawal', 'payout']);
const idOf = (body: Record<string, unknown>) =>
  String(
    body.id ??
      body.payoutId ??
      (body.payment as { paymentId?: string } | undefined)?.paymentId ??
      body.orderId ??
      '',
  );

/** Every money request answered during the load, sent again with its key: the same outcome. */
async function replayAnswered(client: Client): Promise<string[]> {
  const mismatches: string[] = [];
  const answered = client.log.operations.filter(
    (entry) => MONEY_OPERATIONS.has(entry.operation.name) && 'status' in entry.outcome,
  );
  await Promise.all(
    answered.map(async ({ operation, outcome }) => {
      if (!('status' in outcome)) return;
      const again = await client.send(operation, 30_000);
      const same = again.status === outcome.status && idOf(again.body) === idOf(outcome.body);
      if (!same)
        mismatches.push(
          `${operation.name} ${operation.key}: first ${outcome.status} ${idOf(outcome.body)}, retry ${again.status} ${idOf(again.body)} ${String(again.body.code ?? '')}`,
        );
    }),
  );
  return mismatches;
}

/**
 * Time passing, in seconds: what the scheduled sweeps will do within the next minutes (find
 * attempts that lost their answer after 2 minutes, refund stranded escrows after 10), run by a
 * second instance on the same database and Redis, as the schedule's cron would on any instance.
 */
async function sweepsAhead(world: FaultWorld): Promise<void> {
  const instance = await createTestApp({
    database: world.database,
    env: { ...world.environment, DATABASE_URL: world.database.url, JOB_WORKERS_ENABLED: 'false' },
  });
  try {
    const { payments } = instance.services;
    await payments.payments.sweep(new Date(Date.now() + 3 * 60_000));
    await payments.escrow.sweepStranded(new Date(Date.now() + 11 * 60_000));
  } finally {
    await instance.close();
  }
}

/**
 * One schedule: a fresh world, the app started as a child process, the bounded load with the
 * fault started in its phases, recovery (the app running again, every client retry answered,
 * the sweeps' next minutes), then the invariants, given the app 90 s to settle.
 */
export async function runSchedule(
  schedule: Schedule,
  seed = seedOf(schedule.name),
): Promise<ScheduleOutcome> {
  const startedAt = Date.now();
  const world = await faultWorld(schedule.world);
  const faultLog: string[] = [];
  let done = false;
  // Requests go round-robin to the instances that are running (a load balancer's health check).
  let turn = 0;
  const client = createClient(() => {
    const running = world.apps.filter((app) => app.running());
    turn += 1;
    return (running[turn % Math.max(1, running.length)] ?? world.app).baseUrl;
  });
  const context: FaultContext = {
    world,
    inFlight: () => client.inFlight(),
    answered: () => client.log.operations.length,
    random: seededRandom(seed),
    loadDone: () => done,
    log: (line) => faultLog.push(`${((Date.now() - startedAt) / 1000).toFixed(1)}s ${line}`),
  };
  const source = invariantSource({
    databaseUrl: world.database.url,
    encryptionKey: world.environment.ENCRYPTION_KEY!,
    simulators: world.simulators,
    leaseMs: Number(world.environment.IDEMPOTENCY_LEASE_SECONDS) * 1000,
  });
  try {
    // In order: the first instance takes the writer's lease, the others forward to it.
    for (const app of world.apps) await app.start();
    const faults: Promise<void>[] = [];
    const load = await runLoad(world, client, (phase) => {
      if (schedule.phases.includes(phase)) faults.push(schedule.fault(context, phase));
    }).finally(() => (done = true));
    await Promise.all(faults);
    for (const app of world.apps) if (!app.running()) await app.start();
    const replayMismatches = await replayAnswered(client);
    await sweepsAhead(world);
    // Work the sweep queued (locating a collection whose reference a kill lost, then booking it)
    // runs on the app's workers: on a loaded CI machine that took over 30 s. A real loss stays a
    // violation however long the wait; the wait ends as soon as every invariant holds.
    const violations = await settledInvariants(source, SETTLE_DEADLINE_MS);
    return {
      seed,
      violations,
      replayMismatches,
      faultLog,
      load,
      appStarts: world.apps.reduce((sum, app) => sum + app.starts(), 0),
      durationMs: Date.now() - startedAt,
    };
  } catch (error) {
    throw new Error(
      `schedule "${schedule.name}" (seed ${seed}, FAULT_SEED=${seed} to repeat) broke: ${(error as Error).message}\nfaults: ${faultLog.join('; ')}\napp output:\n${world.apps.map((app) => app.output().join('\n')).join('\n---\n')}`,
      { cause: error },
    );
  } finally {
    await source.close();
    await world.close();
  }
}

/** The line a schedule prints: what ran and what it found. */
export function summary(name: string, outcome: ScheduleOutcome): string {
  return [
    `[faults] ${name}: seed ${outcome.seed}, ${(outcome.durationMs / 1000).toFixed(1)} s, app started ${outcome.appStarts}×,`,
    `${outcome.load.orders.length} orders, ${outcome.violations.length} violations, ${outcome.replayMismatches.length} replay mismatches, ${outcome.load.unanswered.length} unanswered;`,
    `faults: ${outcome.faultLog.join('; ') || 'none'}${outcome.load.notes.length > 0 ? `; notes: ${outcome.load.notes.join('; ')}` : ''}`,
  ].join(' ');
}

/** A schedule passes when no invariant is violated, every retry got the first outcome and every request an answer. */
export function expectSound(outcome: ScheduleOutcome): void {
  expect(
    {
      violations: outcome.violations,
      replayMismatches: outcome.replayMismatches,
      unanswered: outcome.load.unanswered,
    },
    `seed ${outcome.seed} (FAULT_SEED=${outcome.seed} to repeat); faults: ${outcome.faultLog.join('; ')}`,
  ).toEqual({ violations: [], replayMismatches: [], unanswered: [] });
}
