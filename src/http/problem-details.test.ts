/**
 * Every problem detail thrown in src/ has its French (issue #25), and a French client reads this
 * occurrence's particulars (the limit, the field, the state), not only the code's description.
 */
import { describe, expect, it } from 'vitest';
import { PROBLEM_DETAILS_FR } from './problem-details-fr.js';
import { frenchDetail, frenchErrorMessage, splitTemplate } from './problem-details.js';
import { problemBody } from './problem.js';
import { thrownDetails } from './problem-details-scan.js';

const thrown = thrownDetails('src');
const placeholdersOf = (text: string) => splitTemplate(text).placeholders.slice().sort();

describe('the table of French problem details', () => {
  it('holds every detail thrown in src/', () => {
    expect(thrown.length).toBeGreaterThan(400);
    const missing = thrown
      .filter((detail) => PROBLEM_DETAILS_FR[detail.text] === undefined)
      .map((detail) => `${detail.file}:${detail.line} ${detail.text}`);
    expect(missing, 'add these to src/http/problem-details-fr.ts').toEqual([]);
  });

  it('holds nothing that is no longer thrown', () => {
    const texts = new Set(thrown.map((detail) => detail.text));
    expect(Object.keys(PROBLEM_DETAILS_FR).filter((english) => !texts.has(english))).toEqual([]);
  });

  it('gives each its own French with the same placeholders', () => {
    const wrong = Object.entries(PROBLEM_DETAILS_FR)
      .filter(
        ([english, french]) =>
          french.trim().length < 4 ||
          french === english ||
          JSON.stringify(placeholdersOf(english)) !== JSON.stringify(placeholdersOf(french)),
      )
      .map(([english]) => english);
    expect(wrong).toEqual([]);
  });

  it('translates every template as rendered, carrying its values into the French', () => {
    const failures: string[] = [];
    for (const [english, french] of Object.entries(PROBLEM_DETAILS_FR)) {
      const { fixed, placeholders } = splitTemplate(english);
      if (placeholders.length === 0) continue;
      const valueOf = new Map(placeholders.map((placeholder, index) => [placeholder, `V${index}x`]));
      const rendered = fixed.reduce(
        (text, part, index) =>
          text + part + (index < placeholders.length ? valueOf.get(placeholders[index]!)! : ''),
        '',
      );
      const frenchParts = splitTemplate(french);
      const expected = frenchParts.fixed.reduce(
        (text, part, index) =>
          text +
          part +
          (index < frenchParts.placeholders.length ? valueOf.get(frenchParts.placeholders[index]!)! : ''),
        '',
      );
      if (frenchDetail(rendered) !== expected)
        failures.push(`${rendered} → ${String(frenchDetail(rendered))}`);
    }
    expect(failures).toEqual([]);
  });
});

describe('a French detail', () => {
  it('names the limit and the field of this occurrence', () => {
    expect(frenchDetail('At most 25 cities.')).toBe('Au plus 25 villes.');
    expect(frenchDetail('Unknown cuisine: ndole, koki.')).toBe('Cuisine inconnue : ndole, koki.');
    expect(frenchDetail('The file is larger than 5242880 bytes.')).toBe('Le fichier dépasse 5242880 octets.');
    expect(frenchDetail('ACCEPT is not possible while the order is DELIVERED.')).toBe(
      'ACCEPT n’est pas possible tant que la commande est DELIVERED.',
    );
  });

  it('is a fixed text’s own French, and nothing for a text the table does not hold', () => {
    expect(frenchDetail('There is no such order.')).toBe('Cette commande n’existe pas.');
    expect(frenchDetail('Something nobody throws.')).toBeUndefined();
  });
});

describe('the messages of a context’s errors list', () => {
  it('has the French of every password-policy message, with its limit', async () => {
    const { PASSWORD_PROBLEM_TEXT } = await import('../modules/identity/password-policy.js');
    const untranslated = Object.values(PASSWORD_PROBLEM_TEXT).filter(
      (message) => frenchErrorMessage(message) === undefined,
    );
    expect(untranslated).toEqual([]);
    expect(frenchErrorMessage(PASSWORD_PROBLEM_TEXT.too_short)).toMatch(/^utilisez au moins \d+ caractères$/);
  });

  it('is put in French in a French problem, and left as it is in English', () => {
    const extensions = {
      errors: [{ path: 'body/password', message: 'this password is too common', code: 'common_password' }],
    };
    const french = problemBody(400, 'weak_password', 'The password does not meet the policy.', {
      language: 'fr',
      extensions,
    });
    expect(french.errors).toEqual([
      { path: 'body/password', message: 'ce mot de passe est trop courant', code: 'common_password' },
    ]);
    expect(french.detail).toBe('Le mot de passe ne respecte pas la politique.');
    const english = problemBody(400, 'weak_password', 'The password does not meet the policy.', {
      extensions,
    });
    expect(english.errors).toEqual(extensions.errors);
  });
});
