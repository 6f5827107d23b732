import { sql, type Kysely } from 'kysely';
import type { VerifyReport } from '../../../ledger/audit/verify.js';

/** Who asked for a verification (the CLI, the admin route, the nightly schedule, an audit export). */
export type VerificationSource = 'cli' | 'admin' | 'schedule' | 'export' | 'other';

export interface LastVerification {
  verifiedAt: Date;
  ok: boolean;
  source: VerificationSource;
  finalHash: string;
}

/** The record of ledger verifications (`ledger_verifications`), one row per run. */
export function createVerificationRecord<DB>(db: Kysely<DB>) {
  return {
    async record(report: VerifyReport, source: VerificationSource): Promise<void> {
      await sql`INSERT INTO ledger_verifications
          (source, ok, stream, events, transfers, final_hash, mismatches, duration_ms)
        VALUES (${source}, ${report.ok}, ${report.stream}, ${report.events}, ${report.transfers},
          ${report.finalHash}, ${report.mismatches.length}, ${Math.round(report.durationMs)})`.execute(db);
    },
    async last(): Promise<LastVerification | undefined> {
      const { rows } = await sql<{
        verified_at: Date;
        ok: boolean;
        source: VerificationSource;
        final_hash: string;
      }>`SELECT verified_at, ok, source, final_hash FROM ledger_verifications ORDER BY id DESC LIMIT 1`.execute(
        db,
      );
      const row = rows[0];
      return row === undefined
        ? undefined
        : { verifiedAt: row.verified_at, ok: row.ok, source: row.source, finalHash: row.final_hash };
    },
  };
}

export type VerificationRecord = ReturnType<typeof createVerificationRecord>;
