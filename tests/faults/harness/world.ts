import { randomBytes, randomInt } from 'node:crypto';
import { customerWalletId, providerClearingId, worldId, type Provider } from '../../../ledger/rules/index.js';
import {
  SIMULATOR_CREDENTIALS,
  startSimulators,
  type RunningSimulators,
} from '../../../src/modules/payments/simulators/index.js';
import { createTestApp, testEnvironment } from '../../helpers/app.js';
import { createUser, withStepUp, type CreatedUser } from '../../helpers/auth.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { activeRestaurant, post } from '../../integration/catalog/helpers.js';
import { freePort } from '../../integration/payments/helpers.js';
import { appProcess, type AppProcess } from './app-process.js';

/** The app's connections carry this name, so a fault can cut exactly them (pg_terminate_backend). */
export const APP_CONNECTION_NAME = 'faults-app';
export const CUSTOMERS = 6;
export const WALLET_SEED_MINOR = 60_000n;

export interface Customer extends CreatedUser {
  /** A verified MTN number of no magic ending (withdrawals go there). */
  momoPhone: string;
}

export interface FaultWorld {
  database: TestDatabase;
  simulators: RunningSimulators;
  /** The first instance (the only one unless `instances` was asked for). */
  app: AppProcess;
  /** Every instance, on one database and Redis, each on its own port; `apps[0]` is `app`. */
  apps: AppProcess[];
  environment: Record<string, string>;
  redisPrefix: string;
  customers: Customer[];
  owner: CreatedUser;
  driver: CreatedUser;
  /** An admin token with a fresh step-up (payout approvals); valid 5 minutes. */
  adminToken: string;
  restaurantId: string;
  ndoleId: string;
  jusId: string;
  close(): Promise<void>;
}

/** An MTN number of no magic ending (its last digit is 8). */
export function mtnPhone(): string {
  return `+2376${String(randomInt(70, 80))}${String(randomInt(10_000, 99_999))}8`;
}

export interface WorldOptions {
  /** How long a simulated transaction stays PENDING (ms). */
  settleMs?: number;
  /** Extra environment for the app. */
  env?: Record<string, string>;
  /** App processes on the same database and Redis (default 1). Webhooks reach the first. */
  instances?: number;
  /** Extra node arguments for the app's process (a preload). */
  nodeArguments?: readonly string[];
}

function appEnvironment(
  database: TestDatabase,
  simulators: RunningSimulators,
  port: number,
  extra: Record<string, string>,
) {
  const mtn = SIMULATOR_CREDENTIALS.mtn;
  const url = new URL(database.url);
  url.searchParams.set('application_name', APP_CONNECTION_NAME);
  const environment = testEnvironment({
    DATABASE_URL: url.toString(),
    LOG_LEVEL: 'warn',
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    ORDERS_PAYMENT_PORT: 'ledger',
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
    PAYMENT_POLL_INITIAL_DELAY_MS: '300',
    // Short enough that a hanging provider costs a schedule seconds, not minutes.
    PAYMENT_PROVIDER_TIMEOUT_MS: '1500',
    PAYMENT_CIRCUIT_COOLDOWN_MS: '1000',
    // A request the app never answered (killed) frees its key after this lease.
    IDEMPOTENCY_LEASE_SECONDS: '3',
    REQUEST_TIMEOUT_MS: '2500',
    SHUTDOWN_GRACE_MS: '2000',
    SEED_DEMO: 'false',
    // Several schedules' apps and other test files share one PostgreSQL.
    DATABASE_POOL_MAX: '8',
    OUTBOX_ENABLED: 'true',
    REDIS_KEY_PREFIX: `f${randomBytes(4).toString('hex')}:`,
    ...extra,
  });
  return Object.fromEntries(
    Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/**
 * One schedule's world: a fresh database, the provider simulators in the test process (CamPay not
 * deduplicating our references: the worst case), customers with money in their wallets, a
 * restaurant with a menu, a driver, an admin; and the app as a child process, not yet started.
 * The set-up goes through an in-process app on the same database, closed before the load.
 */
export async function faultWorld(options: WorldOptions = {}): Promise<FaultWorld> {
  const database = await createTestDatabase();
  const port = await freePort();
  const simulators = await startSimulators({
    webhookBaseUrl: `http://127.0.0.1:${port}/v1/webhooks`,
    delayMs: options.settleMs ?? 200,
    campayDeduplicatesReferences: false,
    timeoutHoldMs: 4_000,
  });
  const environment = appEnvironment(database, simulators, port, options.env ?? {});
  const setup = await createTestApp({
    database,
    env: { ...environment, DATABASE_URL: database.url, JOB_WORKERS_ENABLED: 'false' },
  });
  try {
    await setup.services.identity.keyRing.signingKey();
    const customers: Customer[] = [];
    for (let index = 0; index < CUSTOMERS; index += 1) {
      const momoPhone = mtnPhone();
      customers.push({ ...(await createUser(setup, { roles: ['customer'], phone: momoPhone })), momoPhone });
    }
    const owner = await createUser(setup, { roles: ['customer', 'restaurant_owner'], phone: mtnPhone() });
    const driver = await createUser(setup, { roles: ['driver'], phone: mtnPhone() });
    const admin = await createUser(setup, { roles: ['admin'] });
    const restaurantId = await activeRestaurant(setup, { owner, admin, customer: customers[0]! });
    const menu = async (path: string, body: Record<string, unknown>) => {
      const answer = await post(
        setup,
        `/v1/restaurants/${restaurantId}/menu/${path}`,
        owner.accessToken,
        body,
      );
      if (answer.statusCode >= 300) throw new Error(`menu set-up failed: ${answer.body}`);
      return answer.json() as { id: string };
    };
    const category = await menu('categories', { name: { fr: 'Plats' } });
    const ndole = await menu('items', { categoryId: category.id, name: { fr: 'Ndolé' }, price: 2500 });
    const jus = await menu('items', { categoryId: category.id, name: { fr: 'Jus de foléré' }, price: 500 });
    await fundLedger(setup.services.ledger, customers);
    const adminToken = await withStepUp(setup, admin);
    await setup.close();
    const processOptions = { nodeArguments: options.nodeArguments ?? [] };
    const apps = [appProcess(environment, port, processOptions)];
    for (let index = 1; index < (options.instances ?? 1); index += 1)
      apps.push(appProcess(environment, await freePort(), processOptions));
    const app = apps[0]!;
    return {
      database,
      simulators,
      app,
      apps,
      environment,
      redisPrefix: environment.REDIS_KEY_PREFIX!,
      customers,
      owner,
      driver,
      adminToken,
      restaurantId,
      ndoleId: ndole.id,
      jusId: jus.id,
      async close() {
        await Promise.all(apps.map((instance) => instance.stop()));
        await simulators.close();
        // FAULT_KEEP_DATABASE=1 keeps it for a look after a failure (its name is in the output).
        if (process.env.FAULT_KEEP_DATABASE === '1') {
          console.log(`[faults] database kept: ${database.name}`);
          await database.close();
        } else await database.drop();
      },
    };
  } catch (error) {
    await setup.close();
    await simulators.close();
    await database.drop();
    throw error;
  }
}

type Ledger = Awaited<ReturnType<typeof createTestApp>>['services']['ledger'];

/** Money in the customers' wallets, and our float at each provider (payouts are held against it). */
async function fundLedger(ledger: Ledger, customers: Customer[]): Promise<void> {
  const providers: Provider[] = ['campay', 'mtn_momo'];
  const outcomes = await ledger.submit([
    ...providers.map((provider) => ({
      id: `faults:float:${provider}`,
      debitAccountId: providerClearingId(provider, 'XAF'),
      creditAccountId: worldId('XAF'),
      amountMinor: 10_000_000n,
      currency: 'XAF' as const,
      code: 'adjustment' as const,
      flags: {},
    })),
    ...customers.map((customer) => ({
      id: `faults:wallet:${customer.userId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: customerWalletId(customer.userId, 'XAF'),
      amountMinor: WALLET_SEED_MINOR,
      currency: 'XAF' as const,
      code: 'adjustment' as const,
      flags: {},
    })),
  ]);
  const refused = outcomes.filter((outcome) => outcome.result !== 'ok');
  if (refused.length > 0) throw new Error(`funding refused: ${JSON.stringify(refused)}`);
}
