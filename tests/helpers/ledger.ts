import { expect } from 'vitest';
import type { TestApp } from './app.js';

/** The ledger's own check (balances against entries, no projection read): no mismatch, ok. */
export async function expectLedgerVerifies(testApp: TestApp): Promise<void> {
  const report = await testApp.services.ledger.verify({ projections: false });
  expect(report.mismatches).toEqual([]);
  expect(report.ok).toBe(true);
}
