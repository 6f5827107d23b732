/**
 * Every problem a person reads comes in French and English (issue #25): each code of the
 * catalogue has a French title and description of its own (not empty, not the English copied),
 * and a French answer's `detail` is the thrower's French or the code's French description, never
 * the English occurrence text. (tests/integration/api-contract.test.ts fails on a code thrown in
 * src/ that the catalogue lacks.)
 */
import { describe, expect, it } from 'vitest';
import { PROBLEM_CATALOGUE, requestedLanguage } from './problem-catalogue.js';
import { problemBody } from './problem.js';

describe('the catalogue in French', () => {
  it('gives every code a French title and description of its own', () => {
    const untranslated = [...PROBLEM_CATALOGUE.values()]
      .filter(
        (entry) =>
          entry.fr.title.trim().length < 3 ||
          entry.fr.description.trim().length < 10 ||
          entry.fr.title === entry.en.title ||
          entry.fr.description === entry.en.description,
      )
      .map((entry) => entry.code);
    expect(untranslated, 'codes without French text in src/http/problem-catalogue.ts').toEqual([]);
    expect(PROBLEM_CATALOGUE.size).toBeGreaterThan(200);
  });
});

describe('a problem answered in French', () => {
  it('titles the code in French and gives this occurrence’s detail in French', () => {
    const entry = PROBLEM_CATALOGUE.get('order_not_found')!;
    const french = problemBody(404, 'order_not_found', 'There is no such order.', { language: 'fr' });
    expect(french).toMatchObject({ title: entry.fr.title, detail: 'Cette commande n’existe pas.' });
    const english = problemBody(404, 'order_not_found', 'There is no such order.', { language: 'en' });
    expect(english).toMatchObject({ title: entry.en.title, detail: 'There is no such order.' });
    const limit = problemBody(422, 'too_many_cities', 'At most 25 cities.', { language: 'fr' });
    expect(limit.detail).toBe('Au plus 25 villes.');
  });

  it('explains the code in French when the detail is not one the table holds', () => {
    const entry = PROBLEM_CATALOGUE.get('order_not_found')!;
    const french = problemBody(404, 'order_not_found', 'Built somewhere the scan cannot see.', {
      language: 'fr',
    });
    expect(french.detail).toBe(entry.fr.description);
  });

  it('uses the thrower’s own French for this occurrence when there is one', () => {
    const body = problemBody(400, 'sync_operation_refused', 'Operation 2 (GET /v1/x) cannot be queued.', {
      language: 'fr',
      detailFr: 'L’opération 2 (GET /v1/x) ne peut pas être mise en file.',
    });
    expect(body.detail).toBe('L’opération 2 (GET /v1/x) ne peut pas être mise en file.');
  });

  it('falls back to the status’s generic French for a code the catalogue lacks, and keeps 5xx without detail', () => {
    const body = problemBody(409, 'no_such_code_in_catalogue', 'Something English.', { language: 'fr' });
    expect(body).toMatchObject({
      code: 'no_such_code_in_catalogue',
      title: PROBLEM_CATALOGUE.get('conflict')!.fr.title,
      detail: PROBLEM_CATALOGUE.get('conflict')!.fr.description,
    });
    expect(problemBody(500, 'internal_error', undefined, { language: 'fr' }).detail).toBeUndefined();
  });
});

describe('the language asked for', () => {
  it('reads Accept-Language by quality and ignores languages we do not serve', () => {
    expect(requestedLanguage('fr-CM, en;q=0.8')).toBe('fr');
    expect(requestedLanguage('en-GB,fr;q=0.9')).toBe('en');
    expect(requestedLanguage('de, fr;q=0.5')).toBe('fr');
    expect(requestedLanguage('de, es')).toBeUndefined();
    expect(requestedLanguage(undefined)).toBeUndefined();
    expect(requestedLanguage('fr;q=0')).toBeUndefined();
  });
});
