import { Gauge, type Registry } from 'prom-client';
import type { LedgerRelay } from '../../../ledger/writer/index.js';

/**
 * Several instances (docs/ledger.md): what this instance's relay forwarded to the lease holder
 * and served for the others. Which instance holds the lease is `ledger_writer_ready` (metrics.ts):
 * summed over the instances it must be 1.
 */
export function registerLedgerRelayMetrics(registry: Registry, relay: Pick<LedgerRelay, 'stats'>): void {
  if (registry.getSingleMetric('ledger_relay_calls') !== undefined) return;
  new Gauge({
    name: 'ledger_relay_calls',
    help: 'Ledger calls through the relay since start: forwarded by this instance (answered or not), served for other instances, waiting for an answer now',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const stats = relay.stats();
      this.set({ kind: 'forwarded' }, stats.forwarded);
      this.set({ kind: 'served' }, stats.served);
      this.set({ kind: 'waiting' }, stats.waiting);
    },
  });
}
