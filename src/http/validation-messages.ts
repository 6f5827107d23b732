/**
 * Schema validation errors (Ajv, behind Fastify) as the `errors` of a `validation_failed`
 * problem, in the reader's language (issue #25): each names the field (`path`, with the missing
 * or unexpected property for `required` and `additionalProperties`) and the rule broken, in
 * English (Ajv's own words) or French (below, after ajv-i18n's French texts; that package is not
 * installed here, see PACKAGE-REQUEST.txt).
 */
import type { Language } from './problem-catalogue.js';

/** What Fastify hands over of one Ajv error. */
export interface SchemaError {
  keyword: string;
  instancePath?: string;
  params?: Record<string, unknown>;
  message?: string;
}

export interface ValidationItem {
  path: string;
  message: string;
  /** The rule broken (Ajv's keyword), for programs. */
  rule: string;
}

/** At most this many errors are listed (allErrors is off, so usually one). */
export const MAX_VALIDATION_ERRORS = 20;

const plural = (count: unknown, word: string) => `${String(count)} ${word}${Number(count) > 1 ? 's' : ''}`;
const COMPARISON_FR: Record<string, string> = {
  '<=': 'inférieur ou égal à',
  '>=': 'supérieur ou égal à',
  '<': 'strictement inférieur à',
  '>': 'strictement supérieur à',
};
const TYPE_FR: Record<string, string> = {
  string: 'un texte',
  number: 'un nombre',
  integer: 'un entier',
  boolean: 'un booléen',
  object: 'un objet',
  array: 'une liste',
  null: 'null',
};
const typeFr = (type: unknown) =>
  String(type)
    .split(',')
    .map((one) => TYPE_FR[one.trim()] ?? one.trim())
    .join(' ou ');
const quoted = (value: unknown) => `« ${String(value)} »`;

type FrenchRule = (params: Record<string, unknown>) => string;

/** Ajv's keywords in French (the English comes from Ajv). */
const FRENCH: Record<string, FrenchRule> = {
  required: (params) => `doit avoir la propriété obligatoire ${quoted(params.missingProperty)}`,
  additionalProperties: (params) =>
    `ne doit pas avoir la propriété ${quoted(params.additionalProperty)}, qui n’est pas prévue`,
  type: (params) => `doit être ${typeFr(params.type)}`,
  minLength: (params) => `doit compter au moins ${plural(params.limit, 'caractère')}`,
  maxLength: (params) => `doit compter au plus ${plural(params.limit, 'caractère')}`,
  minimum: (params) => `doit être ${COMPARISON_FR[String(params.comparison)] ?? '≥'} ${String(params.limit)}`,
  maximum: (params) => `doit être ${COMPARISON_FR[String(params.comparison)] ?? '≤'} ${String(params.limit)}`,
  exclusiveMinimum: (params) => `doit être strictement supérieur à ${String(params.limit)}`,
  exclusiveMaximum: (params) => `doit être strictement inférieur à ${String(params.limit)}`,
  multipleOf: (params) => `doit être un multiple de ${String(params.multipleOf)}`,
  minItems: (params) => `doit compter au moins ${plural(params.limit, 'élément')}`,
  maxItems: (params) => `doit compter au plus ${plural(params.limit, 'élément')}`,
  uniqueItems: (params) =>
    `ne doit pas contenir de doublons (les éléments ${String(params.j)} et ${String(params.i)} sont identiques)`,
  minProperties: (params) => `doit compter au moins ${plural(params.limit, 'propriété')}`,
  maxProperties: (params) => `doit compter au plus ${plural(params.limit, 'propriété')}`,
  pattern: (params) => `doit respecter le motif ${quoted(params.pattern)}`,
  format: (params) => `doit être au format ${quoted(params.format)}`,
  enum: (params) =>
    Array.isArray(params.allowedValues)
      ? `doit être l’une des valeurs : ${params.allowedValues.map(String).join(', ')}`
      : 'doit être l’une des valeurs autorisées',
  const: (params) => `doit valoir ${JSON.stringify(params.allowedValue)}`,
  anyOf: () => 'doit correspondre à l’une des formes permises',
  oneOf: () => 'doit correspondre à exactement une des formes permises',
  not: () => 'ne doit pas correspondre à la forme interdite',
  if: (params) => `doit correspondre au schéma « ${String(params.failingKeyword)} »`,
  dependentRequired: (params) =>
    `doit avoir la propriété ${quoted(params.missingProperty)} quand ${quoted(params.property)} est présente`,
  propertyNames: (params) => `a un nom de propriété invalide ${quoted(params.propertyName)}`,
  contains: () => 'doit contenir un élément valide',
};

/** The field an error is about: the part and the instance path, plus a named missing/extra property. */
function pathOf(error: SchemaError, part: string): string {
  const base = `${part}${error.instancePath ?? ''}`;
  const property = error.params?.missingProperty ?? error.params?.additionalProperty;
  return typeof property === 'string' && property.length > 0 ? `${base}/${property}` : base;
}

export function validationItems(
  errors: readonly SchemaError[],
  part: string,
  language: Language,
): ValidationItem[] {
  return errors.slice(0, MAX_VALIDATION_ERRORS).map((error) => {
    const french = FRENCH[error.keyword];
    const message =
      language === 'fr' ? (french?.(error.params ?? {}) ?? 'est invalide') : (error.message ?? 'is invalid');
    return { path: pathOf(error, part), message, rule: error.keyword };
  });
}
