/**
 * What the support context needs from others, by the interfaces it uses: orders (who an order
 * concerns, its value and status, and opening its dispute through orders' own command), files
 * (may this person read this file: attachments) and identity (the audit log, and whether a person
 * is a support agent). Each is implemented by its owner.
 */

import type { Permission } from '../../shared/principal.js';

/** Structurally identity's `Actor`. */
export interface SupportActor {
  kind: 'user' | 'system' | 'cli' | 'anonymous';
  userId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

/** Structurally identity's `AuditEntry`. */
export interface SupportAuditEntry {
  action: string;
  actor: SupportActor;
  subjectUserId?: string | null;
  resource?: string | null;
  oldValue?: unknown;
  newValue?: unknown;
}

export type SupportAudit = (entry: SupportAuditEntry) => Promise<void>;

/** Implemented by orders (`parties`): the people an order concerns, its status and value. */
export interface SupportOrderPartiesPort {
  partiesOf(orderId: string): Promise<
    | {
        orderId: string;
        status: string;
        customerId: string;
        restaurantId: string;
        restaurantOwnerId: string;
        driverId: string | null;
        totalMinor: number;
        refundMinor: number;
      }
    | undefined
  >;
}

/** Implemented by orders (`disputes`): `OpenDispute` as the order's customer, through the decider. */
export interface SupportDisputesPort {
  open(
    orderId: string,
    customerId: string,
    reason: string,
    metadata?: { actorId?: string; actorRole?: string; correlationId?: string },
  ): Promise<{ status: string }>;
}

/**
 * Implemented by orders (`remedies`): a remedy booked on the ledger, recorded on the order as
 * `OrderRemedyRecorded` once per remedy id (a retry or a sweep appends nothing more).
 */
export interface SupportOrderRemediesPort {
  record(
    orderId: string,
    remedy: {
      remedyId: string;
      ticketId: string;
      kind: 'refund' | 'goodwill_credit';
      amountMinor: number;
      shares: { restaurantMinor: number; driverMinor: number; platformMinor: number };
      refundTo: 'wallet' | 'mobile_money' | null;
      by: { role: 'support' | 'admin' | 'system'; id: string };
    },
    metadata?: { actorId?: string; actorRole?: string; correlationId?: string },
  ): Promise<{ recorded: boolean }>;
}

/** Who reads a file: structurally the files context's `FilesCaller`. */
export interface SupportFileReader {
  userId: string;
  permissions: ReadonlySet<Permission>;
  roles: readonly string[];
  actor: SupportActor;
}

/** Implemented by files (`read`): resolves when the reader may see the file, throws (404) otherwise. */
export type SupportFilesPort = (reader: SupportFileReader, fileId: string) => Promise<unknown>;

/** Implemented from identity's repository: whether a person holds the support (or admin) role. */
export type SupportAgentDirectory = (userId: string) => Promise<boolean>;

/**
 * Implemented by notify: a staff reply told to an opener who is not connected (by e-mail, to
 * whatever presence, on a ticket opened by e-mail), and an SLA breach
 * told to supervisors, each through notify's intents (push, then SMS; preferences and quiet
 * hours). Both are idempotent by the ids they name.
 */
export interface SupportNotifier {
  supportReply(reply: {
    messageId: string;
    ticketId: string;
    recipientId: string;
    text: string;
  }): Promise<{ created: boolean }>;
  /**
   * A staff reply on a ticket opened by e-mail, sent back by e-mail (the subject carrying the
   * ticket's reference; push/SMS where the person allows no e-mail). Idempotent by the message id.
   */
  supportEmailReply(reply: {
    messageId: string;
    ticketId: string;
    recipientId: string;
    text: string;
    subject: string;
  }): Promise<{ created: boolean }>;
  supportSlaBreach(alert: {
    ticketId: string;
    breach: 'first_response' | 'resolution';
    priority: string;
    dueAt: Date;
    recipientIds: readonly string[];
  }): Promise<{ created: number }>;
}
