/**
 * The embedding job once across instances (issue #27, docs/catalog.md "Search by meaning"): two
 * indexers, each with its own pool and its own Gen AI SDK client, over one real PostgreSQL
 * database and the local Gemini stand-in, which counts the calls. Two instances refreshing one
 * restaurant at once pay what one would; a holder whose session ends (cut mid-run, or a process
 * gone) lets the other run.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../../src/db/database.js';
import { ownTables } from '../../../src/db/own-tables.js';
import type { Database } from '../../../src/services.js';
import { generateCatalogFixture, insertCatalogFixture } from '../../../src/modules/catalog/fixtures.js';
import type { CatalogTables } from '../../../src/modules/catalog/tables.js';
import { createGeminiSearchAi } from '../../../src/modules/catalog/search-ai/gemini-sdk.js';
import { createSearchIndexer, type SearchIndexer } from '../../../src/modules/catalog/search-ai/indexer.js';
import type { SearchAi } from '../../../src/modules/catalog/search-ai/port.js';
import {
  createSemanticRepository,
  INDEX_LOCK_KEY,
} from '../../../src/modules/catalog/search-ai/repository.js';
import { EMBED_BATCH_SIZE } from '../../../src/modules/catalog/search-ai/rules.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { startGeminiSearchStandIn, type GeminiSearchStandIn } from '../../helpers/gemini-search-stand-in.js';

let standIn: GeminiSearchStandIn;
let database: TestDatabase;
let second: DatabaseHandle<Database>;
let restaurantId: string;
const ITEMS = 120;
/** The live dishes of one restaurant, plus the restaurant itself (counted in beforeAll). */
let ROWS = 0;
/** Two batches or more: enough for a run to be cut between two calls. */
let CALLS_FOR_ONE_RESTAURANT = 0;

/** The embedding model as production builds it, with a gate the test may hold calls at. */
function model(): SearchAi & { entered: number; hold(): () => void } {
  const real = createGeminiSearchAi({
    apiKey: 'stand-in-key',
    baseUrl: standIn.url,
    model: 'gemini-2.5-flash',
    embeddingModel: 'gemini-embedding-001',
    timeoutMs: 5_000,
  });
  let gate: Promise<void> = Promise.resolve();
  const gated = {
    entered: 0,
    embeddingModel: real.embeddingModel,
    transcribe: real.transcribe.bind(real),
    describeImage: real.describeImage.bind(real),
    async embed(texts: readonly string[], purpose: 'query' | 'document') {
      gated.entered += 1;
      await gate;
      return real.embed(texts, purpose);
    },
    /** Holds every later call until the returned function is called. */
    hold() {
      let open!: () => void;
      gate = new Promise<void>((resolve) => (open = resolve));
      return () => {
        gate = Promise.resolve();
        open();
      };
    },
  };
  return gated;
}

function indexer(db: DatabaseHandle<Database>['db'], searchAi: SearchAi): SearchIndexer {
  return createSearchIndexer({
    repository: createSemanticRepository(ownTables<CatalogTables, Database>(db)),
    model: searchAi,
    logger: pino({ level: 'silent' }),
    lockRetryMs: 25,
  });
}

const embedCalls = () => standIn.calls.batchEmbedContents ?? 0;

/** A menu edit: every dish of the restaurant and the restaurant itself read differently now. */
async function editMenu(word: string): Promise<void> {
  await sql`UPDATE menu_items SET name_fr = name_fr || ${` ${word}`} WHERE restaurant_id = ${restaurantId}`.execute(
    database.db,
  );
  await sql`UPDATE restaurants SET description_fr = description_fr || ${` ${word}`} WHERE id = ${restaurantId}`.execute(
    database.db,
  );
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Whether a run has settled, without waiting for it. */
function settled(promise: Promise<unknown>): () => boolean {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  return () => done;
}

beforeAll(async () => {
  standIn = await startGeminiSearchStandIn();
  database = await createTestDatabase();
  second = createDatabase<Database>({ connectionString: database.url, max: 4 });
  const fixture = generateCatalogFixture({ seed: 41, restaurants: 3, itemsPerRestaurant: ITEMS });
  await insertCatalogFixture(database.db, fixture);
  restaurantId = fixture[0]!.id;
  const live = await sql<{ count: number }>`
    SELECT count(*)::int AS count FROM menu_items
    WHERE restaurant_id = ${restaurantId} AND archived_at IS NULL`.execute(database.db);
  ROWS = live.rows[0]!.count + 1;
  CALLS_FOR_ONE_RESTAURANT = Math.ceil(ROWS / EMBED_BATCH_SIZE);
  expect(CALLS_FOR_ONE_RESTAURANT).toBeGreaterThanOrEqual(2);
  const first = await indexer(database.db, model()).refresh();
  expect(first.stoppedBy).toBeUndefined();
  expect(first.embedded).toBe(first.stale);
}, 120_000);

afterAll(async () => {
  await second?.close();
  await database?.drop();
  await standIn?.close();
});

describe('the embedding job across instances', () => {
  it('two instances refreshing one restaurant at once make the calls one instance makes', async () => {
    const alone = indexer(database.db, model());
    await editMenu('alpha');
    const before = embedCalls();
    const single = await alone.refresh([restaurantId]);
    expect(single).toMatchObject({ stale: ROWS, embedded: ROWS, calls: CALLS_FOR_ONE_RESTAURANT });
    expect(embedCalls() - before).toBe(CALLS_FOR_ONE_RESTAURANT);

    // Both read the change before either writes unless one waits: each run's first call is held
    // until both runs have started.
    await editMenu('beta');
    const leftModel = model();
    const rightModel = model();
    const openLeft = leftModel.hold();
    const openRight = rightModel.hold();
    const left = indexer(database.db, leftModel);
    const right = indexer(second.db, rightModel);
    const raced = embedCalls();
    const runs = Promise.all([left.refresh([restaurantId]), right.refresh([restaurantId])]);
    await until(() => leftModel.entered + rightModel.entered >= 1, 'a first call');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The other run waits for the lock: it has not read, let alone called.
    expect(leftModel.entered + rightModel.entered).toBe(1);
    openLeft();
    openRight();
    const [a, b] = await runs;
    expect(embedCalls() - raced).toBe(CALLS_FOR_ONE_RESTAURANT);
    expect(a.calls + b.calls).toBe(CALLS_FOR_ONE_RESTAURANT);
    expect(a.embedded + b.embedded).toBe(ROWS);
    // The one that waited found nothing left to embed.
    expect([a.stale, b.stale].sort()).toEqual([0, ROWS]);
    expect(a.stoppedBy).toBeUndefined();
    expect(b.stoppedBy).toBeUndefined();
    expect((await alone.refresh([restaurantId])).calls).toBe(0);
  });

  it('a holder whose session is cut mid-run stops, and the other instance embeds the rest', async () => {
    await editMenu('gamma');
    const holderModel = model();
    const openHolder = holderModel.hold();
    const holder = indexer(database.db, holderModel);
    const other = indexer(second.db, model());
    const before = embedCalls();

    const held = holder.refresh([restaurantId]);
    await until(() => holderModel.entered === 1, "the holder's first call");
    const waiting = other.refresh([restaurantId]);
    const otherDone = settled(waiting);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(otherDone()).toBe(false);
    expect(embedCalls() - before).toBe(0);

    // The holder's session ends (its connection cut) while its first Gemini call is in flight.
    const cut = await sql<{ terminated: boolean }>`
      SELECT pg_terminate_backend(pid) AS terminated FROM pg_locks
      WHERE locktype = 'advisory' AND granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(second.db);
    expect(cut.rows).toEqual([{ terminated: true }]);

    const otherRun = await waiting;
    expect(otherRun).toMatchObject({ stale: ROWS, embedded: ROWS, calls: CALLS_FOR_ONE_RESTAURANT });
    expect(otherRun.stoppedBy).toBeUndefined();

    // The holder's call in flight completes (the one call paid twice); it makes no other.
    openHolder();
    const holderRun = await held;
    expect(holderRun).toMatchObject({ calls: 1, stoppedBy: 'lock_lost' });
    expect(embedCalls() - before).toBe(CALLS_FOR_ONE_RESTAURANT + 1);
    // Everything is current, and the holder's pool still works (the dead connection was dropped).
    expect((await holder.refresh([restaurantId])).calls).toBe(0);
  });

  it("a crashed holder's lock goes with its session: the waiting instance then runs", async () => {
    await editMenu('delta');
    const squatter = new pg.Client({ connectionString: database.url });
    await squatter.connect();
    await squatter.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [INDEX_LOCK_KEY]);
    const waiter = indexer(second.db, model());
    const before = embedCalls();
    const waiting = waiter.refresh([restaurantId]);
    const done = settled(waiting);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(done()).toBe(false);
    expect(embedCalls() - before).toBe(0);

    await squatter.end();
    const run = await waiting;
    expect(run).toMatchObject({ stale: ROWS, embedded: ROWS, calls: CALLS_FOR_ONE_RESTAURANT });
    expect(embedCalls() - before).toBe(CALLS_FOR_ONE_RESTAURANT);
  });

  it('an indexer stopped while it waits for the lock gives up without a call', async () => {
    await editMenu('epsilon');
    const squatter = new pg.Client({ connectionString: database.url });
    await squatter.connect();
    try {
      await squatter.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [INDEX_LOCK_KEY]);
      const waiter = indexer(second.db, model());
      const before = embedCalls();
      const waiting = waiter.refresh([restaurantId]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await waiter.stop();
      expect(await waiting).toMatchObject({ calls: 0, stoppedBy: 'stopping' });
      expect(embedCalls() - before).toBe(0);
    } finally {
      await squatter.end();
    }
  });
});
