import type { PaymentsDb } from './tables.js';
import type { PersonalDataHook } from '../../platform/context.js';
import type { FieldCipher } from '../../platform/field-crypto.js';
import { payoutPhone, REDACTED_PHONE } from './payouts.js';
import { AUTO_TOPUP_PHONE, type WalletService } from './wallet-service.js';

/**
 * The payments context's share of one person's data (GDPR export and erasure, issue #15).
 *
 * Export: every wallet (balance, limits, auto top-up) with its ledger statement, the person's
 * payment attempts and the payouts they are payee of or asked for.
 *
 * Erasure keeps every money record (the ledger and the payment and payout rows are the legal
 * record: amounts, ids, statuses and times stay) and erases the personal fields in them: the
 * auto top-up phone (and auto top-up is switched off), the phone of each payout to or asked by
 * the person. The Mobile Money phone of a payment lives in its event, sealed under the person's
 * data key, which the event store's erasure shreds. Idempotent.
 */
export const EXPORT_ROWS_MAX = 1_000;
const STATEMENT_PAGE = 100;

export function paymentsPersonalData(options: {
  db: PaymentsDb;
  wallets: Pick<WalletService, 'summary' | 'transactions'>;
  fields: FieldCipher;
}): PersonalDataHook {
  const { db, fields } = options;

  async function statement(userId: string, currency: 'XAF' | 'USD') {
    const items: unknown[] = [];
    let cursor: string | undefined;
    while (items.length < EXPORT_ROWS_MAX) {
      const page = await options.wallets.transactions(userId, currency, {
        limit: STATEMENT_PAGE,
        ...(cursor === undefined ? {} : { cursor }),
      });
      items.push(...page.items.map((item) => ({ ...item, amountMinor: item.amountMinor.toString() })));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    return items.slice(0, EXPORT_ROWS_MAX);
  }

  return {
    async export(userId) {
      const rows = await db
        .selectFrom('wallets')
        .select(['currency', 'auto_topup_phone'])
        .where('user_id', '=', userId)
        .execute();
      const wallets = [];
      for (const { currency, auto_topup_phone: phone } of rows) {
        const summary = await options.wallets.summary(userId, currency);
        wallets.push({
          currency,
          status: summary.status,
          balanceMinor: summary.balanceMinor.toString(),
          availableMinor: summary.availableMinor.toString(),
          heldMinor: summary.heldMinor.toString(),
          autoTopUp: {
            enabled: summary.autoTopUp.enabled,
            thresholdMinor: summary.autoTopUp.thresholdMinor?.toString() ?? null,
            amountMinor: summary.autoTopUp.amountMinor?.toString() ?? null,
            phone: fields.decrypt(AUTO_TOPUP_PHONE, phone),
          },
          movements: await statement(userId, currency),
        });
      }
      const payments = await db
        .selectFrom('payment_attempts')
        .select([
          'payment_id',
          'purpose',
          'order_id',
          'amount_minor',
          'currency',
          'operator',
          'provider',
          'status',
          'failure_reason',
          'created_at',
          'settled_at',
        ])
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .limit(EXPORT_ROWS_MAX)
        .execute();
      const payouts = await db
        .selectFrom('payouts')
        .select([
          'payout_id',
          'payee_kind',
          'payee_id',
          'amount_minor',
          'currency',
          'phone',
          'status',
          'provider',
          'created_at',
          'sent_at',
        ])
        .where((eb) =>
          eb.or([
            eb('requested_by', '=', userId),
            eb.and([eb('payee_kind', 'in', ['driver', 'customer']), eb('payee_id', '=', userId)]),
          ]),
        )
        .orderBy('created_at', 'desc')
        .limit(EXPORT_ROWS_MAX)
        .execute();
      const consents = await db
        .selectFrom('card_funding_consents')
        .select(['recipient_user_id', 'funder_user_id', 'status', 'requested_at'])
        .where((eb) => eb.or([eb('recipient_user_id', '=', userId), eb('funder_user_id', '=', userId)]))
        .limit(EXPORT_ROWS_MAX)
        .execute();
      return {
        wallets,
        cardFundingConsents: consents.map((row) => ({
          recipientUserId: row.recipient_user_id,
          funderUserId: row.funder_user_id,
          status: row.status,
          requestedAt: row.requested_at.toISOString(),
        })),
        payments: payments.map((row) => ({
          paymentId: row.payment_id,
          purpose: row.purpose,
          orderId: row.order_id,
          amountMinor: row.amount_minor.toString(),
          currency: row.currency,
          operator: row.operator,
          provider: row.provider,
          status: row.status,
          failureReason: row.failure_reason,
          createdAt: row.created_at.toISOString(),
          settledAt: row.settled_at?.toISOString() ?? null,
        })),
        payouts: payouts.map((row) => ({
          payoutId: row.payout_id,
          payeeKind: row.payee_kind,
          payeeId: row.payee_id,
          amountMinor: row.amount_minor.toString(),
          currency: row.currency,
          phone: payoutPhone(fields, row.phone),
          status: row.status,
          provider: row.provider,
          createdAt: row.created_at.toISOString(),
          sentAt: row.sent_at?.toISOString() ?? null,
        })),
      };
    },

    async erase(userId) {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('wallets')
          .set({ auto_topup_phone: null, auto_topup_enabled: false })
          .where('user_id', '=', userId)
          .execute();
        await trx
          .updateTable('payouts')
          .set({ phone: REDACTED_PHONE })
          .where((eb) =>
            eb.or([
              eb('requested_by', '=', userId),
              eb.and([eb('payee_kind', 'in', ['driver', 'customer']), eb('payee_id', '=', userId)]),
            ]),
          )
          .where('phone', '<>', REDACTED_PHONE)
          .execute();
        // Who funds whom by card is personal; the fundings' amounts stay (the ledger's record).
        await trx
          .deleteFrom('card_funding_consents')
          .where((eb) => eb.or([eb('recipient_user_id', '=', userId), eb('funder_user_id', '=', userId)]))
          .execute();
        // A relative's wallet whose controls this person set keeps them, as its owner's own.
        await trx
          .updateTable('wallets')
          .set({ category_controls_by: null })
          .where('category_controls_by', '=', userId)
          .execute();
      });
      return {
        wallets: 'auto top-up phone erased',
        payouts: 'phones erased',
        cardFundingConsents: 'deleted',
      };
    },
  };
}
