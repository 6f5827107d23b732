/**
 * Drivers' onboarding (issue #20): a signed-in user applies to drive with documents uploaded
 * through the files context (purpose `driver_document`, their own, scanned clean), a vehicle and
 * the expiry of licence and insurance; staff review the queue (approve, reject or ask for more,
 * with a reason), set the background check, and each review is audited. Approval grants the
 * driver role through identity. Only an approved driver whose documents have not expired may go
 * on shift (`shiftGate`, called by the shift service), and so get offers.
 */
import { createHash } from 'node:crypto';
import { DuplicateEventIds, type EventStore } from '../../eventstore/index.js';
import type { Role } from '../../shared/principal.js';
import { dispatchErrors } from './errors.js';
import type { Vehicle } from './fix-rules.js';
import type { ApplicationRow, OnboardingRepository } from './onboarding-repository.js';
import {
  addDays,
  doualaDay,
  draftProblem,
  judgeReview,
  requiredDocuments,
  shiftRefusal,
  type ApplicationDocumentKind,
  type ApplicationDraft,
  type BackgroundCheck,
  type ReviewDecision,
} from './onboarding-rules.js';

export const QUEUE_PAGE_MAX = 100;
export const DOCUMENTS_STREAM_PREFIX = 'driver-documents-';

/** A UUID (version 8 layout) derived from a name: the same name, the same id. */
export function derivedUuid(name: string): string {
  const hex = createHash('sha256').update(`dispatch:${name}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A licence or insurance is reminded of this many days before it ends. */
export const REMINDER_THRESHOLD_DAYS = [30, 7] as const;

/** The threshold (days before `expiresOn`) one of `days` reached; the nearest when several did. */
function thresholdCrossed(days: readonly string[], expiresOn: string | null): number | undefined {
  if (expiresOn === null) return undefined;
  return [...REMINDER_THRESHOLD_DAYS]
    .reverse()
    .find((threshold) => days.some((day) => addDays(day, threshold) === expiresOn));
}

/** Tells a driver their licence or insurance ends in `daysLeft` days (notify's driverReminder). */
export type DocumentRemind = (reminder: {
  driverId: string;
  kind: 'licence' | 'insurance';
  expiresOn: string;
  daysLeft: number;
}) => Promise<unknown>;

/** An audit actor, as identity's audit log takes it. */
export interface OnboardingActor {
  kind: 'user' | 'system' | 'cli';
  userId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

/** What onboarding needs of the files context: a stored file's owner, purpose and kind. */
export interface DriverDocumentLookup {
  find(fileId: string): Promise<
    | {
        purpose: string;
        owner_user_id: string | null;
        document_kind: string | null;
        status: string;
        deleted_at: Date | null;
      }
    | undefined
  >;
}

/** What onboarding needs of identity: the audited role grant and the audit log. */
export interface OnboardingIdentity {
  grantRole(userId: string, role: Role, actor: OnboardingActor): Promise<unknown>;
  audit(entry: {
    action: string;
    actor: OnboardingActor;
    subjectUserId?: string | null;
    resource?: string | null;
    oldValue?: unknown;
    newValue?: unknown;
  }): Promise<unknown>;
}

export interface ApplicationView {
  userId: string;
  status: ApplicationRow['status'];
  vehicle: Vehicle;
  plate: string | null;
  licenceExpiresOn: string;
  insuranceExpiresOn: string | null;
  documents: Record<string, string>;
  backgroundCheck: BackgroundCheck;
  reason: string | null;
  reviewedAt: string | null;
  submittedAt: string;
}

function viewOf(row: ApplicationRow): ApplicationView {
  return {
    userId: row.user_id,
    status: row.status,
    vehicle: row.vehicle,
    plate: row.plate,
    licenceExpiresOn: row.licence_expires_on,
    insuranceExpiresOn: row.insurance_expires_on,
    documents: row.documents,
    backgroundCheck: row.background_check,
    reason: row.reason,
    reviewedAt: row.reviewed_at?.toISOString() ?? null,
    submittedAt: row.submitted_at.toISOString(),
  };
}

/** A document map as text with sorted keys (jsonb keeps its own key order). */
const canonical = (documents: Record<string, string>) =>
  JSON.stringify(Object.entries(documents).sort(([a], [b]) => (a < b ? -1 : 1)));

const CURSOR_SEPARATOR = '|';
export const encodeQueueCursor = (row: ApplicationRow) =>
  Buffer.from(`${row.submitted_at.toISOString()}${CURSOR_SEPARATOR}${row.user_id}`).toString('base64url');
function decodeQueueCursor(cursor: string): { submittedAt: Date; userId: string } {
  const [at, userId] = Buffer.from(cursor, 'base64url').toString('utf8').split(CURSOR_SEPARATOR);
  const submittedAt = new Date(at ?? '');
  if (userId === undefined || !/^[0-9a-f-]{36}$/.test(userId) || Number.isNaN(submittedAt.getTime()))
    throw dispatchErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API gave.');
  return { submittedAt, userId };
}

function expiryOf(row: Pick<ApplicationRow, 'status' | 'licence_expires_on' | 'insurance_expires_on'>) {
  return {
    status: row.status,
    licenceExpiresOn: row.licence_expires_on,
    insuranceExpiresOn: row.insurance_expires_on,
  };
}

export function createOnboarding(deps: {
  repository: OnboardingRepository;
  files: () => DriverDocumentLookup;
  identity: OnboardingIdentity;
  now?: () => number;
}) {
  const { repository, identity } = deps;
  const now = deps.now ?? Date.now;
  const notFound = () =>
    dispatchErrors.of(
      'not_found',
      'application_not_found',
      'There is no application to drive for this user.',
    );

  async function checkDocuments(userId: string, documents: ApplicationDraft['documents']): Promise<void> {
    for (const [kind, fileId] of Object.entries(documents)) {
      const file = await deps.files().find(fileId);
      if (
        file === undefined ||
        file.purpose !== 'driver_document' ||
        file.owner_user_id !== userId ||
        file.document_kind !== kind ||
        file.status !== 'clean' ||
        file.deleted_at !== null
      )
        throw dispatchErrors.of(
          'unprocessable',
          'application_document_invalid',
          `The ${kind} document is not one of your driver documents of that kind (POST /v1/files, purpose driver_document).`,
          { details: { documentKind: kind } },
        );
    }
  }

  return {
    repository,
    requiredDocuments,

    async mine(userId: string): Promise<ApplicationView> {
      const row = await repository.find(userId);
      if (row === undefined) throw notFound();
      return viewOf(row);
    },

    /** Submits or resubmits (PUT: the same body twice is the same application). */
    async apply(userId: string, draft: ApplicationDraft, actor: OnboardingActor): Promise<ApplicationView> {
      const problem = draftProblem(draft, doualaDay(now()));
      if (problem !== null) {
        const { code, ...details } = problem;
        throw dispatchErrors.of(
          code === 'application_document_expired' ? 'unprocessable' : 'validation',
          code,
          problem.code === 'application_document_missing'
            ? `The application needs a ${problem.kind} document for this vehicle.`
            : problem.code === 'application_field_missing'
              ? 'A motor vehicle needs its plate and the expiry of its insurance.'
              : 'A document has expired (or expires today).',
          { details },
        );
      }
      const wanted = new Set<string>(requiredDocuments(draft.vehicle));
      const documents = Object.fromEntries(
        Object.entries(draft.documents).filter(([kind]) => wanted.has(kind)),
      ) as Record<ApplicationDocumentKind, string>;
      await checkDocuments(userId, documents);
      const row = await repository.db.transaction().execute(async (trx) => {
        const current = await repository.lock(trx, userId);
        if (current?.status === 'approved')
          throw dispatchErrors.of(
            'conflict',
            'application_already_approved',
            'You are already an approved driver.',
          );
        const same =
          current?.status === 'pending' &&
          current.vehicle === draft.vehicle &&
          current.plate === draft.plate &&
          current.licence_expires_on === draft.licenceExpiresOn &&
          current.insurance_expires_on === draft.insuranceExpiresOn &&
          canonical(current.documents) === canonical(documents);
        if (same) return current;
        await repository.submit(
          trx,
          {
            userId,
            vehicle: draft.vehicle,
            plate: draft.plate,
            licenceExpiresOn: draft.licenceExpiresOn,
            insuranceExpiresOn: draft.insuranceExpiresOn,
            documents,
          },
          new Date(now()),
        );
        return undefined;
      });
      if (row !== undefined) return viewOf(row);
      await identity.audit({
        action: 'driver_application.submitted',
        actor,
        subjectUserId: userId,
        resource: `driver_application:${userId}`,
        newValue: { vehicle: draft.vehicle, documents: Object.keys(documents) },
      });
      return this.mine(userId);
    },

    async queue(status: ApplicationRow['status'], cursor: string | undefined, limit: number) {
      const bounded = Math.max(1, Math.min(limit, QUEUE_PAGE_MAX));
      const rows = await repository.queue(
        status,
        cursor === undefined ? undefined : decodeQueueCursor(cursor),
        bounded + 1,
      );
      const page = rows.slice(0, bounded);
      return {
        items: page.map(viewOf),
        nextCursor: rows.length > bounded ? encodeQueueCursor(page[page.length - 1]!) : null,
      };
    },

    async read(userId: string): Promise<ApplicationView> {
      return this.mine(userId);
    },

    /** A staff review; approval grants the driver role (audited by identity) and is audited here too. */
    async review(
      userId: string,
      input: { decision: ReviewDecision; reason: string | null },
      reviewer: OnboardingActor,
    ): Promise<ApplicationView> {
      const { verdict, before } = await repository.db.transaction().execute(async (trx) => {
        const current = await repository.lock(trx, userId);
        if (current === undefined) throw notFound();
        const judged = judgeReview(current.status, input.decision, current.background_check, input.reason);
        if (judged.outcome === 'change')
          await repository.review(
            trx,
            userId,
            {
              status: judged.status,
              reason: input.decision === 'approve' ? null : input.reason,
              reviewedBy: reviewer.userId ?? null,
            },
            new Date(now()),
          );
        return { verdict: judged, before: current.status };
      });
      if (verdict.outcome === 'refused')
        throw dispatchErrors.of(
          verdict.code === 'reason_required' ? 'validation' : 'conflict',
          verdict.code,
          verdict.code === 'reason_required'
            ? 'A rejection or a request for more needs a reason the applicant will read.'
            : verdict.code === 'background_check_required'
              ? 'Set the background check to clear before approving.'
              : `The application is ${before}: only a pending application is reviewed.`,
          { details: { applicationStatus: before } },
        );
      // Also on a repeat: a retry after a crash between the two writes grants the role it missed.
      if (verdict.status === 'approved') await identity.grantRole(userId, 'driver', reviewer);
      if (verdict.outcome === 'change')
        await identity.audit({
          action: `driver_application.${input.decision}`,
          actor: reviewer,
          subjectUserId: userId,
          resource: `driver_application:${userId}`,
          oldValue: { status: before },
          newValue: { status: verdict.status, reason: input.reason },
        });
      return this.mine(userId);
    },

    async setBackgroundCheck(
      userId: string,
      status: BackgroundCheck,
      reviewer: OnboardingActor,
    ): Promise<ApplicationView> {
      const before = await repository.find(userId);
      if (before === undefined) throw notFound();
      if (before.background_check !== status) {
        await repository.setBackgroundCheck(repository.db, userId, status, new Date(now()));
        await identity.audit({
          action: 'driver_application.background_check',
          actor: reviewer,
          subjectUserId: userId,
          resource: `driver_application:${userId}`,
          oldValue: { backgroundCheck: before.background_check },
          newValue: { backgroundCheck: status },
        });
      }
      return this.mine(userId);
    },

    /**
     * Refuses a shift to a driver who is not approved, whose licence or insurance expired, or who
     * declares another vehicle than the approved one (422 `vehicle_not_approved`: the documents,
     * plate and insurance were checked for that vehicle). Answers the approved vehicle, which a
     * shift without a declared vehicle takes.
     */
    async shiftGate(driverId: string, declared?: Vehicle): Promise<Vehicle> {
      const row = await repository.find(driverId);
      const refusal = shiftRefusal(row === undefined ? undefined : expiryOf(row), doualaDay(now()));
      if (refusal === 'driver_not_approved')
        throw dispatchErrors.of(
          'forbidden',
          refusal,
          'Only a driver whose application was approved goes on shift (PUT /v1/drivers/me/application).',
        );
      if (refusal === 'driver_documents_expired')
        throw dispatchErrors.of(
          'conflict',
          refusal,
          'Your licence or insurance has expired: renew it and apply again.',
        );
      const approved = row!.vehicle;
      if (declared !== undefined && declared !== approved)
        throw dispatchErrors.of(
          'unprocessable',
          'vehicle_not_approved',
          `Your approved vehicle is a ${approved}: apply again to drive another.`,
          { details: { approvedVehicle: approved } },
        );
      return approved;
    },

    /** Whether the driver may get offers now (matching asks this; same rule as the shift gate). */
    async eligible(driverId: string): Promise<boolean> {
      return (await this.eligibleAmong([driverId])).has(driverId);
    },

    /**
     * The drivers among `driverIds` (read 100 at a time) who may get offers today: approved, licence and
     * insurance unexpired. Matching asks it for each search, so a document that expired this
     * morning stops offers before the daily round takes the driver off shift.
     */
    async eligibleAmong(driverIds: readonly string[]): Promise<Set<string>> {
      const today = doualaDay(now());
      const rows = [];
      for (let start = 0; start < driverIds.length; start += 100)
        rows.push(...(await repository.findMany(driverIds.slice(start, start + 100))));
      return new Set(
        rows.filter((row) => shiftRefusal(expiryOf(row), today) === null).map((row) => row.user_id),
      );
    },

    /** Approved drivers whose licence or insurance ends in exactly 30 or 7 days (reminders). */
    async expiringSoon(
      days: readonly string[] = [doualaDay(now())],
    ): Promise<{ userId: string; licenceExpiresOn: string; insuranceExpiresOn: string | null }[]> {
      const rows = await repository.expiringOn(
        days.flatMap((day) => REMINDER_THRESHOLD_DAYS.map((threshold) => addDays(day, threshold))),
      );
      return rows.map((row) => ({
        userId: row.user_id,
        licenceExpiresOn: row.licence_expires_on,
        insuranceExpiresOn: row.insurance_expires_on,
      }));
    },

    /**
     * The daily round (any instance may run it: event ids are derived from the driver, the
     * document and the day, so a second run appends nothing): a `DriverDocumentExpiring` event on
     * `driver-documents-<userId>` for each licence or insurance ending in 30 or 7 days as the
     * record, and a reminder to the driver through notify (`remind`, named after the driver, the
     * document, its expiry and the threshold: told once across instances); and every driver on
     * shift whose documents expired goes offline. `days` are the Douala days whose thresholds
     * are checked (today, and days every instance missed: a threshold crossed on a missed day is
     * told late, unless the document has expired since).
     */
    async dailyRound(
      eventStore: Pick<EventStore, 'append'>,
      goOffline: (driverId: string) => Promise<unknown>,
      remind: DocumentRemind,
      days: readonly string[] = [doualaDay(now())],
    ): Promise<{ reminders: number; offline: number; failed: number }> {
      const today = doualaDay(now());
      let reminders = 0;
      let failed = 0;
      for (const row of await this.expiringSoon(days))
        for (const [document, expiresOn] of [
          ['licence', row.licenceExpiresOn],
          ['insurance', row.insuranceExpiresOn],
        ] as const) {
          const daysLeft = thresholdCrossed(days, expiresOn);
          if (daysLeft === undefined || expiresOn === null || expiresOn < today) continue;
          try {
            await eventStore.append(`${DOCUMENTS_STREAM_PREFIX}${row.userId}`, [
              {
                id: derivedUuid(`${row.userId}:${document}:${expiresOn}:${daysLeft}`),
                type: 'DriverDocumentExpiring',
                data: { driverId: row.userId, document, expiresOn, daysLeft },
              },
            ]);
          } catch (error) {
            // Another instance's round appended it at the same moment: the record stands.
            if (!(error instanceof DuplicateEventIds)) throw error;
          }
          reminders += 1;
          // The reminder itself (push, SMS fallback) is notify's, named after the same fact.
          try {
            await remind({ driverId: row.userId, kind: document, expiresOn, daysLeft });
          } catch {
            failed += 1;
          }
        }
      const expired = await repository.expiredOnShift(today);
      for (const driverId of expired) await goOffline(driverId);
      return { reminders, offline: expired.length, failed };
    },

    /**
     * Fixtures and the demo seed only: records an approved application (background check clear,
     * licence valid a year) for a user who already has the driver role. Not reachable over HTTP.
     */
    async seedApproved(driverId: string, vehicle: Vehicle = 'motorbike'): Promise<void> {
      const today = doualaDay(now());
      await repository.submit(
        repository.db,
        {
          userId: driverId,
          vehicle,
          plate: vehicle === 'bicycle' ? null : 'LT-000-SEED',
          licenceExpiresOn: addDays(today, 365),
          insuranceExpiresOn: vehicle === 'bicycle' ? null : addDays(today, 365),
          documents: {},
        },
        new Date(now()),
      );
      await repository.setBackgroundCheck(repository.db, driverId, 'clear', new Date(now()));
      await repository.review(
        repository.db,
        driverId,
        { status: 'approved', reason: null, reviewedBy: null },
        new Date(now()),
      );
    },
  };
}

export type Onboarding = ReturnType<typeof createOnboarding>;
