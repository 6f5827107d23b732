import Type, { type Static } from 'typebox';
import type { Role } from '../../shared/principal.js';
import type { UserRow } from './repository.js';

export const NOTIFICATION_KINDS = ['order_updates', 'promotions', 'wallet', 'security'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export type ChannelFlags = { push: boolean; sms: boolean; email: boolean };
/**
 * Quiet hours in the person's time zone (`HH:MM`, the end excluded; `22:00`-`07:00` spans the
 * night): non-urgent push and SMS wait until they end (docs/notifications.md).
 */
export interface QuietHours {
  start: string;
  end: string;
  timeZone: string;
}
export type NotificationPreferences = Record<NotificationKind, ChannelFlags> & {
  quietHours: QuietHours | null;
};
/** What a client sends: the time zone may be left out (Africa/Douala). */
export type NotificationPreferencesInput = Record<NotificationKind, ChannelFlags> & {
  quietHours?: (Omit<QuietHours, 'timeZone'> & { timeZone?: string }) | null;
};
export const DEFAULT_TIME_ZONE = 'Africa/Douala';

export const DEFAULT_PREFERENCES: NotificationPreferences = {
  order_updates: { push: true, sms: true, email: false },
  promotions: { push: false, sms: false, email: false },
  wallet: { push: true, sms: true, email: false },
  security: { push: true, sms: true, email: true },
  quietHours: null,
};

const ChannelFlagsSchema = Type.Object(
  { push: Type.Boolean(), sms: Type.Boolean(), email: Type.Boolean() },
  { additionalProperties: false },
);
const ClockTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM' });
export const QuietHoursSchema = Type.Object(
  {
    start: ClockTime,
    end: ClockTime,
    timeZone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'an IANA time zone (default Africa/Douala)' }),
    ),
  },
  { additionalProperties: false },
);
export const NotificationPreferencesSchema = Type.Object(
  {
    ...(Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, ChannelFlagsSchema])) as Record<
      NotificationKind,
      typeof ChannelFlagsSchema
    >),
    quietHours: Type.Optional(Type.Union([QuietHoursSchema, Type.Null()])),
  },
  { additionalProperties: false },
);

/** Whether the runtime knows an IANA time zone. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function preferencesOf(stored: unknown): NotificationPreferences {
  const value = (stored ?? {}) as Partial<NotificationPreferences>;
  const flags = Object.fromEntries(
    NOTIFICATION_KINDS.map((kind) => [kind, { ...DEFAULT_PREFERENCES[kind], ...(value[kind] ?? {}) }]),
  ) as Record<NotificationKind, ChannelFlags>;
  const quiet = value.quietHours;
  return {
    ...flags,
    quietHours:
      quiet === undefined || quiet === null
        ? null
        : { start: quiet.start, end: quiet.end, timeZone: quiet.timeZone ?? DEFAULT_TIME_ZONE },
  };
}

/** The notification kinds whose SMS an SMS `STOP` silences and `START` brings back. */
const SMS_STOPPED_KINDS = ['order_updates', 'wallet', 'promotions'] as const;
const SMS_STARTED_KINDS = ['order_updates', 'wallet'] as const;

/**
 * The preferences after an SMS `STOP` (no SMS for orders, wallet or promotions) or `START` (SMS
 * for orders and wallet again; promotions stay as they are: marketing needs its own opt-in).
 * Security messages (codes the person asks for) ignore the switches, as in notify. Answers
 * `changed: false` when the command changes nothing (a repeated STOP). Pure: the USSD context's
 * SMS commands (Africa's Talking's and Twilio's) and a new account of a number that sent `STOP`
 * before it had one (the opt-out list) use the same rule.
 */
export function smsPreferencesAfter(
  stored: unknown,
  command: 'stop' | 'start',
): { before: NotificationPreferences; after: NotificationPreferences; changed: boolean } {
  const before = preferencesOf(stored);
  const after: NotificationPreferences = structuredClone(before);
  const kinds = command === 'stop' ? SMS_STOPPED_KINDS : SMS_STARTED_KINDS;
  for (const kind of kinds) after[kind] = { ...after[kind], sms: command === 'start' };
  const changed = kinds.some((kind) => before[kind].sms !== after[kind].sms);
  return { before, after, changed };
}

export const PublicUserSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  phone: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.String()),
  status: Type.String(),
  phoneVerified: Type.Boolean(),
  emailVerified: Type.Boolean(),
  twoFactorEnabled: Type.Boolean(),
  locale: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type PublicUser = Static<typeof PublicUserSchema>;

export function toPublicUser(user: UserRow, twoFactorEnabled: boolean): PublicUser {
  return {
    id: user.id,
    phone: user.phone,
    email: user.email,
    name: user.name,
    roles: user.roles as Role[],
    status: user.status,
    phoneVerified: user.phone_verified,
    emailVerified: user.email_verified,
    twoFactorEnabled,
    locale: user.locale,
    createdAt: user.created_at.toISOString(),
  };
}
