import type { Actor, AuditFunction } from '../identity/index.js';
import type { BulkTarget } from './rules.js';

/**
 * What the admin context uses of identity, declared here (the consumer's port) and filled in
 * index.ts from identity's public API: user lookups, suspension (which ends every session and
 * revokes every token at once), reinstatement, forced logout, and the audit log.
 */
export interface AdminIdentityPort {
  findUser(userId: string): Promise<BulkTarget | undefined>;
  suspend(userId: string, reason: string, actor: Actor): Promise<unknown>;
  reinstate(userId: string, actor: Actor): Promise<unknown>;
  logout(userId: string, actor: Actor): Promise<unknown>;
  audit: AuditFunction;
}
