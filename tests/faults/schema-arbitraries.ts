/**
 * fast-check arbitraries from the JSON schemas of the OpenAPI document the app serves (/docs/json):
 * `valid(schema)` builds values the schema accepts (to reach the code behind validation), and
 * `hostile(schema)` mixes in what a careless or malicious client sends: NUL and lone surrogates,
 * null for any field, oversized strings and arrays, values of the wrong type.
 */
import fc from 'fast-check';

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
  $ref?: string;
  [other: string]: unknown;
};

const MAX_DEPTH = 6;

function typesOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  if (typeof schema.type === 'string') return [schema.type];
  if (schema.properties !== undefined) return ['object'];
  return [];
}

function stringOf(schema: JsonSchema): fc.Arbitrary<string> {
  // `^[class]+$` (or `*`) with length bounds: repeat a character of the class. Filtering
  // stringMatching's output by length would draw forever (it makes short strings).
  const repeated = schema.pattern === undefined ? null : /^\^(\[[^\]]+\])[+*]\$$/.exec(schema.pattern);
  if (repeated !== null) {
    const minLength = Math.max(schema.minLength ?? 0, schema.pattern!.endsWith('+$') ? 1 : 0);
    const maxLength = Math.min(schema.maxLength ?? minLength + 20, minLength + 40);
    return fc.string({ unit: fc.stringMatching(new RegExp(`^${repeated[1]}$`)), minLength, maxLength });
  }
  if (schema.pattern !== undefined) {
    const pattern = new RegExp(schema.pattern);
    return fc
      .stringMatching(pattern)
      .filter(
        (text) =>
          text.length >= (schema.minLength ?? 0) &&
          text.length <= (schema.maxLength ?? Number.MAX_SAFE_INTEGER),
      );
  }
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? minLength + 20, minLength + 40);
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((date) => date.toISOString());
    case 'date':
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((date) => date.toISOString().slice(0, 10));
    case 'email':
      return fc.emailAddress().filter((email) => email.length >= minLength && email.length <= maxLength);
    case 'uri':
      return fc.webUrl();
    default:
      return fc
        .string({ minLength, maxLength, unit: 'grapheme-ascii' })
        .filter((text) => text.trim().length >= minLength);
  }
}

function numberOf(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const low =
    schema.minimum ?? (schema.exclusiveMinimum === undefined ? -1_000_000 : schema.exclusiveMinimum + 1);
  const high =
    schema.maximum ?? (schema.exclusiveMaximum === undefined ? 1_000_000 : schema.exclusiveMaximum - 1);
  if (integer || schema.multipleOf !== undefined) {
    const step = schema.multipleOf ?? 1;
    return fc
      .integer({ min: Math.ceil(low / step), max: Math.floor(high / step) })
      .map((value) => value * step);
  }
  return fc.double({ min: low, max: high, noNaN: true, noDefaultInfinity: true });
}

/** Values the schema accepts (as far as this generator knows the keywords in use). */
export function valid(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union !== undefined) return fc.oneof(...union.map((branch) => valid(branch, depth)));
  if (schema.allOf !== undefined) return valid(Object.assign({}, ...schema.allOf) as JsonSchema, depth);
  const [type] = typesOf(schema);
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return numberOf(schema, true);
    case 'number':
      return numberOf(schema, false);
    case 'string':
      return stringOf(schema);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.min(schema.maxItems ?? minLength + 3, minLength + 3);
      if (depth >= MAX_DEPTH || schema.items === undefined) return fc.constant([]);
      return fc.array(valid(schema.items, depth + 1), { minLength, maxLength });
    }
    case 'object': {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties)) {
        if (depth < MAX_DEPTH || required.has(name)) record[name] = valid(property, depth + 1);
      }
      return fc.record(record, { requiredKeys: [...required].filter((name) => name in record) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const NUL_OR_SURROGATE = fc.constantFrom('\u0000', '\ud800', '\udfff', 'a\u0000b', 'x\ud83d', '\ude00y');

/** A value that a validator must refuse or the code must survive: no answer may be a 500. */
function hostileLeaf(schema: JsonSchema): fc.Arbitrary<unknown> {
  const maxLength = schema.maxLength ?? 1_000;
  const maxItems = schema.maxItems ?? 100;
  return fc.oneof(
    fc.constant(null),
    NUL_OR_SURROGATE,
    valid(schema).map((value) => (typeof value === 'string' ? `${value}\u0000` : value)),
    fc.constant('x'.repeat(Math.min(maxLength + 1, 300_000))),
    fc.constant(Array.from({ length: Math.min(maxItems + 1, 10_000) }, () => 'x')),
    fc.constantFrom(-1, 0, 2 ** 53, -(2 ** 63), 1e308, 0.5, '12', 'true', true, {}, [], ''),
  );
}

/** A valid value with, somewhere inside, one hostile replacement (or the whole value replaced). */
export function hostile(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  if (names.length === 0 || depth >= MAX_DEPTH) return fc.oneof(hostileLeaf(schema), valid(schema, depth));
  return fc.oneof(
    { weight: 1, arbitrary: hostileLeaf(schema) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(valid(schema, depth), fc.constantFrom(...names), fc.boolean())
        .chain(([value, name, unknownKey]) => {
          if (unknownKey) return fc.constant({ ...(value as object), ['\u0000key']: 1 });
          return hostile(properties[name]!, depth + 1).map((replacement) => ({
            ...(value as object),
            [name]: replacement,
          }));
        }),
    },
  );
}

/**
 * Every path of the schema where null is a valid value, from the root (`[]` for the root),
 * with the schema of the object holding it: `[['discountPrice'], ['address', 'line2']]`.
 */
export function nullablePaths(schema: JsonSchema, path: string[] = [], depth = 0): string[][] {
  if (depth > MAX_DEPTH) return [];
  const found: string[][] = [];
  const union = schema.anyOf ?? schema.oneOf;
  if (union?.some((branch) => typesOf(branch).includes('null')) || typesOf(schema).includes('null')) {
    if (path.length > 0) found.push(path);
  }
  for (const branch of union ?? []) found.push(...nullablePaths(branch, path, depth + 1));
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    found.push(...nullablePaths(property, [...path, name], depth + 1));
  }
  return found;
}
