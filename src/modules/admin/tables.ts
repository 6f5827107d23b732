import type { ColumnType, Kysely } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface AdminFeatureFlagsTable {
  key: string;
  description: ColumnType<string, string | undefined, string>;
  enabled: boolean;
  /** Empty: every role. */
  roles: ColumnType<string[], string[] | undefined, string[]>;
  /** 0-100: the share of users (by a stable hash of flag and user) who get it. */
  percentage: number;
  /** Lower-case city slugs; empty: every city. */
  cities: ColumnType<string[], string[] | undefined, string[]>;
  version: ColumnType<number, number | undefined, number>;
  updated_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AdminSettingsTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  version: ColumnType<number, number | undefined, number>;
  updated_by: string | null;
  updated_at: Timestamp;
}

export interface AdminReactorCheckpointsTable {
  name: string;
  position: string;
  updated_at: Timestamp;
}

/** One row per evaluated event: the rules that fired on it (each counts it in its window). */
export interface AdminFraudSignalsTable {
  /** The event evaluated: recorded once however often it is delivered. */
  source_id: string;
  /** The account (null for a guest, or once erased). */
  user_id: string | null;
  /** `phone:<keyed blind index>` of the payment phone (never a phone number), if any. */
  phone_subject: string | null;
  rules: ColumnType<string[], string[], string[]>;
  /** Other subjects the event is about: `coupon:…` and `pair:<keyed hash>` (never an id or a number). */
  subjects: ColumnType<string[], string[] | undefined, string[]>;
  at: ColumnType<Date, Date | string, Date | string>;
}

export const CASE_STATUSES = ['open', 'dismissed', 'confirmed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export interface AdminFraudCasesTable {
  id: string;
  rule: string;
  subject: string;
  user_id: string | null;
  /** The second person of a pair rule (collusion: the customer; `user_id` is the driver). */
  related_user_id: ColumnType<string | null, string | null | undefined, string | null>;
  score: number;
  signals: number;
  reason: string;
  status: CaseStatus;
  opened_at: Timestamp;
  updated_at: Timestamp;
  decided_by: string | null;
  decided_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  decision_note: string | null;
}

/** One weekly fraud summary per week (fraud-summaries.ts): our figures and the prose around them. */
export interface AdminFraudSummariesTable {
  id: string;
  week_start: ColumnType<Date, string, string>;
  period_start: ColumnType<Date, Date | string, Date | string>;
  period_end: ColumnType<Date, Date | string, Date | string>;
  figures: ColumnType<unknown, string, string>;
  summary_fr: string;
  summary_en: string;
  source: string;
  model: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A fraud case's hold on its person's payouts, until an admin releases it. */
export interface AdminPayoutHoldsTable {
  case_id: string;
  user_id: string | null;
  score: number;
  reason: string;
  placed_at: ColumnType<Date, Date | string | undefined, Date | string>;
  released_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  released_by: string | null;
  release_note: string | null;
}

export type WithdrawalPayeeKind = 'driver' | 'restaurant' | 'customer';

/** An admin's hold on a payee's payouts and withdrawals (one active per payee). */
export interface AdminWithdrawalHoldsTable {
  id: string;
  payee_kind: WithdrawalPayeeKind;
  payee_id: string;
  reason: string;
  placed_by: string;
  placed_at: ColumnType<Date, Date | string | undefined, Date | string>;
  released_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  released_by: string | null;
  release_note: string | null;
}

export const PARTNERSHIP_KINDS = ['restaurant', 'fleet', 'corporate', 'other'] as const;
export type PartnershipKind = (typeof PARTNERSHIP_KINDS)[number];
export const PARTNERSHIP_STATUSES = ['new', 'accepted', 'declined'] as const;
export type PartnershipStatus = (typeof PARTNERSHIP_STATUSES)[number];

/** A public form's partnership request and its review (e-mail and phone encrypted). */
export interface AdminPartnershipRequestsTable {
  id: string;
  kind: PartnershipKind;
  organisation: string;
  contact_name: string;
  email: string;
  phone: string | null;
  city: string | null;
  message: string;
  status: ColumnType<PartnershipStatus, PartnershipStatus | undefined, PartnershipStatus>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  reviewed_by: string | null;
  reviewed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  review_note: string | null;
}

/** A paid placement of a restaurant on a city's home feed (docs/admin.md "Promotional slots"). */
export interface AdminPromoSlotsTable {
  id: string;
  restaurant_id: string;
  city: string;
  position: number;
  starts_at: ColumnType<Date, Date | string, Date | string>;
  ends_at: ColumnType<Date, Date | string, Date | string>;
  price_minor: ColumnType<bigint, bigint | number, bigint | number>;
  headline_fr: string;
  headline_en: string | null;
  version: ColumnType<number, number | undefined, number>;
  created_by: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  cancelled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  cancelled_by: string | null;
}

export type NewsletterStatus = 'draft' | 'scheduled' | 'sending' | 'sent' | 'cancelled';

export interface AdminNewsletterCampaignsTable {
  id: string;
  name: string;
  segment: ColumnType<unknown, string, string>;
  template: ColumnType<unknown, string, string>;
  channels: string[];
  status: NewsletterStatus;
  scheduled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  cursor_user_id: string | null;
  recipients: ColumnType<number, number | undefined, number>;
  version: ColumnType<number, number | undefined, number>;
  created_by: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  started_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  cancelled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  cancelled_by: string | null;
}

export interface AdminTables {
  admin_feature_flags: AdminFeatureFlagsTable;
  admin_settings: AdminSettingsTable;
  admin_reactor_checkpoints: AdminReactorCheckpointsTable;
  admin_fraud_signals: AdminFraudSignalsTable;
  admin_fraud_cases: AdminFraudCasesTable;
  admin_fraud_summaries: AdminFraudSummariesTable;
  admin_payout_holds: AdminPayoutHoldsTable;
  admin_withdrawal_holds: AdminWithdrawalHoldsTable;
  admin_partnership_requests: AdminPartnershipRequestsTable;
  admin_promo_slots: AdminPromoSlotsTable;
  admin_newsletter_campaigns: AdminNewsletterCampaignsTable;
}

/** The database as this context sees it: its own tables only. */
export type AdminDb = Kysely<AdminTables>;
