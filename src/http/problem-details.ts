/**
 * A problem's English `detail` in French (issue #25), from the table of every thrown detail
 * (problem-details-fr.ts). A fixed text is looked up as is; a template (`At most ${MAX} cities.`)
 * is matched as a pattern whose `${…}`s capture what this occurrence said (the limit, the field,
 * the state), and those values fill the French template's same placeholders. Undefined when the
 * text is not in the table (a detail built elsewhere): the caller falls back to the code's French
 * description.
 */
import { PROBLEM_DETAILS_FR, PROBLEM_ITEM_MESSAGES_FR, PROBLEM_VALUES_FR } from './problem-details-fr.js';

interface Template {
  pattern: RegExp;
  /** The placeholder of each capture group, in order. */
  placeholders: string[];
  french: string;
  /** Characters of fixed text: the most specific template wins. */
  fixedLength: number;
}

/** Placeholders shorter than this much fixed text would match nearly anything; they are skipped. */
const MIN_FIXED_CHARACTERS = 6;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Splits a template into fixed text and `${expression}` placeholders; an expression may hold
 * braces and nested templates, so braces are counted.
 */
export function splitTemplate(template: string): { fixed: string[]; placeholders: string[] } {
  const fixed: string[] = [];
  const placeholders: string[] = [];
  let start = 0;
  let index = template.indexOf('${');
  while (index !== -1) {
    let depth = 1;
    let end = index + 2;
    while (end < template.length && depth > 0) {
      if (template[end] === '{') depth += 1;
      else if (template[end] === '}') depth -= 1;
      end += 1;
    }
    if (depth !== 0) break;
    fixed.push(template.slice(start, index));
    placeholders.push(template.slice(index, end));
    start = end;
    index = template.indexOf('${', start);
  }
  fixed.push(template.slice(start));
  return { fixed, placeholders };
}

interface Table {
  exact: Map<string, string>;
  templates: Template[];
}

function compile(table: Readonly<Record<string, string>>): Table {
  const exact = new Map<string, string>();
  const templates: Template[] = [];
  for (const [english, french] of Object.entries(table)) {
    const { fixed, placeholders } = splitTemplate(english);
    if (placeholders.length === 0) {
      exact.set(english, french);
      continue;
    }
    const fixedLength = fixed.join('').trim().length;
    if (fixedLength < MIN_FIXED_CHARACTERS) continue;
    const source = fixed.map(escape).join('([\\s\\S]+?)');
    templates.push({ pattern: new RegExp(`^${source}$`), placeholders, french, fixedLength });
  }
  templates.sort((left, right) => right.fixedLength - left.fixedLength);
  return { exact, templates };
}

const DETAILS = compile(PROBLEM_DETAILS_FR);
const ITEM_MESSAGES = compile(PROBLEM_ITEM_MESSAGES_FR);

/**
 * A value the English detail carried, in French when it is one of the English phrases the
 * throwers build (a role, a verb, "3 tries left before a pause"); identifiers and numbers as they are.
 */
function frenchValue(value: string): string {
  const fixed = PROBLEM_VALUES_FR[value];
  if (fixed !== undefined) return fixed;
  const tries = /^(\d+) tries? left before a pause$/.exec(value);
  if (tries !== null) return `${tries[1]} essai${tries[1] === '1' ? '' : 's'} avant une pause`;
  return value;
}

/** The French of an English problem detail, or undefined when the table has none. */
export function frenchDetail(english: string): string | undefined {
  return translate(DETAILS, english);
}

/**
 * The French of one message of a problem's `errors` list built by a context (the password
 * policy's, the text guard's), or undefined; schema validation messages come in French already.
 */
export function frenchErrorMessage(english: string): string | undefined {
  return translate(ITEM_MESSAGES, english);
}

function translate(table: Table, english: string): string | undefined {
  const fixed = table.exact.get(english);
  if (fixed !== undefined) return fixed;
  for (const template of table.templates) {
    const match = template.pattern.exec(english);
    if (match === null) continue;
    const values = new Map(
      template.placeholders.map((placeholder, index) => [placeholder, frenchValue(match[index + 1]!)]),
    );
    const { fixed: parts, placeholders } = splitTemplate(template.french);
    return parts.reduce(
      (text, part, index) =>
        text + part + (index < placeholders.length ? (values.get(placeholders[index]!) ?? '') : ''),
      '',
    );
  }
  return undefined;
}
