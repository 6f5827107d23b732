import type { Config } from '../../../config/index.js';
import {
  createFlutterwaveSimulator,
  FLUTTERWAVE_SIMULATOR_CREDENTIALS,
  type FlutterwaveSimulator,
} from '../simulators/flutterwave.js';
import { configuredRateSource, flutterwaveRateSource, type FxRateSource } from '../fx/rates.js';
import { createFlutterwaveProvider, type CardProvider } from './flutterwave.js';

export * from './flutterwave.js';

export interface RunningCardProvider {
  /** Undefined when card funding is not configured (no Flutterwave credentials, no simulator). */
  provider: CardProvider | undefined;
  /** The in-process simulator when PAYMENT_SIMULATORS is on (never in production). */
  simulator: FlutterwaveSimulator | undefined;
  /** Where conversion rates come from (FX_RATE_SOURCE); undefined: conversion answers 503 fx_unavailable. */
  rates: FxRateSource | undefined;
  warnings: string[];
  close(): Promise<void>;
}

type CardConfig = Pick<
  Config,
  | 'FLUTTERWAVE_BASE_URL'
  | 'FLUTTERWAVE_SECRET_KEY'
  | 'FLUTTERWAVE_WEBHOOK_HASH'
  | 'PAYMENT_SIMULATORS'
  | 'PAYMENT_PROVIDER_TIMEOUT_MS'
  | 'PUBLIC_BASE_URL'
  | 'FX_RATE_SOURCE'
  | 'FX_USD_XAF_RATE'
>;

/**
 * The card aggregator: Flutterwave's simulator when PAYMENT_SIMULATORS is on (webhooks to
 * `${PUBLIC_BASE_URL}/v1/webhooks/flutterwave`), the real API when its three variables are set,
 * otherwise none (card funding answers 503 card_funding_unavailable).
 */
export async function startCardProvider(config: CardConfig): Promise<RunningCardProvider> {
  const timeoutMs = config.PAYMENT_PROVIDER_TIMEOUT_MS;
  const configured = config.FX_RATE_SOURCE === 'configured';
  const ratesOf = (baseUrl: string | undefined, secretKey: string | undefined): FxRateSource | undefined =>
    configured
      ? configuredRateSource({ usdXaf: config.FX_USD_XAF_RATE })
      : baseUrl === undefined || secretKey === undefined
        ? undefined
        : flutterwaveRateSource({ baseUrl, secretKey, timeoutMs });
  if (config.PAYMENT_SIMULATORS) {
    const simulator = createFlutterwaveSimulator({
      ...FLUTTERWAVE_SIMULATOR_CREDENTIALS,
      webhookUrl: `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}/v1/webhooks/flutterwave`,
    });
    const baseUrl = await simulator.listen(0);
    return {
      provider: createFlutterwaveProvider({ baseUrl, ...FLUTTERWAVE_SIMULATOR_CREDENTIALS, timeoutMs }),
      simulator,
      rates: ratesOf(baseUrl, FLUTTERWAVE_SIMULATOR_CREDENTIALS.secretKey),
      warnings: [],
      close: () => simulator.close(),
    };
  }
  const { FLUTTERWAVE_BASE_URL: baseUrl, FLUTTERWAVE_SECRET_KEY: secretKey } = config;
  const webhookHash = config.FLUTTERWAVE_WEBHOOK_HASH;
  const rates = ratesOf(baseUrl, secretKey);
  const ratesWarning =
    rates === undefined
      ? [
          'currency conversion is off: FX_RATE_SOURCE=flutterwave needs FLUTTERWAVE_BASE_URL and FLUTTERWAVE_SECRET_KEY',
        ]
      : [];
  if (baseUrl === undefined || secretKey === undefined || webhookHash === undefined)
    return {
      provider: undefined,
      simulator: undefined,
      rates,
      warnings: [
        ...ratesWarning,
        ...(baseUrl === undefined && secretKey === undefined
          ? []
          : [
              'card funding is off: FLUTTERWAVE_BASE_URL, FLUTTERWAVE_SECRET_KEY and FLUTTERWAVE_WEBHOOK_HASH are all needed',
            ]),
      ],
      close: async () => undefined,
    };
  return {
    provider: createFlutterwaveProvider({ baseUrl, secretKey, webhookHash, timeoutMs }),
    simulator: undefined,
    rates,
    warnings: [],
    close: async () => undefined,
  };
}
