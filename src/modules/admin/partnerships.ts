import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { FieldCipher } from '../../platform/field-crypto.js';
import type { Actor, AuditFunction } from '../identity/index.js';
import { adminErrors } from './errors.js';
import type { AdminDb, PartnershipKind, PartnershipStatus } from './tables.js';
import { newestFirstPage } from './cursor.js';

/**
 * Partnership requests (docs/admin.md "Partnership requests"): a public form's submissions and a
 * review queue for admins. The contact's e-mail and phone are encrypted at rest and never logged;
 * a review (accept or decline, with a note) is made once and audited in the same transaction.
 */
export const PARTNERSHIPS_PAGE_MAX = 100;
const EMAIL = 'admin.partnership.email';
const PHONE = 'admin.partnership.phone';

export interface PartnershipInput {
  kind: PartnershipKind;
  organisation: string;
  contactName: string;
  email: string;
  phone?: string | undefined;
  city?: string | undefined;
  message: string;
}

export interface PartnershipView extends Omit<PartnershipInput, 'phone' | 'city'> {
  id: string;
  phone: string | null;
  city: string | null;
  status: PartnershipStatus;
  createdAt: string;
  reviewedBy: string | null;
  reviewedAt: string | null;
  reviewNote: string | null;
}

type Row = {
  id: string;
  kind: PartnershipKind;
  organisation: string;
  contact_name: string;
  email: string;
  phone: string | null;
  city: string | null;
  message: string;
  status: PartnershipStatus;
  created_at: Date;
  reviewed_by: string | null;
  reviewed_at: Date | null;
  review_note: string | null;
};

/** Trimmed, with no control characters but newlines (the message) and not blank. */
function clean(value: string, field: string, multiline = false): string {
  const text = value.trim();
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  const control = multiline ? /[\u0000-\u0009\u000B-\u001F\u007F]/ : /[\u0000-\u001F\u007F]/;
  if (text.length === 0 || control.test(text))
    throw adminErrors.of(
      'validation',
      'validation_failed',
      `${field} is blank or holds control characters.`,
      {
        details: { errors: [{ path: `/${field}`, message: 'blank or control characters' }] },
      },
    );
  return text;
}

export function createPartnerships(deps: { db: AdminDb; audit: AuditFunction; fields: FieldCipher }) {
  const { db, fields } = deps;

  function view(row: Row): PartnershipView {
    return {
      id: row.id,
      kind: row.kind,
      organisation: row.organisation,
      contactName: row.contact_name,
      email: fields.decrypt(EMAIL, row.email),
      phone: fields.decrypt(PHONE, row.phone),
      city: row.city,
      message: row.message,
      status: row.status,
      createdAt: row.created_at.toISOString(),
      reviewedBy: row.reviewed_by,
      reviewedAt: row.reviewed_at?.toISOString() ?? null,
      reviewNote: row.review_note,
    };
  }

  async function submit(input: PartnershipInput): Promise<{ id: string; status: PartnershipStatus }> {
    const row = await db
      .insertInto('admin_partnership_requests')
      .values({
        id: randomUUID(),
        kind: input.kind,
        organisation: clean(input.organisation, 'organisation'),
        contact_name: clean(input.contactName, 'contactName'),
        email: fields.encrypt(EMAIL, clean(input.email, 'email').toLowerCase()),
        phone: input.phone === undefined ? null : fields.encrypt(PHONE, clean(input.phone, 'phone')),
        city: input.city === undefined ? null : clean(input.city, 'city'),
        message: clean(input.message, 'message', true),
      })
      .returning(['id', 'status'])
      .executeTakeFirstOrThrow();
    return row;
  }

  async function list(query: {
    status?: PartnershipStatus | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  }) {
    let select = db.selectFrom('admin_partnership_requests').selectAll();
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    const { rows, nextCursor } = await newestFirstPage(select, 'created_at', (row) => row.created_at, {
      cursor: query.cursor,
      limit: Math.min(query.limit ?? 20, PARTNERSHIPS_PAGE_MAX),
    });
    return { items: rows.map(view), nextCursor };
  }

  /** Accepts or declines a new request, once; audited in the same transaction. */
  async function review(
    id: string,
    input: { decision: 'accept' | 'decline'; note: string },
    actor: Actor,
  ): Promise<PartnershipView> {
    const note = input.note.trim();
    if (note.length < 3)
      throw adminErrors.of('validation', 'note_required', 'Say why, in at least 3 characters.');
    const status: PartnershipStatus = input.decision === 'accept' ? 'accepted' : 'declined';
    return db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('admin_partnership_requests')
        .set({
          status,
          reviewed_by: actor.userId ?? 'system',
          reviewed_at: sql<Date>`now()`,
          review_note: note,
        })
        .where('id', '=', id)
        .where('status', '=', 'new')
        .returningAll()
        .executeTakeFirst();
      if (updated === undefined) {
        const row = await trx
          .selectFrom('admin_partnership_requests')
          .select('status')
          .where('id', '=', id)
          .executeTakeFirst();
        if (row === undefined) throw adminErrors.notFound('No such partnership request.');
        throw adminErrors.of(
          'conflict',
          'partnership_already_reviewed',
          'The request was already reviewed.',
          {
            details: { requestStatus: row.status },
          },
        );
      }
      await deps.audit(
        {
          action: 'admin.partnership_reviewed',
          actor,
          resource: `partnership_request:${id}`,
          oldValue: { status: 'new' },
          newValue: { status, kind: updated.kind },
        },
        trx,
      );
      return view(updated);
    });
  }

  async function get(id: string): Promise<PartnershipView> {
    const row = await db
      .selectFrom('admin_partnership_requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) throw adminErrors.notFound('No such partnership request.');
    return view(row);
  }

  return { submit, list, get, review };
}

export type Partnerships = ReturnType<typeof createPartnerships>;
