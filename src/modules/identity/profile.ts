import { identityErrors } from './errors.js';
import type { Principal } from '../../shared/principal.js';
import { requirePhone } from './accounts.js';
import type { AuditFunction } from './audit.js';
import type { PhoneCodes } from './otp.js';
import type { AddressChanges, AddressRecord, IdentityRepository } from './repository.js';
import type { RequestContext, SessionService } from './sessions.js';
import {
  DEFAULT_TIME_ZONE,
  isTimeZone,
  preferencesOf,
  type NotificationPreferences,
  type NotificationPreferencesInput,
} from './views.js';

/**
 * The signed-in person's own data: profile, delivery addresses, notification preferences and
 * sessions. Ownership is structural: every query is scoped by the principal's user id, so
 * another person's address or session id simply is not found (404).
 */
export const MAX_ADDRESSES = 20;
export const MAX_SESSIONS_LISTED = 50;

export interface AddressInput {
  label: string;
  line1: string;
  line2?: string | null;
  city: string;
  district?: string | null;
  landmark?: string | null;
  latitude?: number | null;
  longitude?: number | null;
  instructions?: string | null;
  isDefault?: boolean;
}

function toColumns(input: Partial<AddressInput>): AddressChanges {
  const columns: AddressChanges = {};
  if (input.label !== undefined) columns.label = input.label;
  if (input.line1 !== undefined) columns.line1 = input.line1;
  if (input.line2 !== undefined) columns.line2 = input.line2;
  if (input.city !== undefined) columns.city = input.city;
  if (input.district !== undefined) columns.district = input.district;
  if (input.landmark !== undefined) columns.landmark = input.landmark;
  if (input.latitude !== undefined) columns.latitude = input.latitude;
  if (input.longitude !== undefined) columns.longitude = input.longitude;
  if (input.instructions !== undefined) columns.instructions = input.instructions;
  if (input.isDefault !== undefined) columns.is_default = input.isDefault;
  return columns;
}

export function createProfile(deps: {
  repository: IdentityRepository;
  sessions: SessionService;
  audit: AuditFunction;
  codes: PhoneCodes;
}) {
  const { repository, sessions, audit, codes } = deps;
  const actor = (principal: Principal, context: RequestContext) => ({
    kind: 'user' as const,
    userId: principal.userId,
    ...context,
  });

  return {
    async update(
      principal: Principal,
      input: { name?: string; email?: string | null; locale?: 'fr' | 'en' },
      context: RequestContext,
    ) {
      const user = await repository.findUserById(principal.userId);
      if (user === undefined || user.status === 'deleted')
        throw identityErrors.notFound('The account no longer exists.');
      const email =
        input.email === undefined
          ? undefined
          : input.email === null
            ? null
            : input.email.trim().toLowerCase();
      if (email && (await repository.emailTakenByOther(email, user.id))) {
        throw identityErrors.of('conflict', 'email_taken', 'This e-mail address is used by another account.');
      }
      const changes = {
        ...(input.name === undefined ? {} : { name: input.name }),
        ...(email === undefined
          ? {}
          : { email, email_verified: email === user.email ? user.email_verified : false }),
        ...(input.locale === undefined ? {} : { locale: input.locale }),
      };
      if (Object.keys(changes).length === 0) return user;
      const updated = await repository.updateUser(user.id, changes);
      await audit({
        action: 'profile.updated',
        actor: actor(principal, context),
        subjectUserId: user.id,
        resource: `user:${user.id}`,
        oldValue: { name: user.name, email: user.email, locale: user.locale },
        newValue: { name: updated.name, email: updated.email, locale: updated.locale },
      });
      return updated;
    },

    /** Step-up route: sends a code to the new number, which must not belong to another account. */
    async requestPhoneChange(
      principal: Principal,
      input: { phone: string; locale?: string },
      context: RequestContext,
    ) {
      const phone = requirePhone(input.phone);
      const holder = await repository.findUserByPhone(phone);
      if (holder !== undefined && holder.id !== principal.userId) {
        throw identityErrors.of('conflict', 'phone_taken', 'This number belongs to another account.');
      }
      return codes.issue(phone, 'phone_change', { locale: input.locale, ip: context.ip });
    },

    async confirmPhoneChange(
      principal: Principal,
      input: { phone: string; code: string },
      context: RequestContext,
    ) {
      const phone = requirePhone(input.phone);
      await codes.verify(phone, 'phone_change', input.code);
      const user = await repository.findUserById(principal.userId);
      if (user === undefined || user.status === 'deleted')
        throw identityErrors.notFound('The account no longer exists.');
      const holder = await repository.findUserByPhone(phone);
      if (holder !== undefined && holder.id !== user.id)
        throw identityErrors.of('conflict', 'phone_taken', 'This number belongs to another account.');
      const updated = await repository.updateUser(user.id, { phone, phone_verified: true });
      await sessions.endAllForUser(user.id, 'phone_changed', principal.sessionId);
      await audit({
        action: 'profile.phone_changed',
        actor: actor(principal, context),
        subjectUserId: user.id,
        resource: `user:${user.id}`,
        oldValue: { phone: user.phone },
        newValue: { phone },
      });
      return updated;
    },

    listAddresses: (principal: Principal) => repository.listAddresses(principal.userId, MAX_ADDRESSES),

    async addAddress(principal: Principal, input: AddressInput) {
      return repository.transaction(async (transaction) => {
        await repository.lockUserById(principal.userId, transaction);
        if ((await repository.countAddresses(principal.userId, transaction)) >= MAX_ADDRESSES) {
          throw identityErrors.of(
            'unprocessable',
            'too_many_addresses',
            `Keep at most ${MAX_ADDRESSES} addresses.`,
          );
        }
        if (input.isDefault === true) await repository.clearDefaultAddress(principal.userId, transaction);
        const row = {
          ...(toColumns(input) as AddressChanges & Pick<AddressRecord, 'label' | 'line1' | 'city'>),
          user_id: principal.userId,
        };
        return repository.insertAddress(row, transaction);
      });
    },

    async updateAddress(principal: Principal, id: string, input: Partial<AddressInput>) {
      return repository.transaction(async (transaction) => {
        if (input.isDefault === true) await repository.clearDefaultAddress(principal.userId, transaction);
        const row = await repository.updateAddress(principal.userId, id, toColumns(input), transaction);
        if (row === undefined) throw identityErrors.notFound('No such address.');
        return row;
      });
    },

    /**
     * Delta sync of addresses (`GET /v1/sync/addresses`): the database clock read first, then the
     * addresses changed and the ids removed after `since` (all addresses when `since` is undefined).
     */
    async addressChanges(principal: Principal, since: (clock: Date) => Date | undefined) {
      const clock = await repository.databaseClock();
      const from = since(clock);
      if (from === undefined)
        return {
          clock,
          reset: true,
          changed: await repository.listAddresses(principal.userId, MAX_ADDRESSES),
          removed: [],
        };
      return {
        clock,
        reset: false,
        ...(await repository.addressChangesSince(principal.userId, from, MAX_ADDRESSES)),
      };
    },

    async deleteAddress(principal: Principal, id: string) {
      if (!(await repository.deleteAddress(principal.userId, id)))
        throw identityErrors.notFound('No such address.');
    },

    async preferences(principal: Principal): Promise<NotificationPreferences> {
      const user = await repository.findUserById(principal.userId);
      return preferencesOf(user?.notification_preferences);
    },

    async setPreferences(principal: Principal, input: NotificationPreferencesInput, context: RequestContext) {
      const given = input.quietHours ?? null;
      const quietHours = given === null ? null : { ...given, timeZone: given.timeZone ?? DEFAULT_TIME_ZONE };
      if (quietHours !== null && !isTimeZone(quietHours.timeZone))
        throw identityErrors.of(
          'validation',
          'time_zone_unknown',
          'The quiet hours name an unknown time zone.',
          {
            details: { timeZone: quietHours.timeZone },
          },
        );
      if (quietHours !== null && quietHours.start === quietHours.end)
        throw identityErrors.of(
          'validation',
          'quiet_hours_empty',
          'Quiet hours start and end at the same time; send null for none.',
        );
      const user = await repository.findUserById(principal.userId);
      if (user === undefined) throw identityErrors.notFound('The account no longer exists.');
      const preferences = preferencesOf({ ...input, quietHours });
      await repository.updateUser(principal.userId, { notification_preferences: preferences });
      await audit({
        action: 'profile.notification_preferences_changed',
        actor: actor(principal, context),
        subjectUserId: principal.userId,
        resource: `user:${principal.userId}`,
        oldValue: preferencesOf(user.notification_preferences),
        newValue: preferences,
      });
      return preferences;
    },

    listSessions: (principal: Principal) =>
      repository.listActiveSessions(principal.userId, MAX_SESSIONS_LISTED),

    async revokeSession(principal: Principal, sessionId: string, context: RequestContext) {
      const session = await repository.findSession(sessionId);
      if (session === undefined || session.user_id !== principal.userId || session.revoked_at !== null) {
        throw identityErrors.notFound('No such active session.');
      }
      await sessions.end(sessionId, 'revoked_by_user');
      await audit({
        action: 'session.revoked',
        actor: actor(principal, context),
        subjectUserId: principal.userId,
        resource: `session:${sessionId}`,
      });
    },
  };
}

export type Profile = ReturnType<typeof createProfile>;
