import type { ColumnType, Generated, Kysely } from 'kysely';

type Json<T> = ColumnType<T, string, string>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export const CATEGORIES = ['order_problem', 'payment', 'account', 'delivery', 'other'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Lowest first: escalation moves one step right. */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * open → pending (waiting on the opener) → resolved → closed; reopened within the window;
 * escalated: with a supervisor (only supervisors move it on).
 */
export const STATUSES = ['open', 'pending', 'escalated', 'resolved', 'closed'] as const;
/** The statuses of a ticket still being worked on. */
export const ACTIVE_STATUSES = ['open', 'pending', 'escalated'] as const;
export type TicketStatus = (typeof STATUSES)[number];

/** Where a ticket came from: the app, an inbound SMS or e-mail, or an order event (auto-tickets.ts). */
export const SOURCES = ['app', 'sms', 'email', 'dispute', 'delivery_failed'] as const;
export type TicketSource = (typeof SOURCES)[number];

export const OPENER_ROLES = ['customer', 'restaurant_owner', 'driver'] as const;
export type OpenerRole = (typeof OPENER_ROLES)[number];

export interface SupportTicketsTable {
  id: string;
  opener_id: string;
  opener_role: OpenerRole;
  category: Category;
  /** Ciphertext (field-crypto); NULL once erased. */
  subject: string | null;
  order_id: string | null;
  priority: Priority;
  status: TicketStatus;
  assignee_id: string | null;
  escalations: ColumnType<number, number | undefined, number>;
  sla_due_at: ColumnType<Date, Date | string, Date | string>;
  resolved_at: NullableTimestamp;
  closed_at: NullableTimestamp;
  erased_at: NullableTimestamp;
  /** How far the opener has read: the last message's position (only grows) and id. */
  opener_read_position: ColumnType<bigint | null, bigint | string | null | undefined, bigint | string | null>;
  opener_read_message_id: string | null;
  /** How far support staff have read (one side: whichever agent read it). */
  staff_read_position: ColumnType<bigint | null, bigint | string | null | undefined, bigint | string | null>;
  staff_read_message_id: string | null;
  /** When the first staff reply is due (NULL: tickets opened before SLA alerts), and when it came. */
  first_response_due_at: NullableTimestamp;
  first_responded_at: NullableTimestamp;
  /** When each breach was alerted (once; cleared when the due time moves). */
  first_response_alerted_at: NullableTimestamp;
  sla_alerted_at: NullableTimestamp;
  source: ColumnType<TicketSource, TicketSource | undefined, TicketSource>;
  /** The order event that opened it (one ticket per event); NULL for the other sources. */
  source_event_id: string | null;
  /** Its city (issue #26; its SLA clock follows the city's support hours); NULL: none known. */
  city_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** How many times it was reopened after a resolution (the reopen rate's numerator). */
  reopen_count: ColumnType<number, number | undefined, number>;
  /** The opener's satisfaction rating (1-5) once resolved, and when they gave it. */
  csat_score: number | null;
  csat_at: NullableTimestamp;
  /** Bumped by every change: a change applies only to the version it was decided on. */
  version: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SupportMessagesTable {
  id: string;
  ticket_id: string;
  position: Generated<string>;
  author_id: string;
  from_staff: boolean;
  internal: boolean;
  /** Ciphertext (field-crypto); NULL once erased. */
  body: string | null;
  attachments: Json<string[]>;
  created_at: Timestamp;
}

export const LOCALES = ['fr', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const ARTICLE_STATUSES = ['draft', 'published', 'archived'] as const;
export type ArticleStatus = (typeof ARTICLE_STATUSES)[number];

/** A knowledge-base article in one language (staff-written, not personal data). */
export interface SupportArticlesTable {
  id: string;
  slug: string;
  locale: Locale;
  title: string;
  body: string;
  category: Category | null;
  status: ArticleStatus;
  /** Recomputed by the repository on every write. */
  search_vector: ColumnType<string, string, string>;
  version: ColumnType<number, number | undefined, number>;
  created_by: string;
  updated_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SupportReactorCheckpointsTable {
  name: string;
  position: string;
  updated_at: Generated<Date>;
}

/** A support agent's settings for assignment (a row once an admin or the agent set one). */
export interface SupportAgentsTable {
  user_id: string;
  supervisor: ColumnType<boolean, boolean | undefined, boolean>;
  capacity: ColumnType<number, number | undefined, number>;
  available_until: NullableTimestamp;
  last_assigned_at: NullableTimestamp;
  /** Said they are away: no new ticket, connected or not. */
  away: ColumnType<boolean, boolean | undefined, boolean>;
  /** The team the agent belongs to (a slug an admin sets), for the figures per team. */
  team: ColumnType<string | null, string | null | undefined, string | null>;
  updated_at: Timestamp;
}

/** Which team takes a new ticket of a category (in a city, or with NULL in every other city). */
export interface SupportTeamRoutesTable {
  category: Category;
  city_id: string | null;
  team: string;
  updated_by: string | null;
  updated_at: Timestamp;
}

/** A canned response: a reply text per language that supervisors write and agents use. */
export interface SupportCannedResponsesTable {
  id: string;
  shortcut: string;
  locale: Locale;
  title: string;
  body: string;
  category: string | null;
  status: ColumnType<'active' | 'archived', 'active' | 'archived' | undefined, 'active' | 'archived'>;
  version: ColumnType<number, number | undefined, number>;
  created_by: string;
  updated_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export const REMEDY_KINDS = ['goodwill_credit', 'refund', 'mediation_note'] as const;
export type RemedyKind = (typeof REMEDY_KINDS)[number];
export const REFUND_DESTINATIONS = ['wallet', 'mobile_money'] as const;
export type RefundDestination = (typeof REFUND_DESTINATIONS)[number];
type Minor = ColumnType<bigint, bigint | number | undefined, bigint | number>;

/** A dispute remedy an agent decided (remedies.ts): booked on the ledger under ids named after it. */
export interface SupportRemediesTable {
  id: string;
  ticket_id: string;
  order_id: string | null;
  /** Whose wallet is credited: the order's customer, or the opener (a customer) without an order. */
  beneficiary_id: string;
  kind: RemedyKind;
  amount_minor: Minor;
  restaurant_minor: Minor;
  driver_minor: Minor;
  platform_minor: Minor;
  restaurant_id: string | null;
  driver_id: string | null;
  refund_to: RefundDestination | null;
  /** The mediation note or the reason, ciphertext (field-crypto); NULL once erased. */
  note: string | null;
  decided_by: string;
  /** `deciding` until every transfer is booked (a retry books what is missing). */
  status: 'deciding' | 'booked';
  payout_id: string | null;
  /** Why the Mobile Money payout was not requested (the money stays in the wallet). */
  payout_refusal: string | null;
  created_at: Timestamp;
  booked_at: NullableTimestamp;
  /** A Mobile Money refund's payout id, named at the decision: the sweep resumes that payout. */
  planned_payout_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** When a sweep last claimed the row (remedies.ts `sweep`): one instance finishes it at a time. */
  swept_at: NullableTimestamp;
}

export interface SupportTables {
  support_remedies: SupportRemediesTable;
  support_agents: SupportAgentsTable;
  support_team_routes: SupportTeamRoutesTable;
  support_canned_responses: SupportCannedResponsesTable;
  support_reactor_checkpoints: SupportReactorCheckpointsTable;
  support_tickets: SupportTicketsTable;
  support_messages: SupportMessagesTable;
  support_articles: SupportArticlesTable;
}

/** The database as this context sees it: its own tables only. */
export type SupportDb = Kysely<SupportTables>;
