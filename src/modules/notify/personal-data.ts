import type { PersonalDataHook } from '../../platform/context.js';
import type { NotifyRepository } from './repository.js';

export const EXPORT_ROWS_MAX = 500;

/**
 * The notify context's share of one person's data (docs/privacy.md): their centre (kinds and
 * dates, not the texts: those are rendered from encrypted parameters) and their devices (platform
 * and dates, never the token). Erasure deletes both, and the sends (cascade). Idempotent.
 */
export function notifyPersonalData(repository: NotifyRepository): PersonalDataHook {
  return {
    async export(subjectId) {
      const { intents, devices } = await repository.exportOf(subjectId, EXPORT_ROWS_MAX);
      return {
        notifications: intents.map((row) => ({
          id: row.id,
          kind: row.kind,
          category: row.category,
          orderId: row.order_id,
          createdAt: row.created_at.toISOString(),
          readAt: row.read_at?.toISOString() ?? null,
          acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
        })),
        devices: devices.map((row) => ({
          id: row.id,
          platform: row.platform,
          createdAt: row.created_at.toISOString(),
          lastSeenAt: row.last_seen_at.toISOString(),
        })),
      };
    },
    async erase(subjectId) {
      const erased = await repository.erase(subjectId);
      return { notificationsDeleted: erased.intents, devicesDeleted: erased.devices };
    },
  };
}
