/**
 * The rendered menu, cached in memory per (restaurant, language) with its raw and gzip bytes and
 * ETag. Every write in this process invalidates the restaurant at once; an entry also expires at
 * the next instant its "orderable now" marks can change (opening, closing, a schedule edge) and
 * after `ttlMs`, which bounds how stale another API instance's writes can look.
 * Bounded: at most `maxEntries`, the least recently read evicted first (lru-cache). Concurrent
 * misses share one render; a render that started before an invalidation never stores its result.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { LRUCache } from 'lru-cache';

export interface RenderedMenu {
  version: number;
  etag: string;
  raw: Buffer;
  gzip: Buffer;
  expiresAtMs: number;
  /** False for a restaurant not (yet) active: only its owner or an admin may see it. */
  active: boolean;
}

export interface MenuCache {
  get(restaurantId: string, language: string, nowMs: number): RenderedMenu | undefined;
  /** Loads through `render` once per key even under concurrent misses. */
  load(
    restaurantId: string,
    language: string,
    nowMs: number,
    render: () => Promise<
      { body: unknown; version: number; validUntilMs: number; active: boolean } | undefined
    >,
  ): Promise<RenderedMenu | undefined>;
  invalidate(restaurantId: string): void;
  size(): number;
}

export function renderMenuBytes(
  body: unknown,
  version: number,
  expiresAtMs: number,
  active = true,
): RenderedMenu {
  const raw = Buffer.from(JSON.stringify(body));
  const hash = createHash('sha1').update(raw).digest('base64url').slice(0, 16);
  return {
    version,
    etag: `"m${version}-${hash}"`,
    raw,
    gzip: gzipSync(raw, { level: 6 }),
    expiresAtMs,
    active,
  };
}

export function createMenuCache(options: { ttlMs: number; maxEntries: number }): MenuCache {
  const entries = new LRUCache<string, RenderedMenu>({ max: options.maxEntries });
  const inFlight = new Map<string, Promise<RenderedMenu | undefined>>();
  // Bumped on invalidation, so a render that started before a write never stores its stale result.
  const generations = new Map<string, number>();
  const key = (restaurantId: string, language: string) => `${restaurantId}:${language}`;

  function get(restaurantId: string, language: string, nowMs: number): RenderedMenu | undefined {
    const entry = entries.get(key(restaurantId, language));
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      entries.delete(key(restaurantId, language));
      return undefined;
    }
    return entry;
  }

  return {
    get,
    async load(restaurantId, language, nowMs, render) {
      const cached = get(restaurantId, language, nowMs);
      if (cached !== undefined) return cached;
      const entryKey = key(restaurantId, language);
      const pending = inFlight.get(entryKey);
      if (pending !== undefined) return pending;
      const generation = generations.get(restaurantId) ?? 0;
      const promise = (async () => {
        const rendered = await render();
        if (rendered === undefined) return undefined;
        const expiresAtMs = Math.min(nowMs + options.ttlMs, rendered.validUntilMs);
        const menu = renderMenuBytes(rendered.body, rendered.version, expiresAtMs, rendered.active);
        if ((generations.get(restaurantId) ?? 0) === generation) {
          entries.set(entryKey, menu);
        }
        return menu;
      })().finally(() => inFlight.delete(entryKey));
      inFlight.set(entryKey, promise);
      return promise;
    },
    invalidate(restaurantId) {
      generations.set(restaurantId, (generations.get(restaurantId) ?? 0) + 1);
      for (const language of ['fr', 'en']) entries.delete(key(restaurantId, language));
      if (generations.size > options.maxEntries * 4) generations.clear();
    },
    size: () => entries.size,
  };
}
