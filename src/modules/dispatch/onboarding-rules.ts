/**
 * The pure rules of drivers' onboarding (docs/dispatch.md, "Onboarding"): which documents an
 * application needs per vehicle, which review decision may follow which status, and whether an
 * application lets its driver go on shift today. No I/O.
 */
import type { Vehicle } from './fix-rules.js';

export const APPLICATION_STATUSES = ['pending', 'approved', 'rejected', 'more_info'] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];
export const REVIEW_DECISIONS = ['approve', 'reject', 'more_info'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];
export const BACKGROUND_CHECKS = ['not_started', 'clear', 'flagged'] as const;
export type BackgroundCheck = (typeof BACKGROUND_CHECKS)[number];
export const APPLICATION_DOCUMENT_KINDS = [
  'identity',
  'licence',
  'photo',
  'vehicle_registration',
  'insurance',
] as const;
export type ApplicationDocumentKind = (typeof APPLICATION_DOCUMENT_KINDS)[number];

/** A bicycle needs no licence plate, registration nor insurance; a motor vehicle needs all three. */
export function requiredDocuments(vehicle: Vehicle): readonly ApplicationDocumentKind[] {
  return vehicle === 'bicycle'
    ? ['identity', 'licence', 'photo']
    : ['identity', 'licence', 'photo', 'vehicle_registration', 'insurance'];
}

export interface ApplicationDraft {
  vehicle: Vehicle;
  plate: string | null;
  licenceExpiresOn: string;
  insuranceExpiresOn: string | null;
  documents: Partial<Record<ApplicationDocumentKind, string>>;
}

export type DraftProblem =
  | { code: 'application_document_missing'; kind: ApplicationDocumentKind }
  | { code: 'application_field_missing'; field: 'plate' | 'insuranceExpiresOn' }
  | { code: 'application_document_expired'; field: 'licenceExpiresOn' | 'insuranceExpiresOn' };

/** What is wrong with a draft on `today` (YYYY-MM-DD, Douala); the first problem, or null. */
export function draftProblem(draft: ApplicationDraft, today: string): DraftProblem | null {
  for (const kind of requiredDocuments(draft.vehicle))
    if (draft.documents[kind] === undefined) return { code: 'application_document_missing', kind };
  if (draft.vehicle !== 'bicycle') {
    if (draft.plate === null) return { code: 'application_field_missing', field: 'plate' };
    if (draft.insuranceExpiresOn === null)
      return { code: 'application_field_missing', field: 'insuranceExpiresOn' };
  }
  if (draft.licenceExpiresOn <= today)
    return { code: 'application_document_expired', field: 'licenceExpiresOn' };
  if (draft.insuranceExpiresOn !== null && draft.insuranceExpiresOn <= today)
    return { code: 'application_document_expired', field: 'insuranceExpiresOn' };
  return null;
}

const OUTCOME: Record<ReviewDecision, ApplicationStatus> = {
  approve: 'approved',
  reject: 'rejected',
  more_info: 'more_info',
};

export type ReviewVerdict =
  | { outcome: 'change'; status: ApplicationStatus }
  /** The same decision again (a retried request): nothing changes. */
  | { outcome: 'repeat'; status: ApplicationStatus }
  | { outcome: 'refused'; code: 'application_not_pending' | 'background_check_required' | 'reason_required' };

/** A review of a pending application; approval needs a clear background check, the others a reason. */
export function judgeReview(
  status: ApplicationStatus,
  decision: ReviewDecision,
  backgroundCheck: BackgroundCheck,
  reason: string | null,
): ReviewVerdict {
  const next = OUTCOME[decision];
  if (status === next) return { outcome: 'repeat', status };
  if (status !== 'pending') return { outcome: 'refused', code: 'application_not_pending' };
  if (decision !== 'approve' && (reason === null || reason.trim() === ''))
    return { outcome: 'refused', code: 'reason_required' };
  if (decision === 'approve' && backgroundCheck !== 'clear')
    return { outcome: 'refused', code: 'background_check_required' };
  return { outcome: 'change', status: next };
}

export type ShiftRefusal = 'driver_not_approved' | 'driver_documents_expired';

/** Whether an application lets its driver go on shift (and get offers) on `today`. */
export function shiftRefusal(
  application:
    { status: ApplicationStatus; licenceExpiresOn: string; insuranceExpiresOn: string | null } | undefined,
  today: string,
): ShiftRefusal | null {
  if (application === undefined || application.status !== 'approved') return 'driver_not_approved';
  if (application.licenceExpiresOn < today) return 'driver_documents_expired';
  if (application.insuranceExpiresOn !== null && application.insuranceExpiresOn < today)
    return 'driver_documents_expired';
  return null;
}

/** The calendar day in Douala (UTC+1, no daylight saving) of an instant, as YYYY-MM-DD. */
export function doualaDay(atMs: number): string {
  return new Date(atMs + 3_600_000).toISOString().slice(0, 10);
}

/** The day `days` after a YYYY-MM-DD day. */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
