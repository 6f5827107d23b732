import { describe, expect, it } from 'vitest';
import {
  addDays,
  doualaDay,
  draftProblem,
  judgeReview,
  requiredDocuments,
  shiftRefusal,
} from './onboarding-rules.js';

const TODAY = '2026-12-06';
const motorbike = {
  vehicle: 'motorbike' as const,
  plate: 'LT-123-AB',
  licenceExpiresOn: '2028-01-01',
  insuranceExpiresOn: '2027-06-30',
  documents: { identity: 'a', licence: 'b', photo: 'c', vehicle_registration: 'd', insurance: 'e' },
};

describe('application drafts', () => {
  it('a motor vehicle needs registration, insurance and a plate; a bicycle does not', () => {
    expect(requiredDocuments('car')).toContain('insurance');
    expect(requiredDocuments('bicycle')).toEqual(['identity', 'licence', 'photo']);
    expect(draftProblem(motorbike, TODAY)).toBeNull();
    expect(
      draftProblem({ ...motorbike, documents: { ...motorbike.documents, insurance: undefined } }, TODAY),
    ).toEqual({
      code: 'application_document_missing',
      kind: 'insurance',
    });
    expect(draftProblem({ ...motorbike, plate: null }, TODAY)).toEqual({
      code: 'application_field_missing',
      field: 'plate',
    });
    expect(
      draftProblem(
        {
          vehicle: 'bicycle',
          plate: null,
          licenceExpiresOn: '2028-01-01',
          insuranceExpiresOn: null,
          documents: { identity: 'a', licence: 'b', photo: 'c' },
        },
        TODAY,
      ),
    ).toBeNull();
  });

  it('refuses a licence or insurance that ends today or before', () => {
    expect(draftProblem({ ...motorbike, licenceExpiresOn: TODAY }, TODAY)).toEqual({
      code: 'application_document_expired',
      field: 'licenceExpiresOn',
    });
    expect(draftProblem({ ...motorbike, insuranceExpiresOn: '2026-01-01' }, TODAY)).toEqual({
      code: 'application_document_expired',
      field: 'insuranceExpiresOn',
    });
  });
});

describe('reviews', () => {
  it('approves a pending application once the background check is clear', () => {
    expect(judgeReview('pending', 'approve', 'not_started', null)).toEqual({
      outcome: 'refused',
      code: 'background_check_required',
    });
    expect(judgeReview('pending', 'approve', 'clear', null)).toEqual({
      outcome: 'change',
      status: 'approved',
    });
  });

  it('a rejection or a request for more needs a reason', () => {
    expect(judgeReview('pending', 'reject', 'clear', '  ')).toEqual({
      outcome: 'refused',
      code: 'reason_required',
    });
    expect(judgeReview('pending', 'more_info', 'clear', 'licence photo blurred')).toEqual({
      outcome: 'change',
      status: 'more_info',
    });
  });

  it('the same decision again is a repeat; another decision on a reviewed application is refused', () => {
    expect(judgeReview('approved', 'approve', 'clear', null)).toEqual({
      outcome: 'repeat',
      status: 'approved',
    });
    expect(judgeReview('approved', 'reject', 'clear', 'x')).toEqual({
      outcome: 'refused',
      code: 'application_not_pending',
    });
    expect(judgeReview('rejected', 'approve', 'clear', null)).toEqual({
      outcome: 'refused',
      code: 'application_not_pending',
    });
  });
});

describe('the shift gate', () => {
  const approved = {
    status: 'approved' as const,
    licenceExpiresOn: '2027-01-01',
    insuranceExpiresOn: '2027-01-01',
  };
  it('lets an approved driver with valid documents work, up to and including the expiry day', () => {
    expect(shiftRefusal(approved, TODAY)).toBeNull();
    expect(shiftRefusal({ ...approved, licenceExpiresOn: TODAY }, TODAY)).toBeNull();
    expect(shiftRefusal({ ...approved, insuranceExpiresOn: null }, TODAY)).toBeNull();
  });
  it('refuses no application, a pending one, and expired documents', () => {
    expect(shiftRefusal(undefined, TODAY)).toBe('driver_not_approved');
    expect(shiftRefusal({ ...approved, status: 'pending' }, TODAY)).toBe('driver_not_approved');
    expect(shiftRefusal({ ...approved, licenceExpiresOn: '2026-12-05' }, TODAY)).toBe(
      'driver_documents_expired',
    );
    expect(shiftRefusal({ ...approved, insuranceExpiresOn: '2026-12-05' }, TODAY)).toBe(
      'driver_documents_expired',
    );
  });
});

describe('days in Douala', () => {
  it('Douala is UTC+1: 23:30 UTC is already the next day', () => {
    expect(doualaDay(Date.parse('2026-12-06T23:30:00Z'))).toBe('2026-12-07');
    expect(doualaDay(Date.parse('2026-12-06T22:59:00Z'))).toBe('2026-12-06');
    expect(addDays('2026-12-30', 7)).toBe('2027-01-06');
  });
});
