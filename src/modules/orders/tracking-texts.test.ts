/**
 * The tracking page in French and English (issue #25): both languages hold every text, each page
 * is wholly in its language, and nothing of the other language leaks into it.
 */
import { describe, expect, it } from 'vitest';
import { PAGE_TEXTS, pinHint } from './tracking-page/texts.js';
import { renderTrackingPage } from './tracking.js';

describe('the tracking page’s texts', () => {
  it('has the same keys, each translated, in both languages', () => {
    expect(Object.keys(PAGE_TEXTS.en).sort()).toEqual(Object.keys(PAGE_TEXTS.fr).sort());
    const copied = Object.keys(PAGE_TEXTS.fr).filter(
      (key) =>
        PAGE_TEXTS.fr[key as keyof typeof PAGE_TEXTS.fr] === PAGE_TEXTS.en[key as keyof typeof PAGE_TEXTS.en],
    );
    expect(copied).toEqual([]);
  });

  it('renders a page wholly in one language, its texts handed to the script', () => {
    for (const [language, other] of [
      ['fr', 'en'],
      ['en', 'fr'],
    ] as const) {
      const page = renderTrackingPage(language);
      expect(page).toContain(`<html lang="${language}">`);
      expect(page).toContain(`<title>${PAGE_TEXTS[language].title}</title>`);
      expect(page).toContain(`href="?lang=${other}"`);
      expect(page).not.toMatch(/\{\{\w+\}\}/);
      expect(page).not.toContain(PAGE_TEXTS[other].title);
      const json = /<script type="application\/json" id="texts">([^<]*)<\/script>/.exec(page)![1]!;
      expect(JSON.parse(json)).toEqual(PAGE_TEXTS[language]);
    }
  });

  it('gives the delivery PIN hint with its number of digits', () => {
    expect(pinHint('fr', 4)).toBe(
      'Donnez au livreur le code de livraison à 4 chiffres de votre confirmation de commande.',
    );
    expect(pinHint('en', 6)).toContain('6-digit');
  });
});
