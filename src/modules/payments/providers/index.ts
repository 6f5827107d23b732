import { hkdfSync } from 'node:crypto';
import { masterKey, type Config } from '../../../config/index.js';
import { SIMULATOR_CREDENTIALS, startSimulators, type RunningSimulators } from '../simulators/index.js';
import { createCampayProvider } from './campay.js';
import { createMtnMomoProvider } from './mtn-momo.js';
import { createOrangeMoneyProvider } from './orange-money.js';
import { createPaymentRouter, type PaymentRouter, type RouteChoice, type RouterEvent } from './router.js';
import type { Operator, PaymentProvider, ProviderName } from './types.js';

export * from './types.js';
export * from './errors.js';
export { detectOperator, toE164, toCampayPhone, toMsisdn, fromProviderPhone, maskPhone } from './phone.js';
export { createCampayProvider, type CampayOptions } from './campay.js';
export { createMtnMomoProvider, mtnCallbackToken, type MtnMomoOptions } from './mtn-momo.js';
export {
  createOrangeMoneyProvider,
  orangeCallbackToken,
  readOrangeStatus,
  type OrangeMoneyOptions,
} from './orange-money.js';
export { createCircuitBreaker, type CircuitBreaker, type CircuitState } from './circuit-breaker.js';
export * from './router.js';

export type PaymentProviderConfig = Pick<
  Config,
  | 'CAMPAY_BASE_URL'
  | 'CAMPAY_USERNAME'
  | 'CAMPAY_PASSWORD'
  | 'CAMPAY_API_KEY'
  | 'CAMPAY_SECRET'
  | 'MTN_MOMO_BASE_URL'
  | 'MTN_MOMO_API_USER'
  | 'MTN_MOMO_API_KEY'
  | 'MTN_MOMO_SUBSCRIPTION_KEY'
  | 'MTN_MOMO_DISBURSEMENT_API_USER'
  | 'MTN_MOMO_DISBURSEMENT_API_KEY'
  | 'MTN_MOMO_DISBURSEMENT_SUBSCRIPTION_KEY'
  | 'MTN_MOMO_TARGET_ENVIRONMENT'
  | 'MTN_MOMO_CALLBACK_SECRET'
  | 'ORANGE_MONEY_BASE_URL'
  | 'ORANGE_MONEY_CONSUMER_KEY'
  | 'ORANGE_MONEY_CONSUMER_SECRET'
  | 'ORANGE_MONEY_AUTH_TOKEN'
  | 'ORANGE_MONEY_CHANNEL_MSISDN'
  | 'ORANGE_MONEY_PIN'
  | 'ORANGE_MONEY_CALLBACK_SECRET'
  | 'PAYMENT_PROVIDER_MTN'
  | 'PAYMENT_FALLBACK_MTN'
  | 'PAYMENT_PROVIDER_ORANGE'
  | 'PAYMENT_FALLBACK_ORANGE'
  | 'PAYMENT_PROVIDER_TIMEOUT_MS'
  | 'PAYMENT_CIRCUIT_FAILURE_THRESHOLD'
  | 'PAYMENT_CIRCUIT_COOLDOWN_MS'
  | 'PUBLIC_BASE_URL'
  | 'ENCRYPTION_KEY'
>;

export interface PaymentProvidersSetup {
  router: PaymentRouter;
  providers: Partial<Record<ProviderName, PaymentProvider>>;
  /** Things an operator should know at boot (a fallback dropped for lack of credentials…). */
  warnings: string[];
}

/** The webhook path each provider is told to call (`POST /v1/webhooks/{provider}`). */
export function webhookUrl(publicBaseUrl: string, provider: ProviderName): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/v1/webhooks/${provider}`;
}

/** MTN_MOMO_CALLBACK_SECRET, or one derived from the master key so callbacks survive restarts. */
function mtnCallbackSecret(config: PaymentProviderConfig): string {
  if (config.MTN_MOMO_CALLBACK_SECRET !== undefined) return config.MTN_MOMO_CALLBACK_SECRET;
  const derived = hkdfSync('sha256', masterKey(config), Buffer.alloc(0), 'mtn-momo-callback-tokens', 32);
  return Buffer.from(derived).toString('base64url');
}

/** ORANGE_MONEY_CALLBACK_SECRET, or one derived from the master key (another label than MTN's). */
function orangeCallbackSecret(config: PaymentProviderConfig): string {
  if (config.ORANGE_MONEY_CALLBACK_SECRET !== undefined) return config.ORANGE_MONEY_CALLBACK_SECRET;
  const derived = hkdfSync('sha256', masterKey(config), Buffer.alloc(0), 'orange-money-callback-tokens', 32);
  return Buffer.from(derived).toString('base64url');
}

function buildOrange(config: PaymentProviderConfig, simulators: RunningSimulators | undefined) {
  const common = {
    timeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS,
    callbackUrl: webhookUrl(config.PUBLIC_BASE_URL, 'orange_money'),
    callbackSecret: orangeCallbackSecret(config),
  };
  if (simulators !== undefined)
    return createOrangeMoneyProvider({
      baseUrl: simulators.orangeUrl,
      ...SIMULATOR_CREDENTIALS.orange,
      ...common,
    });
  const {
    ORANGE_MONEY_BASE_URL: baseUrl,
    ORANGE_MONEY_CONSUMER_KEY: consumerKey,
    ORANGE_MONEY_CONSUMER_SECRET: consumerSecret,
    ORANGE_MONEY_AUTH_TOKEN: authToken,
    ORANGE_MONEY_CHANNEL_MSISDN: channelMsisdn,
    ORANGE_MONEY_PIN: pin,
  } = config;
  if (
    baseUrl === undefined ||
    consumerKey === undefined ||
    consumerSecret === undefined ||
    authToken === undefined ||
    channelMsisdn === undefined ||
    pin === undefined
  )
    return undefined;
  return createOrangeMoneyProvider({
    baseUrl,
    consumerKey,
    consumerSecret,
    authToken,
    channelMsisdn,
    pin,
    ...common,
  });
}

function buildCampay(config: PaymentProviderConfig, simulators: RunningSimulators | undefined) {
  const common = { timeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS };
  if (simulators !== undefined)
    return createCampayProvider({
      baseUrl: simulators.campayUrl,
      ...SIMULATOR_CREDENTIALS.campay,
      ...common,
    });
  if (config.CAMPAY_BASE_URL === undefined) return undefined;
  const hasLogin = config.CAMPAY_USERNAME !== undefined && config.CAMPAY_PASSWORD !== undefined;
  if (config.CAMPAY_API_KEY === undefined && !hasLogin) return undefined;
  return createCampayProvider({
    baseUrl: config.CAMPAY_BASE_URL,
    username: config.CAMPAY_USERNAME,
    password: config.CAMPAY_PASSWORD,
    appToken: config.CAMPAY_API_KEY,
    webhookKey: config.CAMPAY_SECRET,
    ...common,
  });
}

function buildMtn(config: PaymentProviderConfig, simulators: RunningSimulators | undefined) {
  const common = {
    timeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS,
    callbackUrl: webhookUrl(config.PUBLIC_BASE_URL, 'mtn_momo'),
    callbackSecret: mtnCallbackSecret(config),
  };
  if (simulators !== undefined)
    return createMtnMomoProvider({ baseUrl: simulators.mtnUrl, ...SIMULATOR_CREDENTIALS.mtn, ...common });
  const { MTN_MOMO_BASE_URL: baseUrl, MTN_MOMO_API_USER: apiUser, MTN_MOMO_API_KEY: apiKey } = config;
  const subscriptionKey = config.MTN_MOMO_SUBSCRIPTION_KEY;
  if (baseUrl === undefined || apiUser === undefined || apiKey === undefined || subscriptionKey === undefined)
    return undefined;
  return createMtnMomoProvider({
    baseUrl,
    targetEnvironment: config.MTN_MOMO_TARGET_ENVIRONMENT,
    collection: { apiUser, apiKey, subscriptionKey },
    disbursement: {
      apiUser: config.MTN_MOMO_DISBURSEMENT_API_USER ?? apiUser,
      apiKey: config.MTN_MOMO_DISBURSEMENT_API_KEY ?? apiKey,
      subscriptionKey: config.MTN_MOMO_DISBURSEMENT_SUBSCRIPTION_KEY ?? subscriptionKey,
    },
    ...common,
  });
}

/**
 * Builds the adapters and the router from the configuration. With `simulators` (started by the
 * caller because PAYMENT_SIMULATORS is on), every adapter talks to them with their fixed
 * credentials. A primary without credentials is a configuration error; a fallback without
 * credentials is dropped with a warning.
 */
export function createPaymentProviders(
  config: PaymentProviderConfig,
  options: { simulators?: RunningSimulators; onEvent?: (event: RouterEvent) => void } = {},
): PaymentProvidersSetup {
  const providers: Partial<Record<ProviderName, PaymentProvider>> = {};
  const campay = buildCampay(config, options.simulators);
  const mtn = buildMtn(config, options.simulators);
  if (campay !== undefined) providers.campay = campay;
  if (mtn !== undefined) providers.mtn_momo = mtn;
  const orange = buildOrange(config, options.simulators);
  if (orange !== undefined) providers.orange_money = orange;
  const warnings: string[] = [];
  const choose = (
    operator: Operator,
    primary: ProviderName,
    fallback: ProviderName | 'none',
  ): RouteChoice => {
    if (providers[primary] === undefined)
      throw new RangeError(
        `PAYMENT_PROVIDER_${operator}=${primary} but ${primary} has no credentials configured`,
      );
    if (fallback === 'none') return { primary };
    if (providers[fallback] === undefined) {
      warnings.push(
        `PAYMENT_FALLBACK_${operator}=${fallback} has no credentials: ${operator} payments have no fallback`,
      );
      return { primary };
    }
    return { primary, fallback };
  };
  const router = createPaymentRouter({
    providers,
    routes: {
      MTN: choose('MTN', config.PAYMENT_PROVIDER_MTN, config.PAYMENT_FALLBACK_MTN),
      ORANGE: choose('ORANGE', config.PAYMENT_PROVIDER_ORANGE, config.PAYMENT_FALLBACK_ORANGE),
    },
    breaker: {
      failureThreshold: config.PAYMENT_CIRCUIT_FAILURE_THRESHOLD,
      coolDownMs: config.PAYMENT_CIRCUIT_COOLDOWN_MS,
    },
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  return { router, providers, warnings };
}

export interface RunningPaymentProviders extends PaymentProvidersSetup {
  /** The in-process simulators, when PAYMENT_SIMULATORS is on. */
  simulators?: RunningSimulators;
  /** Stops the simulators (if any); add it to the runtime's closers. */
  close(): Promise<void>;
}

/**
 * What the runtime calls once at boot: starts the simulators when PAYMENT_SIMULATORS is on
 * (CamPay webhooks to `${webhookBaseUrl ?? PUBLIC_BASE_URL/v1/webhooks}/campay`), then builds the
 * adapters and the router on them or on the real providers.
 */
export async function startPaymentProviders(
  config: PaymentProviderConfig & Pick<Config, 'PAYMENT_SIMULATORS' | 'PAYMENT_SIMULATOR_DELAY_MS'>,
  options: { webhookBaseUrl?: string; onEvent?: (event: RouterEvent) => void } = {},
): Promise<RunningPaymentProviders> {
  if (!config.PAYMENT_SIMULATORS) {
    return { ...createPaymentProviders(config, options), close: async () => undefined };
  }
  const simulators = await startSimulators({
    webhookBaseUrl: options.webhookBaseUrl ?? `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}/v1/webhooks`,
    delayMs: config.PAYMENT_SIMULATOR_DELAY_MS,
  });
  try {
    return {
      ...createPaymentProviders(config, { ...options, simulators }),
      simulators,
      close: () => simulators.close(),
    };
  } catch (error) {
    await simulators.close();
    throw error;
  }
}
