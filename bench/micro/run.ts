/**
 * Micro-benchmarks of in-process hot paths that issue #16 touched (caches, phone parsing), run
 * without PostgreSQL or Redis: an access token verified from memory, a rendered menu and an
 * order-catalog entry read from their caches, phone numbers parsed and their operator found.
 *
 *   npm run bench:micro -- --label before|after
 *
 * Each figure is the median of 5 rounds of a fixed number of calls, in operations per second.
 * Results are merged into bench/results/micro.json under the label, so a change can be measured
 * before and after on the same machine.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import { createMenuCache } from '../../src/modules/catalog/menu-cache.js';
import { createOrderCatalogCache } from '../../src/modules/catalog/order-catalog-cache.js';
import type { RestaurantRecord } from '../../src/modules/catalog/model.js';
import type { KeyRing, SigningKey } from '../../src/modules/identity/keys.js';
import { createMemoryKeyValue } from '../../src/modules/identity/kv.js';
import { createTokenService } from '../../src/modules/identity/tokens.js';
import * as phones from './phones.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';

const ROUNDS = 5;

async function measure(calls: number, run: (index: number) => unknown): Promise<number> {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < calls; index += 1) {
      const result = run(index);
      if (result instanceof Promise) await result;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rates.push(calls / seconds);
  }
  rates.sort((a, b) => a - b);
  return Math.round(rates[Math.floor(ROUNDS / 2)]!);
}

async function tokenVerifyHit(): Promise<number> {
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const key: SigningKey = {
    kid: 'bench',
    publicJwk: await exportJWK(pair.publicKey),
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    createdAt: new Date(),
    retireAfter: new Date(Date.now() + 3_600_000),
    verifyUntil: new Date(Date.now() + 7_200_000),
  };
  const keyRing: KeyRing = {
    signingKey: async () => key,
    verificationKey: async (kid) => (kid === key.kid ? key : undefined),
    jwks: async () => ({ keys: [key.publicJwk] }),
    rotate: async () => key,
  };
  const kv = createMemoryKeyValue();
  const tokens = createTokenService({
    keyRing,
    kv,
    repository: {
      revokeTokensBefore: async () => undefined,
      revocationOf: async () => ({ revoked_at: null, tokens_revoked_before: null }),
      recentRevocations: async () => ({ sessionIds: [], users: [] }),
    } as never,
  });
  const issued = await Promise.all(
    Array.from({ length: 100 }, (_, index) =>
      tokens.issue({
        userId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
        sessionId: `10000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
        kind: 'user',
        roles: ['customer'],
        twoFactorVerified: false,
      }),
    ),
  );
  for (const { token } of issued) await tokens.verify(token); // remembered from here on
  return measure(100_000, (index) => tokens.verify(issued[index % issued.length]!.token));
}

async function menuCacheHit(): Promise<number> {
  const cache = createMenuCache({ ttlMs: 3_600_000, maxEntries: 1_000 });
  const now = Date.now();
  const ids = Array.from({ length: 200 }, (_, index) => `restaurant-${index}`);
  for (const id of ids) {
    await cache.load(id, 'fr', now, async () => ({
      body: { id, categories: [{ name: 'Plats', items: [{ name: 'Ndolé', priceMinor: 2500 }] }] },
      version: 1,
      validUntilMs: now + 3_600_000,
      active: true,
    }));
  }
  return measure(1_000_000, (index) => cache.get(ids[index % ids.length]!, 'fr', now));
}

async function orderCatalogCacheHit(): Promise<number> {
  const restaurant = { id: 'r', name: 'Chez Mama' } as unknown as RestaurantRecord;
  const cache = createOrderCatalogCache(
    {
      findRestaurant: async () => restaurant,
      loadItems: async () => ({ items: [], categories: [], modifierGroups: [] }),
    },
    { ttlMs: 3_600_000, maxRestaurants: 1_000 },
  );
  const ids = Array.from({ length: 200 }, (_, index) => `restaurant-${index}`);
  const items = ['item-1', 'item-2'];
  for (const id of ids) await cache.read(id, items);
  return measure(500_000, (index) => cache.read(ids[index % ids.length]!, items));
}

const SPELLINGS = ['+237 670 12 34 56', '00237691234567', '237655123456', '681234567', '+33612345678', 'abc'];

async function phoneParse(): Promise<number> {
  return measure(500_000, (index) => phones.normalize(SPELLINGS[index % SPELLINGS.length]!));
}

async function phoneOperator(): Promise<number> {
  return measure(500_000, (index) => phones.operator(SPELLINGS[index % SPELLINGS.length]!));
}

const labelIndex = process.argv.indexOf('--label');
const label = labelIndex === -1 ? 'current' : (process.argv[labelIndex + 1] ?? 'current');
const figures = {
  tokenVerifyCacheHitPerSecond: await tokenVerifyHit(),
  menuCacheHitPerSecond: await menuCacheHit(),
  orderCatalogCacheHitPerSecond: await orderCatalogCacheHit(),
  phoneNormalizePerSecond: await phoneParse(),
  phoneOperatorPerSecond: await phoneOperator(),
};
const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results', 'micro.json');
const previous = existsSync(file)
  ? (JSON.parse(readFileSync(file, 'utf8')) as { runs?: Record<string, unknown> })
  : {};
const run = { revision: gitRevision(), machine: await describeMachine(), rounds: ROUNDS, figures };
console.log(JSON.stringify({ label, ...run }, null, 2));
writeResult('micro', { runs: { ...previous.runs, [label]: run } });
