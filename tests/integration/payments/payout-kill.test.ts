import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverPayableId, providerClearingId, worldId } from '../../../ledger/rules/index.js';
import {
  SIMULATOR_CREDENTIALS,
  startSimulators,
  type RunningSimulators,
} from '../../../src/modules/payments/simulators/index.js';
import { createTestApp, testEnvironment, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, withStepUp } from '../../helpers/auth.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { key, until } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let database: TestDatabase;
let simulators: RunningSimulators;
let environment: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  // A CamPay stand-in that does NOT deduplicate our external reference (CamPay promises nothing):
  // a blind resend would pay twice, so only asking the provider first can keep this to one.
  simulators = await startSimulators({ delayMs: 50, campayDeduplicatesReferences: false });
  const mtn = SIMULATOR_CREDENTIALS.mtn;
  // Every process (two apps and the child) talks to the same simulators and the same Redis queue.
  environment = {
    PAYMENT_SIMULATORS: 'false',
    CAMPAY_BASE_URL: simulators.campayUrl,
    CAMPAY_USERNAME: SIMULATOR_CREDENTIALS.campay.username,
    CAMPAY_PASSWORD: SIMULATOR_CREDENTIALS.campay.password,
    CAMPAY_SECRET: SIMULATOR_CREDENTIALS.campay.webhookKey,
    MTN_MOMO_BASE_URL: simulators.mtnUrl,
    MTN_MOMO_API_USER: mtn.collection.apiUser,
    MTN_MOMO_API_KEY: mtn.collection.apiKey,
    MTN_MOMO_SUBSCRIPTION_KEY: mtn.collection.subscriptionKey,
    MTN_MOMO_DISBURSEMENT_API_USER: mtn.disbursement.apiUser,
    MTN_MOMO_DISBURSEMENT_API_KEY: mtn.disbursement.apiKey,
    MTN_MOMO_DISBURSEMENT_SUBSCRIPTION_KEY: mtn.disbursement.subscriptionKey,
    REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
    JWT_SECRET: randomBytes(24).toString('hex'),
    JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  };
});
afterAll(async () => {
  await simulators?.close();
  await database?.drop();
});

function app(jobWorkers: boolean): Promise<TestApp> {
  return createTestApp({ database, env: { ...environment, JOB_WORKERS_ENABLED: String(jobWorkers) } });
}

function runChild(payoutId: string): Promise<{ killedAfterDisburse: boolean }> {
  const env = testEnvironment({ ...environment, DATABASE_URL: database.url, JOB_WORKERS_ENABLED: 'false' });
  const child = fork(path.join(here, 'payout-worker-child.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, CHILD_ENV: JSON.stringify(env), PAYOUT_ID: payoutId },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the child never reached the disbursement'));
    }, 60_000);
    child.on('message', (message: { disbursed?: string; finished?: boolean }) => {
      if (message.disbursed !== undefined) {
        killed = true;
        child.kill('SIGKILL'); // between the provider's answer and anything recorded on our side
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ killedAfterDisburse: killed });
    });
  });
}

describe('payout worker killed mid-job', () => {
  // Starts a worker process and two apps: 15 s on a quiet machine, much more under a full parallel run.
  it(
    'a worker killed right after the disbursement and retried pays exactly once, against a provider that does not deduplicate',
    { timeout: 120_000 },
    async () => {
      // App A (no workers): a driver with earnings requests a payout; an admin approves it.
      const first = await app(false);
      const driver = await createUser(first, { roles: ['driver'], phone: '+237670077701' });
      const admin = await createUser(first, { roles: ['admin'] });
      const ledger = first.services.ledger;
      const outcomes = await ledger.submit([
        {
          id: 'test:float',
          debitAccountId: providerClearingId('campay', 'XAF'),
          creditAccountId: worldId('XAF'),
          amountMinor: 100_000n,
          currency: 'XAF',
          code: 'adjustment',
          flags: {},
        },
        {
          id: 'test:earnings',
          debitAccountId: worldId('XAF'),
          creditAccountId: driverPayableId(driver.userId, 'XAF'),
          amountMinor: 8_000n,
          currency: 'XAF',
          code: 'adjustment',
          flags: {},
        },
      ]);
      expect(outcomes.map((outcome) => outcome.result)).toEqual(['ok', 'ok']);
      const requested = await first.app.inject({
        method: 'POST',
        url: '/v1/payouts',
        headers: { ...authHeader(driver.accessToken), 'idempotency-key': key() },
        payload: { payeeKind: 'driver', amountMinor: 8_000 },
      });
      expect(requested.statusCode, requested.body).toBe(201);
      const payoutId = requested.json().payoutId as string;
      const approved = await first.app.inject({
        method: 'POST',
        url: `/v1/admin/payouts/${payoutId}/approve`,
        headers: authHeader(await withStepUp(first, admin)),
      });
      expect(approved.statusCode, approved.body).toBe(200);
      await first.close(); // its queued job waits in Redis; its ledger lease is released

      // A worker process takes the payout and is SIGKILLed right after the provider said yes.
      expect(await runChild(payoutId)).toEqual({ killedAfterDisburse: true });
      const disbursements = () =>
        simulators.campay.engine
          .list()
          .filter(
            (transaction) =>
              transaction.kind === 'disbursement' && transaction.externalReference === payoutId,
          );
      expect(disbursements()).toHaveLength(1);

      // App B (with workers) picks the queued job up again and finishes it.
      const second = await app(true);
      try {
        const row = await until(
          () => second.services.payments.payouts.get(payoutId),
          (payout) => payout?.status === 'SUCCEEDED' || payout?.status === 'FAILED',
          30_000,
        );
        expect(row!.status).toBe('SUCCEEDED');
        expect(row!.attempts).toBe(2);
        expect(disbursements()).toHaveLength(1);
        expect(row!.provider_reference).toBe(disbursements()[0]!.reference);
        const payable = await second.services.ledger.account(driverPayableId(driver.userId, 'XAF'));
        expect(payable!.debitsPosted).toBe(8_000n);
        expect(payable!.debitsPending).toBe(0n);
        expect(payable!.availableMinor).toBe(0n);
        // Running the job once more changes nothing.
        await second.services.payments.payouts.process(payoutId);
        expect(disbursements()).toHaveLength(1);
        expect(
          (await second.services.ledger.account(driverPayableId(driver.userId, 'XAF')))!.debitsPosted,
        ).toBe(8_000n);
      } finally {
        await second.close();
      }
    },
  );
});
