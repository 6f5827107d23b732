/**
 * Files benchmarks (issue #18): the upload of a ~2 MB phone photo (4000 x 3000 JPEG) through
 * POST /v1/files, re-encoded into six renditions (small, medium, large in WebP and JPEG) and
 * attached to a menu item; then serving a public rendition (GET /v1/files/{id}/medium.webp)
 * with autocannon, read against bench/results/http-baseline.json. The real app runs in-process
 * against a fresh database, storing on the local disk.
 *
 *   npm run bench:files                  (BENCH_UPLOADS=40, BENCH_DURATION_S=10)
 *   BENCH_UPLOADS=3 BENCH_DURATION_S=2 BENCH_WRITE=false npm run bench:files    (a smoke run)
 */
import '../lib/local-postgres.js'; // first: chooses how the app reaches PostgreSQL
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { startBenchApp } from '../lib/app.js';
import { load, type LoadFigures } from '../lib/autocannon.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';
import { insertCatalogFixture } from '../../src/modules/catalog/fixtures.js';
import { demoRestaurants } from '../../src/modules/catalog/seed.js';
import type { TestApp } from '../../tests/helpers/app.js';
import { createUser } from '../../tests/helpers/auth.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 40);
/** Two cores: two uploads at once keep both busy (sharp also uses libvips' own threads). */
const UPLOAD_CONCURRENCY = Number(process.env.BENCH_UPLOAD_CONCURRENCY ?? 2);
const WRITE = process.env.BENCH_WRITE !== 'false';

function baseline(): { requestsPerSecond: number; latencyP99Ms: number; measuredAt?: string } | undefined {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results', 'http-baseline.json');
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as {
    figures: LoadFigures;
    machine?: { measuredAt?: string };
  };
  return {
    requestsPerSecond: parsed.figures.requestsPerSecond,
    latencyP99Ms: parsed.figures.latencyP99Ms,
    measuredAt: parsed.machine?.measuredAt,
  };
}

/**
 * A phone-like photo, about 2 MB: coarse noise enlarged to 4000 x 3000 (shapes that survive
 * downscaling, so renditions weigh what real ones do) under fine noise (sensor grain).
 */
async function phonePhoto(): Promise<Buffer> {
  const coarse = await sharp({
    create: {
      width: 160,
      height: 120,
      channels: 3,
      background: { r: 128, g: 128, b: 128 },
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .png()
    .toBuffer();
  const grain = await sharp({
    create: {
      width: 4000,
      height: 3000,
      channels: 3,
      background: { r: 0, g: 0, b: 0 },
      noise: { type: 'gaussian', mean: 128, sigma: 8 },
    },
  })
    .png()
    .toBuffer();
  return sharp(coarse)
    .resize(4000, 3000, { kernel: 'cubic' })
    .composite([{ input: grain, blend: 'overlay' }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const loadAverageAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
const bench = await startBenchApp();
try {
  const owner = await createUser({ services: bench.services } as TestApp, {
    roles: ['customer', 'restaurant_owner'],
  });
  const [restaurant] = demoRestaurants([owner.userId]);
  await insertCatalogFixture(bench.services.db, [restaurant!]);
  const itemId = restaurant!.items[0]!.id;
  const photo = await phonePhoto();

  const uploadOnce = async (): Promise<{ ms: number; id: string }> => {
    const form = new FormData();
    form.set('purpose', 'menu_item_photo');
    form.set('restaurantId', restaurant!.id);
    form.set('itemId', itemId);
    form.set('file', new Blob([photo], { type: 'image/jpeg' }), 'IMG_0001.jpg');
    const started = performance.now();
    const response = await fetch(`${bench.url}/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.accessToken}` },
      body: form,
    });
    const body = (await response.json()) as { id: string };
    if (response.status !== 201) throw new Error(`upload failed: ${response.status} ${JSON.stringify(body)}`);
    return { ms: performance.now() - started, id: body.id };
  };

  await uploadOnce(); // warm-up: sharp's first call loads libvips' codecs
  const latencies: number[] = [];
  const startedAt = performance.now();
  let next = 0;
  let lastId = '';
  await Promise.all(
    Array.from({ length: UPLOAD_CONCURRENCY }, async () => {
      while (next < UPLOADS) {
        next += 1;
        const { ms, id } = await uploadOnce();
        latencies.push(ms);
        lastId = id;
      }
    }),
  );
  const elapsedS = (performance.now() - startedAt) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  const uploads = {
    target: 'POST /v1/files (menu_item_photo): a 4000 x 3000 JPEG into small/medium/large WebP and JPEG',
    photoBytes: photo.length,
    uploads: UPLOADS,
    concurrency: UPLOAD_CONCURRENCY,
    filesPerSecond: round(UPLOADS / elapsedS),
    latencyP50Ms: round(percentile(latencies, 0.5)),
    latencyP95Ms: round(percentile(latencies, 0.95)),
    latencyMaxMs: round(latencies.at(-1)!),
  };

  const renditionUrl = `${bench.url}/v1/files/${lastId}/medium.webp`;
  const probe = await fetch(renditionUrl);
  const renditionBytes = (await probe.arrayBuffer()).byteLength;
  await load({ url: renditionUrl, duration: 2 });
  const live = await load({
    url: `${bench.url}/health/live`,
    duration: Math.max(3, Math.round(DURATION_S / 2)),
  });
  const serving = await load({ url: renditionUrl, duration: DURATION_S });
  const reference = baseline();

  const machine = await describeMachine(async () => {
    const { rows } = await bench.database.pool.query<{ server_version: string }>('show server_version');
    return rows[0]?.server_version ?? 'unknown';
  });
  const result = {
    benchmark: 'files',
    revision: gitRevision(),
    machine: {
      ...machine,
      loadAverageAtStart,
      loadAverageAtEnd: os.loadavg().map((value) => Math.round(value * 100) / 100),
    },
    store: bench.services.files.store.kind,
    httpBaseline: reference ?? 'bench/results/http-baseline.json not found: run npm run bench:http first',
    upload: uploads,
    publicRendition: {
      target: 'GET /v1/files/{id}/medium.webp (public, immutable, from the disk store)',
      renditionBytes,
      figures: serving,
      healthLiveJustBefore: { requestsPerSecond: live.requestsPerSecond, latencyP99Ms: live.latencyP99Ms },
      ofHealthLiveJustBefore:
        Math.round((serving.requestsPerSecond / Math.max(1, live.requestsPerSecond)) * 1000) / 1000,
      ofBaseline:
        reference === undefined
          ? undefined
          : Math.round((serving.requestsPerSecond / reference.requestsPerSecond) * 1000) / 1000,
    },
  };
  if (WRITE) console.log(`written ${writeResult('files', result)}`);
  console.log(JSON.stringify({ upload: result.upload, publicRendition: result.publicRendition }, null, 2));
} finally {
  await bench.close();
}
