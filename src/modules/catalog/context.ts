/**
 * What the catalog needs from the rest of the application, injected so the module never reads
 * another context's tables: identity's audit log and role grants, the clock, and (later) the
 * orders context's completed-order lookup for reviews.
 */
import type { FieldCipher } from '../../platform/field-crypto.js';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { CatalogDb, CatalogTables } from './tables.js';

/** Structurally identity's `Actor` (src/modules/identity/audit.ts). */
export interface Actor {
  kind: 'user' | 'system' | 'cli' | 'anonymous';
  userId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

/** Structurally identity's `AuditEntry`. */
export interface AuditEntry {
  action: string;
  actor: Actor;
  subjectUserId?: string | null;
  resource?: string | null;
  oldValue?: unknown;
  newValue?: unknown;
}

export type AuditWriter = (entry: AuditEntry, transaction?: Transaction<CatalogTables>) => Promise<void>;
export type RoleGranter = (
  userId: string,
  role: 'restaurant_owner',
  actor: Actor,
  transaction?: Transaction<CatalogTables>,
) => Promise<void>;

/** Who is asking, as the catalog needs it (from `request.principal`). */
export interface Caller {
  userId: string;
  isAdmin: boolean;
  actor: Actor;
}

export interface CatalogDependencies {
  db: CatalogDb;
  logger: Logger;
  audit: AuditWriter;
  grantRole: RoleGranter;
  /** Encrypts restaurants' contact phone and e-mail at rest (issue #15). */
  fields: FieldCipher;
  now?: () => Date;
  /** The H3 resolution zones and restaurants' areas are cut at (`ZONE_H3_RESOLUTION`; default 9). */
  zoneResolution?: number;
}
