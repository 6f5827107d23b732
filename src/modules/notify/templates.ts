/**
 * Message templates in French and English: JSON resources for i18next in ./templates (reviewed
 * like code), one object per kind with `title` and `body` (push, e-mail, the in-app centre) and
 * `sms` (short). Plural forms follow each language's CLDR categories (`body_one`, `body_many`,
 * `body_other` in French); amounts are written `{{total, xaf}}` and formatted for the locale
 * (fr-CM: "6 500 FCFA", en-CM: "FCFA 6,500"). `checkTemplates` is the test that fails the build
 * when a key is missing in one language or its placeholders differ (templates.test.ts).
 */
import { readFileSync } from 'node:fs';
import i18next, { type i18n } from 'i18next';

export const LANGUAGES = ['fr', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'fr';
export type TemplateResources = Record<Language, Record<string, unknown>>;

/** The rendered text of one message: the title, the long body and the SMS. */
export interface RenderedMessage {
  title: string;
  body: string;
  sms: string;
}

export function loadTemplates(): TemplateResources {
  const read = (language: Language) =>
    JSON.parse(readFileSync(new URL(`./templates/${language}.json`, import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
  return { fr: read('fr'), en: read('en') };
}

export function languageOf(locale: string | null | undefined): Language {
  return locale?.toLowerCase().startsWith('en') === true ? 'en' : DEFAULT_LANGUAGE;
}

// Building an Intl.NumberFormat costs far more than formatting with one (it showed in the
// payments benchmark's profile: one per message), so each language's formatter is made once.
const xafFormatters = new Map<Language, Intl.NumberFormat>();

export function formatXaf(amountMinor: number, language: Language): string {
  // XAF has no minor unit (exponent 0): the amount is whole francs.
  let formatter = xafFormatters.get(language);
  if (!formatter) {
    formatter = new Intl.NumberFormat(`${language}-CM`, { style: 'currency', currency: 'XAF' });
    xafFormatters.set(language, formatter);
  }
  return formatter.format(amountMinor);
}

export interface Templates {
  render(kind: string, language: Language, params: Record<string, unknown>): RenderedMessage;
  has(kind: string): boolean;
}

export function createTemplates(resources: TemplateResources = loadTemplates()): Templates {
  const problems = checkTemplates(resources);
  if (problems.length > 0) throw new Error(`notification templates are broken:\n  ${problems.join('\n  ')}`);
  const instance: i18n = i18next.createInstance();
  void instance.init({
    resources: { fr: { translation: resources.fr }, en: { translation: resources.en } },
    lng: DEFAULT_LANGUAGE,
    fallbackLng: false,
    initAsync: false,
    // Templates produce plain text (SMS, push, e-mail text part): nothing is HTML-escaped here.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  instance.services.formatter?.add('xaf', (value, language) =>
    formatXaf(Number(value), languageOf(language)),
  );
  const flat = flatten(resources.fr);
  const has = (kind: string) => flat.has(`${kind}.title`);
  return {
    has,
    render(kind, language, params) {
      if (!has(kind)) throw new RangeError(`no template for ${kind}`);
      const text = (part: string) => instance.t(`${kind}.${part}`, { ...params, lng: language }) as string;
      return { title: text('title'), body: text('body'), sms: text('sms') };
    },
  };
}

/** Every leaf of a resource as `a.b.c` → text. */
export function flatten(resource: Record<string, unknown>, prefix = ''): Map<string, string> {
  const leaves = new Map<string, string>();
  for (const [key, value] of Object.entries(resource)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof value === 'string') leaves.set(path, value);
    else if (typeof value === 'object' && value !== null)
      for (const [leaf, text] of flatten(value as Record<string, unknown>, path)) leaves.set(leaf, text);
    else leaves.set(path, String(value));
  }
  return leaves;
}

const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*(?:,[^}]*)?\}\}/g;

function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1]!);
}

/**
 * What is wrong with the resources, as sentences (empty when nothing is): a key one language
 * lacks, a plural key without every form its language needs, placeholders that differ between
 * the languages, a kind without its title, body or SMS.
 */
export function checkTemplates(resources: TemplateResources): string[] {
  const problems: string[] = [];
  const byLanguage = new Map<Language, Map<string, { forms: Set<string>; names: Set<string> }>>();
  for (const language of LANGUAGES) {
    const keys = new Map<string, { forms: Set<string>; names: Set<string> }>();
    for (const [path, text] of flatten(resources[language])) {
      const form = PLURAL_SUFFIX.exec(path)?.[1];
      const base = form === undefined ? path : path.slice(0, -form.length - 1);
      const entry = keys.get(base) ?? { forms: new Set<string>(), names: new Set<string>() };
      if (form !== undefined) entry.forms.add(form);
      for (const name of placeholders(text)) entry.names.add(name);
      keys.set(base, entry);
    }
    byLanguage.set(language, keys);
    const needed = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
    for (const [base, entry] of keys) {
      if (entry.forms.size === 0) continue;
      for (const form of needed)
        if (!entry.forms.has(form)) problems.push(`${language}: ${base} lacks its plural form _${form}`);
    }
  }
  const [first, second] = LANGUAGES;
  const left = byLanguage.get(first)!;
  const right = byLanguage.get(second)!;
  for (const [language, keys, other, otherLanguage] of [
    [first, left, right, second],
    [second, right, left, first],
  ] as const) {
    for (const base of keys.keys())
      if (!other.has(base)) problems.push(`${otherLanguage}: ${base} is missing (${language} has it)`);
  }
  for (const [base, entry] of left) {
    const theirs = right.get(base);
    if (theirs === undefined) continue;
    const mine = [...entry.names].sort().join(',');
    const other = [...theirs.names].sort().join(',');
    if (mine !== other)
      problems.push(`${base}: placeholders differ (${first}: ${mine}; ${second}: ${other})`);
  }
  const kinds = new Set([...left.keys()].map((key) => key.slice(0, key.lastIndexOf('.'))));
  for (const kind of kinds)
    for (const part of ['title', 'body', 'sms'])
      if (!left.has(`${kind}.${part}`)) problems.push(`${kind} lacks its ${part}`);
  return problems;
}
