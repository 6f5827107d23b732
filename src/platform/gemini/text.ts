/**
 * What leaves for a model and what comes back, pure: personal data replaced by placeholders before
 * anything is sent, and a model's text cleaned before we keep it (plain text only, capped), so
 * its output is never executed or trusted as markup or data.
 */

/** Phone numbers: +237 6XX XX XX XX, 6XXXXXXXX, and any run of 8+ digits with spaces, dots or dashes. */
const PHONE = /(?:\+|00)?\d(?:[\s.-]?\d){7,14}/g;
const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
/** A name a person gives: "je m'appelle Aïcha Ngo", "my name is John Doe", "c'est Paul". */
// Case-sensitive on purpose: the name is the capitalised words that follow.
const SELF_NAMED =
  /\b([Jj]e m[’']appelle|[Mm]on nom est|[Mm]oi c[’']est|[Mm]y name is|I am called|[Tt]his is)\s+((?:\p{Lu}[\p{L}’'-]+)(?:\s+\p{Lu}[\p{L}’'-]+){0,3})/gu;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The text with phone numbers, e-mail addresses and names replaced by placeholders: the names we
 * know word by word, and names people introduce themselves with.
 */
export function redact(text: string, knownNames: readonly string[] = []): string {
  let result = text.replace(EMAIL, '[email]').replace(PHONE, '[phone]');
  result = result.replace(SELF_NAMED, (_match, intro: string) => `${intro} [name]`);
  const words = new Set(knownNames.flatMap((name) => name.split(/\s+/)).filter((word) => word.length >= 2));
  for (const word of words)
    result = result.replace(new RegExp(`(?<![\\p{L}])${escape(word)}(?![\\p{L}])`, 'giu'), '[name]');
  return result;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;
/** Bidirectional overrides and zero-width characters: invisible, and able to disguise text. */
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
const TAG = /<\/?[A-Za-z][^<>]*>|<!--[\s\S]*?-->/g;
const MARKDOWN_LINK = /!?\[([^\]]*)\]\([^)]*\)/g;
/** Emphasis, code and heading marks (underscores stay: identifiers such as rule names have them). */
const MARKDOWN_MARKS = /[*`#~]+/g;
const URL = /\b(?:https?|ftp|javascript|data):\/*[^\s]*/giu;

/**
 * A model's text as plain text we may keep and show: tags, markdown marks, links and URLs,
 * control and invisible characters removed, spaces collapsed (line breaks kept when `lines`),
 * capped at `max` characters (an ellipsis marks a cut). Empty when nothing is left.
 */
export function plainText(raw: string, max: number, options: { lines?: boolean } = {}): string {
  const text = raw
    .normalize('NFC')
    .replace(TAG, ' ')
    .replace(MARKDOWN_LINK, '$1')
    .replace(URL, '')
    .replace(MARKDOWN_MARKS, '')
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, '')
    .replace(INVISIBLE, '')
    .replace(/[<>]/g, '');
  const spaced = options.lines
    ? text
        .split('\n')
        .map((line) => line.replace(/[\t ]+/g, ' ').trim())
        .join('\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim()
    : text.replace(/\s+/g, ' ').trim();
  return spaced.length > max ? `${spaced.slice(0, max - 1).trimEnd()}…` : spaced;
}

/** A JSON object from a model's answer (a fenced block allowed), or undefined. */
export function jsonObjectOf(raw: string): Record<string, unknown> | undefined {
  const trimmed = raw.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
