/**
 * The embedding job (issue #27): after a menu or restaurant change, and on a slow sweep, every
 * live dish and active restaurant whose text (or the embedding model) changed since it was last
 * embedded is embedded again, in batches of EMBED_BATCH_SIZE, one budgeted Gemini call per batch.
 * Idempotent by content hash: a second run with nothing changed makes no call. A failed or
 * unaffordable batch is left for the next run (its rows keep their old vector, or none: full text
 * still finds them).
 *
 * Once across instances: every instance schedules runs (its own menu edits, its sweep), but a run
 * holds a PostgreSQL session advisory lock (repository `withIndexLock`) from before it reads what
 * is stale until its last write. A run that finds the lock held waits (retrying every
 * LOCK_RETRY_MS) and then reads again, so the holder's writes are seen and a change two instances
 * both scheduled is embedded, and paid for, once. The lock dies with the holder's session: a
 * crashed holder frees it at once, and a holder whose session was cut stops before its next
 * Gemini call (stoppedBy `lock_lost`; the call already in flight is at worst paid twice, and its
 * write is the same vector). One lock for all restaurants: a sweep covers them all, and runs are
 * a few batches long.
 */
import type { Logger } from 'pino';
import { EMBED_BATCH_SIZE, contentHash, itemEmbeddingText, restaurantEmbeddingText } from './rules.js';
import { SearchAiError, type SearchAi } from './port.js';
import type { EmbeddingRow, SemanticRepository } from './repository.js';

export interface IndexRun {
  /** Rows whose text or model changed. */
  stale: number;
  embedded: number;
  /** Gemini calls made (one per batch). */
  calls: number;
  /**
   * Why the run stopped early, if it did: budget spent, Gemini failing, `lock_lost` (its lock
   * session ended mid-run), `stopping` (the indexer stopped while it waited for the lock).
   */
  stoppedBy?: string;
}

export interface SearchIndexer {
  /** Embeds what changed: of these restaurants, or of every active one. */
  refresh(restaurantIds?: readonly string[]): Promise<IndexRun>;
  /** Asks for a refresh of a restaurant soon (debounced: a burst of menu edits is one run). */
  schedule(restaurantId: string): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A burst of edits of one menu is embedded once, this long after the last. */
export const REFRESH_DEBOUNCE_MS = 2_000;
/** The sweep: catches other instances' writes and batches that failed. */
export const SWEEP_INTERVAL_MS = 10 * 60_000;
/** A run finding another instance's run under way asks for the lock again this often. */
export const LOCK_RETRY_MS = 500;

export function createSearchIndexer(deps: {
  repository: SemanticRepository;
  model: SearchAi;
  logger: Logger;
  /** How often a waiting run asks for the lock again (LOCK_RETRY_MS). */
  lockRetryMs?: number;
}): SearchIndexer {
  const { repository, model, logger } = deps;
  const lockRetryMs = deps.lockRetryMs ?? LOCK_RETRY_MS;
  let closing = false;
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let sweep: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;

  /** One run under the lock; waits while another instance's run holds it. */
  async function refresh(restaurantIds?: readonly string[]): Promise<IndexRun> {
    for (;;) {
      const run = await repository.withIndexLock((held) => embedStale(held, restaurantIds));
      if (run !== undefined) return run;
      if (closing) return { stale: 0, embedded: 0, calls: 0, stoppedBy: 'stopping' };
      await new Promise((resolve) => setTimeout(resolve, lockRetryMs));
    }
  }

  async function embedStale(
    held: () => Promise<boolean>,
    restaurantIds?: readonly string[],
  ): Promise<IndexRun> {
    const name = model.embeddingModel;
    const [items, restaurants] = await Promise.all([
      repository.itemsToEmbed(restaurantIds),
      repository.restaurantsToEmbed(restaurantIds),
    ]);
    const stale: { row: Omit<EmbeddingRow, 'embedding'>; text: string }[] = [];
    for (const item of items) {
      const text = itemEmbeddingText({
        nameFr: item.name_fr,
        nameEn: item.name_en,
        descriptionFr: item.description_fr,
        descriptionEn: item.description_en,
        price: Number(item.price),
        cuisines: item.cuisines,
      });
      const hash = contentHash(name, text);
      if (item.content_hash !== hash || item.model !== name)
        stale.push({
          row: {
            kind: 'item',
            id: item.id,
            restaurantId: item.restaurant_id,
            contentHash: hash,
            model: name,
          },
          text,
        });
    }
    for (const restaurant of restaurants) {
      const text = restaurantEmbeddingText({
        name: restaurant.name,
        descriptionFr: restaurant.description_fr,
        descriptionEn: restaurant.description_en,
        cuisines: restaurant.cuisines,
        priceAverage: Number(restaurant.price_average),
      });
      const hash = contentHash(name, text);
      if (restaurant.content_hash !== hash || restaurant.model !== name)
        stale.push({
          row: {
            kind: 'restaurant',
            id: restaurant.id,
            restaurantId: restaurant.id,
            contentHash: hash,
            model: name,
          },
          text,
        });
    }
    const run: IndexRun = { stale: stale.length, embedded: 0, calls: 0 };
    for (let start = 0; start < stale.length; start += EMBED_BATCH_SIZE) {
      const batch = stale.slice(start, start + EMBED_BATCH_SIZE);
      // Another instance may hold the lock once this session is gone: it embeds the rest.
      if (!(await held())) {
        run.stoppedBy = 'lock_lost';
        break;
      }
      try {
        run.calls += 1;
        const vectors = await model.embed(
          batch.map((entry) => entry.text),
          'document',
        );
        await repository.saveEmbeddings(
          batch.map((entry, index) => ({ ...entry.row, embedding: vectors[index]! })),
        );
        run.embedded += batch.length;
      } catch (error) {
        if (!(error instanceof SearchAiError)) throw error;
        if (error.reason === 'budget_spent') run.calls -= 1;
        run.stoppedBy = error.reason;
        break;
      }
    }
    if (restaurantIds === undefined && run.stoppedBy === undefined) await repository.pruneEmbeddings();
    if (run.stale > 0)
      logger.info(
        { stale: run.stale, embedded: run.embedded, calls: run.calls, stoppedBy: run.stoppedBy },
        'search embeddings refreshed',
      );
    return run;
  }

  /** One run at a time in this instance: each waits for the one before. */
  function serialised(restaurantIds?: readonly string[]): Promise<IndexRun> {
    const next = running.then(() => refresh(restaurantIds));
    running = next.catch((error: unknown) => logger.warn({ err: error }, 'search embedding refresh failed'));
    return next;
  }

  function flush() {
    timer = undefined;
    if (pending.size === 0 || stopped) return;
    const ids = [...pending];
    pending.clear();
    void serialised(ids).catch(() => undefined);
  }

  return {
    refresh: serialised,
    schedule(restaurantId) {
      if (stopped) return;
      pending.add(restaurantId);
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(flush, REFRESH_DEBOUNCE_MS);
      timer.unref();
    },
    async start() {
      stopped = false;
      closing = false;
      void serialised().catch(() => undefined);
      sweep = setInterval(() => void serialised().catch(() => undefined), SWEEP_INTERVAL_MS);
      sweep.unref();
    },
    async stop() {
      stopped = true;
      closing = true;
      if (timer !== undefined) clearTimeout(timer);
      if (sweep !== undefined) clearInterval(sweep);
      pending.clear();
      await running;
    },
  };
}
