import { createCircuitBreaker, type CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { ProviderRejected, ProviderUnavailable } from './errors.js';
import { detectOperator } from './phone.js';
import type {
  CollectRequest,
  CollectResult,
  DisburseRequest,
  DisburseResult,
  ExternalReferenceLookup,
  ExternalReferenceQuery,
  HistoryQuery,
  HistoryRow,
  Operator,
  PaymentProvider,
  ProviderBalance,
  ProviderName,
  TransactionKind,
  TransactionStatus,
  WebhookRequest,
  WebhookVerdict,
} from './types.js';

/**
 * Picks the provider for a money movement from the payer's (or payee's) operator, and fails
 * over to the operator's fallback only when the primary cannot have received it: its circuit is
 * open (nothing sent), or its failure says it did not act (`unprocessed`: the connection was
 * never made, no token could be had, 401/429/503 answered to the call). Any other failure
 * (a timeout, a reset after sending, 500/502/504, an unreadable answer) may have charged or
 * paid someone: no failover, the call stays with that provider, where it is looked for by our
 * reference. Never after a refusal or a FAILED. Reads, refunds and webhooks go to the provider
 * named by the caller: the one recorded when the payment was taken.
 */
export interface RouteChoice {
  primary: ProviderName;
  fallback?: ProviderName;
}

export interface PaymentRouterOptions {
  providers: Partial<Record<ProviderName, PaymentProvider>>;
  routes: Record<Operator, RouteChoice>;
  breaker: { failureThreshold: number; coolDownMs: number; now?: () => number };
  /** Told about failovers and circuits opening, for logs and metrics (no personal data in it). */
  onEvent?: (event: RouterEvent) => void;
}

export type RouterEvent =
  | { type: 'failover'; operator: Operator; from: ProviderName; code: string }
  /** The provider gave no answer and may have acted: the fallback was NOT tried. */
  | { type: 'failover_withheld'; operator: Operator; provider: ProviderName; code: string }
  | { type: 'circuit_opened'; operator: Operator; provider: ProviderName }
  | { type: 'circuit_closed'; operator: Operator; provider: ProviderName };

/**
 * A provider the router passed over before the one that answered: its circuit was open, or it
 * certainly did not act on the call (see ProviderUnavailable.unprocessed).
 */
export interface SkippedAttempt {
  provider: ProviderName;
  outcome: 'not_processed' | 'circuit_open';
  code: string;
}

export type RoutedCollectResult = CollectResult & { attempts: SkippedAttempt[] };
export type RoutedDisburseResult = DisburseResult & { attempts: SkippedAttempt[] };

export interface CircuitReport {
  provider: ProviderName;
  operator: Operator;
  state: CircuitState;
  consecutiveFailures: number;
}

export interface PaymentRouter {
  collect(request: CollectRequest): Promise<RoutedCollectResult>;
  disburse(request: DisburseRequest): Promise<RoutedDisburseResult>;
  status(
    provider: ProviderName,
    providerReference: string,
    kind?: TransactionKind,
  ): Promise<TransactionStatus>;
  history(provider: ProviderName, query: HistoryQuery): Promise<HistoryRow[]>;
  balance(provider: ProviderName): Promise<ProviderBalance>;
  /** What `provider` holds under our external reference (never routed: the caller names it). */
  findByExternalReference(
    provider: ProviderName,
    query: ExternalReferenceQuery,
  ): Promise<ExternalReferenceLookup>;
  verifyWebhook(provider: ProviderName, request: WebhookRequest): Promise<WebhookVerdict>;
  /** The adapter itself; throws ProviderRejected NO_PROVIDER when it is not configured. */
  provider(name: ProviderName): PaymentProvider;
  /** Which providers would serve this phone number; undefined for unsupported operators. */
  routeFor(phoneE164: string): (RouteChoice & { operator: Operator }) | undefined;
  circuits(): CircuitReport[];
}

function validateRoutes(options: PaymentRouterOptions): void {
  for (const [operator, route] of Object.entries(options.routes) as [Operator, RouteChoice][]) {
    for (const name of [route.primary, route.fallback]) {
      if (name === undefined) continue;
      const provider = options.providers[name];
      if (provider === undefined)
        throw new RangeError(`${operator} is routed to ${name}, which is not configured`);
      if (!provider.operators.includes(operator))
        throw new RangeError(`${name} cannot serve ${operator} numbers`);
    }
    if (route.fallback === route.primary)
      throw new RangeError(`${operator}: the fallback must differ from the primary`);
  }
}

export function createPaymentRouter(options: PaymentRouterOptions): PaymentRouter {
  validateRoutes(options);
  const breakers = new Map<string, CircuitBreaker>();
  const emit = options.onEvent ?? (() => undefined);

  function breakerFor(provider: ProviderName, operator: Operator): CircuitBreaker {
    // Per provider and operator: CamPay's MTN leg can be down while its Orange leg is fine.
    const key = `${provider}:${operator}`;
    let breaker = breakers.get(key);
    if (breaker === undefined) {
      breaker = createCircuitBreaker(options.breaker);
      breakers.set(key, breaker);
    }
    return breaker;
  }

  function adapter(name: ProviderName): PaymentProvider {
    const provider = options.providers[name];
    if (provider === undefined)
      throw new ProviderRejected('router', 'NO_PROVIDER', `${name} is not configured`);
    return provider;
  }

  function noteOutcome(
    breaker: CircuitBreaker,
    provider: ProviderName,
    operator: Operator,
    error?: unknown,
  ): void {
    const before = breaker.state();
    if (error === undefined || (error instanceof ProviderRejected && error.httpStatus !== undefined)) {
      breaker.recordSuccess(); // the provider answered: it is up, even when it said no
    } else if (error instanceof ProviderUnavailable) {
      breaker.recordFailure();
    } else {
      breaker.release(); // refused before any request (or a bug): says nothing about the provider
    }
    const after = breaker.state();
    if (after === 'open' && before !== 'open') emit({ type: 'circuit_opened', operator, provider });
    if (after === 'closed' && before !== 'closed') emit({ type: 'circuit_closed', operator, provider });
  }

  async function route<T>(
    phoneE164: string,
    call: (provider: PaymentProvider) => Promise<T>,
  ): Promise<T & { attempts: SkippedAttempt[] }> {
    const operator = detectOperator(phoneE164);
    if (operator === undefined)
      throw new ProviderRejected(
        'router',
        'UNSUPPORTED_OPERATOR',
        'only MTN and Orange numbers are supported',
      );
    const choice = options.routes[operator];
    const candidates = choice.fallback === undefined ? [choice.primary] : [choice.primary, choice.fallback];
    const attempts: SkippedAttempt[] = [];
    for (const name of candidates) {
      const breaker = breakerFor(name, operator);
      if (!breaker.tryAcquire()) {
        attempts.push({ provider: name, outcome: 'circuit_open', code: 'CIRCUIT_OPEN' });
        continue;
      }
      try {
        const result = await call(adapter(name));
        noteOutcome(breaker, name, operator);
        return { ...result, attempts };
      } catch (error) {
        noteOutcome(breaker, name, operator, error);
        // Refused or FAILED: final. Any provider passed over before did not act on it (its
        // circuit was open or it said so), so nothing else holds this call.
        if (!(error instanceof ProviderUnavailable)) throw error;
        if (!error.unprocessed) {
          // No answer, and it may have charged (or paid) someone: another provider could do it a
          // second time. The call stays here, where it is looked for by our reference.
          if (name !== candidates.at(-1))
            emit({ type: 'failover_withheld', operator, provider: name, code: error.code });
          error.mayHaveReached = [name];
          throw error;
        }
        attempts.push({ provider: name, outcome: 'not_processed', code: error.code });
        if (name !== candidates.at(-1)) emit({ type: 'failover', operator, from: name, code: error.code });
      }
    }
    const last = attempts.at(-1);
    throw new ProviderUnavailable(
      'router',
      last?.code ?? 'NO_PROVIDER',
      `no provider could serve ${operator} now`,
      { unprocessed: true },
    );
  }

  return {
    collect: (request) => route(request.phoneE164, (provider) => provider.collect(request)),
    disburse: (request) => route(request.phoneE164, (provider) => provider.disburse(request)),
    status: (name, providerReference, kind) => adapter(name).status(providerReference, kind),
    async history(name, query) {
      const provider = adapter(name);
      if (provider.history === undefined)
        throw new ProviderRejected('router', 'NOT_SUPPORTED', `${name} has no history API`);
      return provider.history(query);
    },
    balance: (name) => adapter(name).balance(),
    findByExternalReference: (name, query) => adapter(name).findByExternalReference(query),
    verifyWebhook: (name, request) => adapter(name).verifyWebhook(request),
    provider: adapter,
    routeFor(phoneE164) {
      const operator = detectOperator(phoneE164);
      return operator === undefined ? undefined : { operator, ...options.routes[operator] };
    },
    circuits() {
      return [...breakers.entries()].map(([key, breaker]) => {
        const [provider, operator] = key.split(':') as [ProviderName, Operator];
        const { state, consecutiveFailures } = breaker.snapshot();
        return { provider, operator, state, consecutiveFailures };
      });
    },
  };
}
