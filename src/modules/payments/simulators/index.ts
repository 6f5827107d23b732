import { createCampaySimulator } from './campay.js';
import { createMtnSimulator } from './mtn-momo.js';
import { createOrangeSimulator } from './orange-money.js';

export { MAGIC_ENDINGS, MAGIC_NUMBERS, magicBehaviour, type MagicBehaviour } from './magic.js';
export type { OutageMode } from './control.js';

/**
 * The provider simulators, started in-process by the embedded default and the tests, or alone
 * by `npm run simulators`. Their credentials are fixed and public: they guard nothing, they
 * only make our adapters go through the same authentication steps as against the real APIs.
 */
export const SIMULATOR_CREDENTIALS = {
  campay: {
    username: 'simulator-campay',
    password: 'simulator-campay-password',
    webhookKey: 'simulator-campay-webhook-key',
  },
  mtn: {
    targetEnvironment: 'sandbox',
    collection: {
      apiUser: '0b5c5b1a-4f5e-4f6a-9a4e-5d0f3c1e2a10',
      apiKey: 'simulator-mtn-collection-api-key',
      subscriptionKey: 'simulator-mtn-collection-subscription-key',
    },
    disbursement: {
      apiUser: '7e2d9c4b-8a1f-4c3d-b2e5-1f6a9d0c3b20',
      apiKey: 'simulator-mtn-disbursement-api-key',
      subscriptionKey: 'simulator-mtn-disbursement-subscription-key',
    },
  },
  orange: {
    consumerKey: 'simulator-orange-consumer-key',
    consumerSecret: 'simulator-orange-consumer-secret',
    authToken: 'simulator-orange-x-auth-token',
    channelMsisdn: '699000000',
    pin: '2222',
  },
} as const;

/** `npm run simulators` listens here. */
export const SIMULATOR_PORTS = { campay: 4101, mtn: 4102, orange: 4103 } as const;

export interface StartSimulatorsOptions {
  /** Our webhook base, e.g. `http://127.0.0.1:3000/v1/webhooks`: CamPay's go to `${base}/campay`. MTN calls back the X-Callback-Url each request names. Unset: CamPay sends none. */
  webhookBaseUrl?: string;
  /** How long a transaction stays PENDING before it settles (default 1000 ms; tests use ~50). */
  delayMs?: number;
  host?: string;
  /** 0 (the default) picks free ports; the CLI uses SIMULATOR_PORTS. */
  ports?: { campay?: number; mtn?: number; orange?: number };
  campayWebhookMethod?: 'GET' | 'POST';
  /** A permanent CamPay app token the simulator also accepts. */
  campayAppToken?: string;
  mtnCallbackMethod?: 'POST' | 'PUT';
  tokenTtlSeconds?: number;
  /** How long the timeout number and the timeout outage hold an answer (default 30 s). */
  timeoutHoldMs?: number;
  /** Each simulator's starting float per operator (default 50 000 000 XAF). */
  initialBalanceMinor?: bigint;
  /** Transactions kept in memory per simulator; the oldest are forgotten past it. */
  maxTransactions?: number;
  /**
   * CamPay answers a reused external reference with the earlier transaction (default true, as
   * integrators report); false makes a second one, as a provider that does not deduplicate may.
   */
  campayDeduplicatesReferences?: boolean;
}

export interface RunningSimulators {
  /** CamPay's API base, `…/api`, as CAMPAY_BASE_URL. */
  campayUrl: string;
  /** MTN MoMo's API base, as MTN_MOMO_BASE_URL. */
  mtnUrl: string;
  /** Orange Money Cameroon's API base, as ORANGE_MONEY_BASE_URL (the Orange fallback). */
  orangeUrl: string;
  orangeControlUrl: string;
  /** Where each control API lives (`${url}/_control/...`). */
  campayControlUrl: string;
  mtnControlUrl: string;
  campay: ReturnType<typeof createCampaySimulator>;
  mtn: ReturnType<typeof createMtnSimulator>;
  orange: ReturnType<typeof createOrangeSimulator>;
  /** Resolves when every webhook already started has been delivered. */
  drainWebhooks(): Promise<void>;
  close(): Promise<void>;
}

export async function startSimulators(options: StartSimulatorsOptions = {}): Promise<RunningSimulators> {
  const delayMs = options.delayMs ?? 1_000;
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 3_600;
  const timeoutHoldMs = options.timeoutHoldMs ?? 30_000;
  const float = options.initialBalanceMinor ?? 50_000_000n;
  const maxTransactions = options.maxTransactions ?? 100_000;
  const base = options.webhookBaseUrl?.replace(/\/+$/, '');

  const campay = createCampaySimulator({
    delayMs,
    ...SIMULATOR_CREDENTIALS.campay,
    ...(options.campayAppToken === undefined ? {} : { appToken: options.campayAppToken }),
    ...(base === undefined ? {} : { webhookUrl: `${base}/campay` }),
    webhookMethod: options.campayWebhookMethod ?? 'POST',
    tokenTtlSeconds,
    timeoutHoldMs,
    initialBalance: { MTN: float, ORANGE: float },
    maxTransactions,
    deduplicateReferences: options.campayDeduplicatesReferences ?? true,
  });
  const mtn = createMtnSimulator({
    delayMs,
    collection: SIMULATOR_CREDENTIALS.mtn.collection,
    disbursement: SIMULATOR_CREDENTIALS.mtn.disbursement,
    targetEnvironments: ['sandbox', 'mtncameroon'],
    tokenTtlSeconds,
    callbackMethod: options.mtnCallbackMethod ?? 'POST',
    timeoutHoldMs,
    initialBalance: { MTN: float, ORANGE: 0n },
    maxTransactions,
  });
  const orange = createOrangeSimulator({
    delayMs,
    ...SIMULATOR_CREDENTIALS.orange,
    tokenTtlSeconds,
    timeoutHoldMs,
    initialBalance: { MTN: 0n, ORANGE: float },
    maxTransactions,
  });
  const host = options.host ?? '127.0.0.1';
  const campayRoot = await campay.server.listen(options.ports?.campay ?? 0, host);
  let mtnRoot: string;
  let orangeRoot: string;
  try {
    mtnRoot = await mtn.server.listen(options.ports?.mtn ?? 0, host);
  } catch (error) {
    await campay.server.close();
    throw error;
  }
  try {
    orangeRoot = await orange.server.listen(options.ports?.orange ?? 0, host);
  } catch (error) {
    await Promise.all([campay.server.close(), mtn.server.close()]);
    throw error;
  }
  return {
    campayUrl: `${campayRoot}/api`,
    mtnUrl: mtnRoot,
    campayControlUrl: `${campayRoot}/_control`,
    mtnControlUrl: `${mtnRoot}/_control`,
    orangeUrl: orangeRoot,
    orangeControlUrl: `${orangeRoot}/_control`,
    campay,
    mtn,
    orange,
    async drainWebhooks() {
      await Promise.all([campay.engine.drain(), mtn.engine.drain(), orange.engine.drain()]);
    },
    async close() {
      await Promise.all([campay.server.close(), mtn.server.close(), orange.server.close()]);
      await Promise.all([campay.engine.close(), mtn.engine.close(), orange.engine.close()]);
    },
  };
}
