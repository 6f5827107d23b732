import Type, { type Static } from 'typebox';
import type { Role } from '../../shared/principal.js';
import type { UserRow } from './repository.js';

export const NOTIFICATION_KINDS = ['order_updates', 'promotions', 'wallet', 'security'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export type NotificationPreferences = Record<
  NotificationKind,
  { push: boolean; sms: boolean; email: boolean }
>;

export const DEFAULT_PREFERENCES: NotificationPreferences = {
  order_updates: { push: true, sms: true, email: false },
  promotions: { push: false, sms: false, email: false },
  wallet: { push: true, sms: true, email: false },
  security: { push: true, sms: true, email: true },
};

const ChannelFlags = Type.Object(
  { push: Type.Boolean(), sms: Type.Boolean(), email: Type.Boolean() },
  { additionalProperties: false },
);
export const NotificationPreferencesSchema = Type.Object(
  Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, ChannelFlags])) as Record<
    NotificationKind,
    typeof ChannelFlags
  >,
  { additionalProperties: false },
);

export function preferencesOf(stored: unknown): NotificationPreferences {
  const value = (stored ?? {}) as Partial<NotificationPreferences>;
  return Object.fromEntries(
    NOTIFICATION_KINDS.map((kind) => [kind, { ...DEFAULT_PREFERENCES[kind], ...(value[kind] ?? {}) }]),
  ) as NotificationPreferences;
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
