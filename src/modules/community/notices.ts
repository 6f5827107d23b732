/**
 * What group carts and bulk orders tell people, through the notify context (docs/community.md
 * "Notices"; notify's intents, templates in French and English, the person's preferences, push
 * then SMS, the in-app centre). Declared here, implemented by notify, which names each intent
 * after the fact (the cart or request, the fact, its subject): a fact told twice, by two
 * instances or by a request and the sweep, is recorded and sent once.
 *
 * Told after the change it reports is committed, and never in the way of the money: a notice
 * that fails is logged and the request or the sweep goes on.
 */
import type { Logger } from 'pino';

export type GroupNoticeEvent =
  'member_joined' | 'share_due' | 'share_paid' | 'placed' | 'expired' | 'failed' | 'abandoned';

export interface GroupCartNoticeInput {
  cartId: string;
  code: string;
  event: GroupNoticeEvent;
  subjectId?: string;
  recipients: readonly { userId: string; amountMinor?: number }[];
  expiresAt?: Date;
  orderId?: string;
}

export type BulkNoticeEvent =
  'requested' | 'deposit_held' | 'confirmed' | 'proposed' | 'refused' | 'balance_paid' | 'placed' | 'expired';

export interface BulkOrderNoticeInput {
  bulkOrderId: string;
  event: BulkNoticeEvent;
  recipientId: string;
  scheduledFor: Date;
  portions?: number;
  totalMinor?: number;
  amountMinor?: number;
  deadline?: Date;
  orderId?: string;
}

export interface CommunityNotifier {
  groupCartNotice(notice: GroupCartNoticeInput): Promise<{ created: number }>;
  bulkOrderNotice(notice: BulkOrderNoticeInput): Promise<{ created: boolean }>;
}

/** Tells, and logs (ids only) rather than throws when telling fails. */
export function safeNotices(notifier: CommunityNotifier | undefined, logger: Logger) {
  return {
    async group(notice: GroupCartNoticeInput): Promise<void> {
      if (notice.recipients.length === 0 || notifier === undefined) return;
      await notifier.groupCartNotice(notice).catch((error: unknown) => {
        logger.warn({ err: error, cartId: notice.cartId, event: notice.event }, 'group cart notice failed');
      });
    },
    async bulk(notice: BulkOrderNoticeInput): Promise<void> {
      if (notifier === undefined) return;
      await notifier.bulkOrderNotice(notice).catch((error: unknown) => {
        logger.warn(
          { err: error, bulkOrderId: notice.bulkOrderId, event: notice.event },
          'bulk order notice failed',
        );
      });
    },
  };
}
