import '../lib/local-postgres.js'; // first: chooses how the app reaches PostgreSQL
import argon2 from 'argon2';
import os from 'node:os';
import { ARGON2_OPTIONS } from '../../src/modules/identity/password-hashing.js';
import { createUser, DEFAULT_TEST_PASSWORD } from '../../tests/helpers/auth.js';
import type { TestApp } from '../../tests/helpers/app.js';
import { startBenchApp } from '../lib/app.js';
import { load } from '../lib/autocannon.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';

/**
 * Identity figures (issue 5): argon2id cost per sign-in at the spec's parameters (64 MiB,
 * t=3, p=4), sign-ins per second through HTTP (per core), and access-token verifications per
 * second (signature only, and with the revocation check against Redis the hook performs).
 */
const HASH_SAMPLES = 20;
const VERIFY_SECONDS = 3;

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

async function argon2Figures() {
  const hashMs: number[] = [];
  const verifyMs: number[] = [];
  let hash = '';
  for (let index = 0; index < HASH_SAMPLES; index += 1) {
    let started = performance.now();
    hash = await argon2.hash(`Bench-Password-${index}!`, ARGON2_OPTIONS);
    hashMs.push(performance.now() - started);
    started = performance.now();
    await argon2.verify(hash, `Bench-Password-${index}!`);
    verifyMs.push(performance.now() - started);
  }
  const summary = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const round = (value: number) => Math.round(value * 10) / 10;
    return {
      meanMs: round(values.reduce((sum, value) => sum + value, 0) / values.length),
      p50Ms: round(percentile(sorted, 0.5)),
      p95Ms: round(percentile(sorted, 0.95)),
    };
  };
  return {
    parameters: {
      memoryKiB: ARGON2_OPTIONS.memoryCost,
      time: ARGON2_OPTIONS.timeCost,
      parallelism: ARGON2_OPTIONS.parallelism,
    },
    samples: HASH_SAMPLES,
    hash: summary(hashMs),
    verify: summary(verifyMs),
  };
}

/** Runs `work` with `concurrency` in flight for `seconds`; returns completions per second. */
async function throughput(
  work: () => Promise<unknown>,
  concurrency: number,
  seconds: number,
): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await work();
        done += 1;
      }
    }),
  );
  return Math.round(done / ((performance.now() - started) / 1000));
}

async function tokenFigures(bench: { services: TestApp['services'] }, token: string) {
  const { identity } = bench.services;
  const { jwtVerify } = await import('jose');
  const kid = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
  const key = (await identity.keyRing.verificationKey(kid))!.publicKey;
  await identity.tokens.verify(token);
  return {
    signatureOnlyPerSecond: await throughput(
      () => jwtVerify(token, key, { algorithms: ['EdDSA'] }),
      1,
      VERIFY_SECONDS,
    ),
    withRevocationCheckPerSecond: await throughput(() => identity.tokens.verify(token), 64, VERIFY_SECONDS),
    kvStore: identity.kv.kind,
  };
}

const bench = await startBenchApp({ AUTH_DELAY_BASE_MS: '1' });
try {
  const cores = os.cpus().length;
  const user = await createUser(bench as unknown as TestApp, { password: DEFAULT_TEST_PASSWORD });
  const argon = await argon2Figures();
  const body = JSON.stringify({ phone: user.phone, password: DEFAULT_TEST_PASSWORD });
  const loginRequest = {
    url: `${bench.url}/v1/auth/login`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body,
  };
  await load({ ...loginRequest, duration: 2, connections: 4 }); // warm-up
  const logins = await load({ ...loginRequest, duration: 10, connections: 16 });
  const me = await load({
    url: `${bench.url}/v1/me`,
    headers: { authorization: `Bearer ${user.accessToken}` },
    duration: 10,
    connections: 50,
  });
  const tokens = await tokenFigures(bench, user.accessToken);
  const machine = await describeMachine(async () => {
    const { rows } = await bench.database.pool.query<{ server_version: string }>('show server_version');
    return rows[0]?.server_version ?? 'unknown';
  });
  const result = {
    benchmark: 'auth',
    revision: gitRevision(),
    machine,
    /** Other work on the machine skews every figure; read them with this in mind. */
    loadAverageAtEnd: os.loadavg().map((value) => Math.round(value * 100) / 100),
    argon2id: argon,
    login: {
      target:
        'POST /v1/auth/login (argon2id verify, session + refresh token rows, audit line, EdDSA token), 16 connections',
      ...logins,
      perCore: Math.round((logins.requestsPerSecond / cores) * 10) / 10,
      uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    },
    accessTokenVerification: tokens,
    authenticatedRead: { target: 'GET /v1/me (auth hook + one row), 50 connections', ...me },
  };
  const file = writeResult('auth', result);
  console.log(
    `argon2id (64 MiB, t=3, p=4): hash ${argon.hash.meanMs} ms, verify ${argon.verify.meanMs} ms (mean of ${HASH_SAMPLES})`,
  );
  console.log(
    `POST /v1/auth/login: ${logins.requestsPerSecond} logins/s on ${cores} cores = ${result.login.perCore} per core, p99 ${logins.latencyP99Ms} ms (non-2xx ${logins.non2xx})`,
  );
  console.log(
    `access-token verification: ${tokens.signatureOnlyPerSecond}/s signature only (one core), ${tokens.withRevocationCheckPerSecond}/s with the ${tokens.kvStore} revocation check`,
  );
  console.log(`GET /v1/me: ${me.requestsPerSecond} req/s, p99 ${me.latencyP99Ms} ms`);
  console.log(`written to ${file}`);
} finally {
  await bench.close();
}
