/**
 * A small circuit breaker (closed → open → half-open → closed), written here rather than
 * taken from opossum because the router needs only the state machine, not a wrapper around
 * the call: the router decides what counts as a failure (an outage, never a refusal).
 *
 * - closed: calls pass; `failureThreshold` consecutive failures open the circuit.
 * - open: calls are refused until `coolDownMs` has passed, then one trial is let through
 *   (half-open).
 * - half-open: one trial at a time; its success closes the circuit, its failure re-opens it
 *   for another cool-down.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  coolDownMs: number;
  now?: () => number;
}

export interface CircuitBreaker {
  /** May a call go through now? In half-open, a `true` reserves the one trial slot. */
  tryAcquire(): boolean;
  recordSuccess(): void;
  recordFailure(): void;
  /** Gives back a trial slot taken by tryAcquire for a call that ended neither way. */
  release(): void;
  state(): CircuitState;
  snapshot(): { state: CircuitState; consecutiveFailures: number; openedAtMs?: number };
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  if (options.failureThreshold < 1) throw new RangeError('failureThreshold must be at least 1');
  const now = options.now ?? Date.now;
  let state: CircuitState = 'closed';
  let consecutiveFailures = 0;
  let openedAtMs = 0;
  let trialInFlight = false;

  function refresh(): void {
    if (state === 'open' && now() - openedAtMs >= options.coolDownMs) {
      state = 'half_open';
      trialInFlight = false;
    }
  }

  function open(): void {
    state = 'open';
    openedAtMs = now();
    trialInFlight = false;
  }

  return {
    tryAcquire() {
      refresh();
      switch (state) {
        case 'closed':
          return true;
        case 'open':
          return false;
        case 'half_open':
          if (trialInFlight) return false;
          trialInFlight = true;
          return true;
        default: {
          const unreachable: never = state;
          throw new Error(`unknown circuit state ${String(unreachable)}`);
        }
      }
    },
    recordSuccess() {
      consecutiveFailures = 0;
      state = 'closed';
      trialInFlight = false;
    },
    recordFailure() {
      consecutiveFailures += 1;
      if (state === 'half_open' || consecutiveFailures >= options.failureThreshold) open();
    },
    release() {
      trialInFlight = false;
    },
    state() {
      refresh();
      return state;
    },
    snapshot() {
      refresh();
      return { state, consecutiveFailures, ...(state === 'closed' ? {} : { openedAtMs }) };
    },
  };
}
