/**
 * `npm run audit:export -- <directory>`: a signed export of the ledger and the audit log for an
 * external auditor, checked by `node scripts/verify-audit-export.mjs <directory>` with nothing
 * but Node. Format and trust model: docs/audit-export.md.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { canonicalJson, GENESIS_HASH } from '../../ledger/rules/index.js';
import { handleHelp, reportFailure, usageError, startOrExit } from './common.js';

const usage = `usage: npm run audit:export -- <directory>

Writes, into a new or empty <directory>:
  ledger.ndjson     every event of the ledger stream, as stored (its hash chain inside)
  audit-log.ndjson  every audit-log entry, chained by SHA-256 in id order
  manifest.json     counts, the ledger's final hash and trial balance, both files' SHA-256
  manifest.sig      the Ed25519 signature of manifest.json (key: AUDIT_SIGNING_KEY)
The ledger is verified first; the export is refused when verify fails.
Check it anywhere with: node scripts/verify-audit-export.mjs <directory> [--public-key <file>]

Works against DATABASE_URL, or the embedded PostgreSQL of DATA_DIR (beside a running npm start too).`;

export const EXPORT_FORMAT = 'food-delivery-audit-export/1';
const PAGE = 1_000;
/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

handleHelp(usage);
const [directory, ...rest] = process.argv.slice(2);
if (directory === undefined || directory.startsWith('-') || rest.length > 0)
  usageError(
    usage,
    directory === undefined ? 'no directory given' : `unexpected arguments: ${rest.join(' ')}`,
  );
const target = path.resolve(directory);
if (existsSync(target) && readdirSync(target).length > 0) usageError(usage, `${target} is not empty`);

const { boot } = await import('../boot.js');
const { DEFAULT_LEDGER_STREAM, LEDGER_EVENT_TYPE } = await import('../../ledger/writer/events.js');
const { StreamNotFound } = await import('../eventstore/index.js');
const { services, logger, config } = await startOrExit('audit export', () => boot({ logLevel: 'warn' }));

function signingKey(): { privateKey: KeyObject; publicKey: KeyObject; ephemeral: boolean } {
  const configured = config.AUDIT_SIGNING_KEY;
  if (configured === undefined) {
    if (config.isProduction) throw new Error('AUDIT_SIGNING_KEY is required in production to sign an export');
    const pair = generateKeyPairSync('ed25519');
    return { ...pair, ephemeral: true };
  }
  const seed = /^[0-9a-f]{64}$/.test(configured)
    ? Buffer.from(configured, 'hex')
    : Buffer.from(configured, 'base64');
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return { privateKey, publicKey: createPublicKey(privateKey), ephemeral: false };
}

/** Writes lines to a file while hashing exactly the bytes written. */
function ndjsonFile(name: string) {
  const file = path.join(target, name);
  const stream = createWriteStream(file, { flags: 'wx' });
  const digest = createHash('sha256');
  let lines = 0;
  return {
    async write(value: unknown): Promise<void> {
      const bytes = Buffer.from(`${JSON.stringify(value)}\n`, 'utf8');
      digest.update(bytes);
      lines += 1;
      if (!stream.write(bytes)) await once(stream, 'drain');
    },
    async close(): Promise<{ file: string; sha256: string; lines: number }> {
      stream.end();
      await once(stream, 'finish');
      return { file: name, sha256: digest.digest('hex'), lines };
    },
  };
}

async function exportLedger(stream: string) {
  const out = ndjsonFile('ledger.ndjson');
  let revision = 0n;
  for (;;) {
    let page;
    try {
      page = await services.eventStore.readStream(stream, { fromRevision: revision, maxCount: PAGE });
    } catch (error) {
      if (error instanceof StreamNotFound) break;
      throw error;
    }
    for (const event of page) {
      const batch = (event.data as { batch?: unknown }).batch;
      if (event.type !== LEDGER_EVENT_TYPE || typeof batch !== 'string')
        throw new Error(`${stream}@${event.revision} is not a ledger batch`);
      await out.write({
        revision: event.revision.toString(),
        id: event.id,
        recordedAt: event.createdAt.toISOString(),
        batch,
      });
    }
    revision += BigInt(page.length);
    if (page.length < PAGE) break;
  }
  return out.close();
}

/** Audit entries in id order, each chained: hash = SHA-256(previous hash bytes ‖ canonical entry). */
async function exportAuditLog() {
  const out = ndjsonFile('audit-log.ndjson');
  const db = services.db;
  let previousHash = GENESIS_HASH;
  let afterId = 0n;
  for (;;) {
    const rows = await db
      .selectFrom('audit_logs')
      .select([
        'id',
        'created_at',
        'actor_kind',
        'actor_id',
        'subject_user_id',
        'action',
        'resource',
        'old_value',
        'new_value',
        'request_id',
      ])
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      // IP addresses and user agents stay behind: personal data the auditor does not need.
      const entry = {
        id: row.id.toString(),
        at: row.created_at.toISOString(),
        actorKind: row.actor_kind,
        actorId: row.actor_id,
        subjectUserId: row.subject_user_id,
        action: row.action,
        resource: row.resource,
        oldValue: row.old_value ?? null,
        newValue: row.new_value ?? null,
        requestId: row.request_id,
      };
      const hash = createHash('sha256')
        .update(Buffer.from(previousHash, 'hex'))
        .update(canonicalJson(entry), 'utf8')
        .digest('hex');
      await out.write({ entry, previousHash, hash });
      previousHash = hash;
      afterId = row.id;
    }
    if (rows.length < PAGE) break;
  }
  return { ...(await out.close()), headHash: previousHash };
}

try {
  const key = signingKey();
  const report = await services.ledger.verify({ projections: false, source: 'export' });
  if (!report.ok)
    throw new Error(
      `the ledger does not verify (${report.mismatches.length} mismatch(es)); run npm run ledger -- verify`,
    );
  mkdirSync(target, { recursive: true });
  const stream = services.ledger.stream ?? DEFAULT_LEDGER_STREAM;
  const ledgerFile = await exportLedger(stream);
  if (ledgerFile.lines !== report.events)
    throw new Error(
      `the ledger moved during the export (${ledgerFile.lines} events, verified ${report.events})`,
    );
  const auditFile = await exportAuditLog();
  const publicKeyDer = key.publicKey.export({ format: 'der', type: 'spki' });
  const manifest = {
    format: EXPORT_FORMAT,
    createdAt: new Date().toISOString(),
    ledger: {
      stream,
      file: ledgerFile.file,
      sha256: ledgerFile.sha256,
      events: report.events,
      transfers: report.transfers,
      accounts: report.accounts,
      finalHash: report.finalHash,
      trialBalance: JSON.parse(
        JSON.stringify(report.trialBalance, (_, value: unknown) =>
          typeof value === 'bigint' ? value.toString() : value,
        ),
      ) as unknown,
    },
    auditLog: {
      file: auditFile.file,
      sha256: auditFile.sha256,
      entries: auditFile.lines,
      headHash: auditFile.headHash,
    },
    signature: {
      algorithm: 'Ed25519',
      publicKey: key.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      fingerprint: createHash('sha256').update(publicKeyDer).digest('hex'),
      ephemeral: key.ephemeral,
    },
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  writeFileSync(path.join(target, 'manifest.json'), manifestBytes, { flag: 'wx' });
  writeFileSync(
    path.join(target, 'manifest.sig'),
    `${sign(null, manifestBytes, key.privateKey).toString('base64')}\n`,
    { flag: 'wx' },
  );
  console.log(
    `exported ${report.events} ledger events (${report.transfers} transfers, final hash ${report.finalHash}) and ${auditFile.lines} audit entries to ${target}`,
  );
  console.log(
    `signed with Ed25519 key ${manifest.signature.fingerprint}${key.ephemeral ? ' (a one-off key: set AUDIT_SIGNING_KEY for a key the auditor can pin)' : ''}`,
  );
} catch (error) {
  reportFailure('audit export', error, logger);
} finally {
  await services.runtime.close();
}
process.exit(process.exitCode ?? 0);
