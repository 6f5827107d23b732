/**
 * The admin console in French and English (issue #25): both languages hold every text, each one
 * translated (but for the few words French shares with English), each page is wholly in its
 * language, and every text the script asks for is one the page hands it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONSOLE_TEXTS, SAME_IN_BOTH, type ConsoleTexts } from './console/texts.js';
import { renderConsolePage } from './console-routes.js';

const SCRIPT = readFileSync(new URL('./console/admin.js', import.meta.url), 'utf8');
const keys = (language: 'fr' | 'en') => Object.keys(CONSOLE_TEXTS[language]).sort();

describe('the admin console’s texts', () => {
  it('has the same keys, each translated, in both languages', () => {
    expect(keys('en')).toEqual(keys('fr'));
    const copied = keys('fr').filter(
      (key) => CONSOLE_TEXTS.fr[key as keyof ConsoleTexts] === CONSOLE_TEXTS.en[key as keyof ConsoleTexts],
    );
    expect(copied).toEqual([...SAME_IN_BOTH].sort());
    for (const language of ['fr', 'en'] as const)
      for (const [key, text] of Object.entries(CONSOLE_TEXTS[language]))
        expect(text.trim(), `${language}.${key}`).not.toBe('');
  });

  it('puts the same {values} in a text in both languages', () => {
    for (const key of keys('fr') as (keyof ConsoleTexts)[]) {
      const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      expect(names(CONSOLE_TEXTS.fr[key]), key).toEqual(names(CONSOLE_TEXTS.en[key]));
    }
  });

  it('renders a page wholly in one language, its texts handed to the script', () => {
    for (const [language, other] of [
      ['fr', 'en'],
      ['en', 'fr'],
    ] as const) {
      const page = renderConsolePage(language);
      expect(page).toContain(`<html lang="${language}">`);
      expect(page).toContain(`<title>${CONSOLE_TEXTS[language].title}</title>`);
      expect(page).toContain(`href="?lang=${other}"`);
      expect(page).not.toMatch(/\{\{\w+\}\}/);
      // The page's markup, without its data block, holds no text of the other language.
      const markup = page.replace(/<script type="application\/json" id="texts">[^<]*<\/script>/, '');
      for (const key of ['title', 'navDashboard', 'signIn', 'payoutById', 'maintenanceHeading'] as const)
        expect(markup, key).not.toContain(`>${CONSOLE_TEXTS[other][key]}<`);
      const json = /<script type="application\/json" id="texts">([^<]*)<\/script>/.exec(page)![1]!;
      expect(JSON.parse(json)).toEqual(CONSOLE_TEXTS[language]);
    }
  });

  it('asks only for texts the page has, and writes no English of its own', () => {
    const asked = [...SCRIPT.matchAll(/\bt\('(\w+)'/g)].map((match) => match[1]!);
    expect(asked.length).toBeGreaterThan(40);
    expect(asked.filter((key) => !(key in CONSOLE_TEXTS.en))).toEqual([]);
    // Decisions are labelled by their own key: t(decision).
    for (const decision of ['verify', 'reject', 'suspend', 'reinstate', 'dismiss', 'confirm'])
      expect(CONSOLE_TEXTS.en).toHaveProperty(decision);
    // No sentence in a string literal: every text a person reads comes from TEXTS.
    const literals = [...SCRIPT.matchAll(/'([^'\n]*)'/g)].map((match) => match[1]!);
    expect(
      literals.filter((literal) => /^[A-Z][a-z]+ [a-z]/.test(literal) || /[a-z]\.$/.test(literal)),
    ).toEqual([]);
  });
});
