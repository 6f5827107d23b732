#!/usr/bin/env node
/**
 * Checks an export made by `npm run audit:export` with nothing but Node (18 or later): no
 * dependency, no database, no access to the service. Usage:
 *
 *   node verify-audit-export.mjs <directory> [--public-key <file with the PEM key>]
 *
 * It checks the Ed25519 signature of manifest.json, both files' SHA-256, the ledger's hash
 * chain event by event (each event's text canonical, its hash recomputed, each previousHash the
 * hash before it, revisions 0, 1, 2, …), the counts and the final hash of the manifest, and the
 * audit log's chain. Exits 0 when everything holds, 1 listing every problem, 64 on bad usage.
 * The format and what it proves: docs/audit-export.md.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const FORMAT = 'food-delivery-audit-export/1';
const GENESIS = '0'.repeat(64);
const HASH = /^[0-9a-f]{64}$/;

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
  console.log('usage: node verify-audit-export.mjs <directory> [--public-key <file with the PEM key>]');
  process.exit(args.length === 0 ? 64 : 0);
}
const directory = args[0];
const keyFlag = args.indexOf('--public-key');
const pinnedKeyFile = keyFlag === -1 ? undefined : args[keyFlag + 1];
if (keyFlag !== -1 && pinnedKeyFile === undefined) {
  console.error('--public-key needs a file');
  process.exit(64);
}

const problems = [];
const problem = (text) => problems.push(text);

/** Canonical JSON as the service writes it: sorted keys, no whitespace, safe integers only. */
function canonical(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new Error(`not a safe integer: ${value}`);
      return String(value);
    case 'object':
      return `{${Object.keys(value)
        .filter((key) => value[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
        .join(',')}}`;
    default:
      throw new Error(`cannot encode a ${typeof value}`);
  }
}

const chain = (previousHash, text) =>
  createHash('sha256').update(Buffer.from(previousHash, 'hex')).update(text, 'utf8').digest('hex');

function readLines(bytes, name) {
  const text = bytes.toString('utf8');
  if (text.length > 0 && !text.endsWith('\n')) problem(`${name}: the last line is cut short`);
  return text.split('\n').filter((line, index, all) => !(index === all.length - 1 && line === ''));
}

function parseLine(line, where) {
  try {
    return JSON.parse(line);
  } catch {
    problem(`${where}: not JSON`);
    return undefined;
  }
}

function checkLedger(lines, name) {
  let previousHash = GENESIS;
  let transfers = 0;
  lines.forEach((line, index) => {
    const where = `${name} line ${index + 1}`;
    const record = parseLine(line, where);
    if (record === undefined) return;
    if (record.revision !== String(index))
      problem(`${where}: revision ${record.revision}, expected ${index}`);
    let event;
    try {
      event = JSON.parse(record.batch);
    } catch {
      problem(`${where}: the batch is not JSON`);
      return;
    }
    const { accountsCreated, transfersAccepted, hash } = event;
    if (!Array.isArray(accountsCreated) || !Array.isArray(transfersAccepted) || !HASH.test(hash ?? '')) {
      problem(`${where}: not a ledger batch`);
      return;
    }
    try {
      if (canonical(event) !== record.batch) problem(`${where}: the batch text is not canonical`);
      if (event.previousHash !== previousHash)
        problem(`${where}: previousHash ${event.previousHash} does not follow ${previousHash}`);
      const computed = chain(event.previousHash, canonical({ accountsCreated, transfersAccepted }));
      if (computed !== hash) problem(`${where}: hash ${hash} but the content hashes to ${computed}`);
    } catch (error) {
      problem(`${where}: ${error.message}`);
    }
    transfers += transfersAccepted.length;
    previousHash = hash;
  });
  return { events: lines.length, transfers, finalHash: previousHash };
}

function checkAuditLog(lines, name) {
  let previousHash = GENESIS;
  lines.forEach((line, index) => {
    const where = `${name} line ${index + 1}`;
    const record = parseLine(line, where);
    if (record === undefined) return;
    if (record.previousHash !== previousHash)
      problem(`${where}: previousHash ${record.previousHash} does not follow ${previousHash}`);
    try {
      const computed = chain(record.previousHash, canonical(record.entry));
      if (computed !== record.hash)
        problem(`${where}: hash ${record.hash} but the entry hashes to ${computed}`);
    } catch (error) {
      problem(`${where}: ${error.message}`);
    }
    previousHash = record.hash;
  });
  return { entries: lines.length, headHash: previousHash };
}

function readFile(name) {
  try {
    return readFileSync(path.join(directory, name));
  } catch (error) {
    problem(`${name}: cannot be read (${error.code ?? error.message})`);
    return undefined;
  }
}

const manifestBytes = readFile('manifest.json');
const signatureText = readFile('manifest.sig');
if (manifestBytes === undefined || signatureText === undefined) {
  for (const text of problems) console.log(`  - ${text}`);
  console.log('audit export: FAILED');
  process.exit(1);
}
const manifest = JSON.parse(manifestBytes.toString('utf8'));
if (manifest.format !== FORMAT) problem(`manifest: format ${manifest.format}, expected ${FORMAT}`);

// The signature first: everything after trusts the manifest's figures only if it holds.
const embeddedKey = createPublicKey(manifest.signature.publicKey);
const fingerprint = createHash('sha256')
  .update(embeddedKey.export({ format: 'der', type: 'spki' }))
  .digest('hex');
if (fingerprint !== manifest.signature.fingerprint)
  problem('manifest: the fingerprint is not that of its public key');
let key = embeddedKey;
if (pinnedKeyFile !== undefined) {
  key = createPublicKey(readFileSync(pinnedKeyFile));
  const pinned = createHash('sha256')
    .update(key.export({ format: 'der', type: 'spki' }))
    .digest('hex');
  if (pinned !== fingerprint)
    problem(`signature: made with key ${fingerprint}, not the pinned key ${pinned}`);
}
if (!verify(null, manifestBytes, key, Buffer.from(signatureText.toString('utf8').trim(), 'base64')))
  problem('signature: manifest.json does not match manifest.sig');

for (const part of ['ledger', 'auditLog']) {
  const bytes = readFile(manifest[part].file);
  if (bytes === undefined) continue;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== manifest[part].sha256)
    problem(`${manifest[part].file}: SHA-256 ${sha256}, the manifest says ${manifest[part].sha256}`);
  const lines = readLines(bytes, manifest[part].file);
  if (part === 'ledger') {
    const found = checkLedger(lines, manifest.ledger.file);
    for (const figure of ['events', 'transfers', 'finalHash'])
      if (found[figure] !== manifest.ledger[figure])
        problem(`ledger: ${figure} ${found[figure]}, the manifest says ${manifest.ledger[figure]}`);
  } else {
    const found = checkAuditLog(lines, manifest.auditLog.file);
    for (const figure of ['entries', 'headHash'])
      if (found[figure] !== manifest.auditLog[figure])
        problem(`audit log: ${figure} ${found[figure]}, the manifest says ${manifest.auditLog[figure]}`);
  }
}

console.log(
  `export of ${manifest.createdAt}, signed by Ed25519 key ${fingerprint}${manifest.signature.ephemeral ? ' (a one-off key)' : ''}`,
);
console.log(
  `ledger ${manifest.ledger.stream}: ${manifest.ledger.events} events, ${manifest.ledger.transfers} transfers, final hash ${manifest.ledger.finalHash}`,
);
console.log(`audit log: ${manifest.auditLog.entries} entries, head hash ${manifest.auditLog.headHash}`);
if (pinnedKeyFile === undefined)
  console.log(
    'the key was not pinned: compare the fingerprint with the one the operator gave you, or pass --public-key',
  );
if (problems.length > 0) {
  console.log(`audit export: FAILED with ${problems.length} problem(s):`);
  for (const text of problems.slice(0, 100)) console.log(`  - ${text}`);
  process.exit(1);
}
console.log('audit export: OK');
