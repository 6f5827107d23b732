import type { Role } from '../../shared/principal.js';
import type { Runtime } from '../../runtime.js';
import type { Identity } from './service.js';
import { seal } from './crypto.js';

/**
 * Demo accounts of every role (development only; the seed refuses production). Passwords are
 * public in the README, so these accounts must never exist outside a developer's machine.
 * The demo admin has a second factor with a published TOTP seed, so it can sign in at once:
 * any authenticator app (or `npx otplib`-style tools) reading the seed gives the codes.
 */
export const DEMO_ADMIN_TOTP_SECRET = 'KVKFKRCPNZQUYMLXOVYDSQKJKZDTSRLD';

export const DEMO_USERS: readonly { role: Role; phone: string; password: string; name: string }[] = [
  { role: 'customer', phone: '+237670000011', password: 'Demo-Customer-2026!', name: 'Demo Customer' },
  { role: 'restaurant_owner', phone: '+237670000012', password: 'Demo-Owner-2026!', name: 'Demo Owner' },
  { role: 'driver', phone: '+237670000013', password: 'Demo-Driver-2026!', name: 'Demo Driver' },
  { role: 'support', phone: '+237670000014', password: 'Demo-Support-2026!', name: 'Demo Support' },
  { role: 'admin', phone: '+237670000015', password: 'Demo-Admin-2026!', name: 'Demo Admin' },
];
/** A guest is a phone proven by SMS: sign in with POST /v1/auth/guest and read the code in the outbox. */
export const DEMO_GUEST_PHONE = '+237670000016';

async function ensureUser(
  services: IdentitySeedServices,
  demo: (typeof DEMO_USERS)[number],
): Promise<string | undefined> {
  const { identity } = services;
  if ((await identity.repository.findUserByPhone(demo.phone)) !== undefined) return undefined;
  // Owners are customers too: anyone who registers a restaurant keeps their customer account.
  const roles: Role[] = demo.role === 'restaurant_owner' ? ['customer', 'restaurant_owner'] : [demo.role];
  const user = await identity.repository.insertUser({
    phone: demo.phone,
    name: demo.name,
    passwordHash: await identity.hasher.hash(demo.password),
    roles,
    status: 'active',
    phoneVerified: true,
  });
  if (demo.role === 'admin') {
    await identity.repository.upsertTwoFactorSecret(
      user.id,
      seal(identity.masterKey, Buffer.from(DEMO_ADMIN_TOTP_SECRET), `totp:${user.id}`),
    );
    await identity.repository.updateTwoFactor(user.id, { enabledAt: new Date() });
  }
  await identity.audit({
    action: 'seed.demo_user_created',
    actor: { kind: 'system' },
    subjectUserId: user.id,
    resource: `user:${user.id}`,
    newValue: { roles },
  });
  return `${demo.role} ${demo.phone} password ${demo.password}${demo.role === 'admin' ? ` TOTP seed ${DEMO_ADMIN_TOTP_SECRET}` : ''}`;
}

export interface IdentitySeedServices {
  identity: Identity;
  runtime: Runtime;
}

export const identitySeedStep = {
  name: 'identity',
  async run(services: IdentitySeedServices): Promise<string[]> {
    if (services.runtime.config.isProduction) throw new Error('demo users never exist in production');
    const lines: string[] = [];
    for (const demo of DEMO_USERS) {
      const line = await ensureUser(services, demo);
      if (line !== undefined) lines.push(line);
    }
    const { identity } = services;
    if ((await identity.repository.findUserByPhone(DEMO_GUEST_PHONE)) === undefined) {
      await identity.repository.insertUser({
        phone: DEMO_GUEST_PHONE,
        roles: ['guest'],
        status: 'guest',
        phoneVerified: true,
      });
      lines.push(`guest ${DEMO_GUEST_PHONE} (POST /v1/auth/guest, code in GET /v1/dev/outbox)`);
    }
    return lines;
  },
};
