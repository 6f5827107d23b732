import AjvCompiler from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type AjvServerOptions = NonNullable<FastifyServerOptions['ajv']>;
type ValidatorFactory = ReturnType<typeof AjvCompiler>;

/**
 * Two Ajv instances: one that coerces types, for the parts of a request that only carry strings
 * (query string, path parameters, headers), and one that does not, for JSON bodies. A JSON body
 * says what type it means: coercing it turned `discountPrice: null` into a free dish and
 * `stock: null` into sold out for good (a `[number, null]` union coerces null to 0 in its first
 * branch). A body value of the wrong type is refused with 400 instead.
 */
export function requestValidators(): ValidatorFactory {
  const pool = AjvCompiler();
  return (externalSchemas, options) => {
    const coercing = pool(externalSchemas, options);
    const strict = pool(externalSchemas, {
      ...options,
      customOptions: { ...options?.customOptions, coerceTypes: false },
    } as AjvServerOptions);
    return (route) => (route.httpPart === 'body' ? strict(route) : finiteOnly(coercing(route)));
  };
}

type Validate = ReturnType<ReturnType<ValidatorFactory>>;

/** The path of the first number that is not finite in `value`, if any. */
function nonFinite(value: unknown, path = ''): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = nonFinite(item, `${path}/${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Ajv coerces a string of more than 308 digits to Infinity and then skips `minimum`/`maximum`,
 * which it checks on finite numbers only: `?limit=999…9` passed `maximum: 50`. A coerced part of
 * the request holding a number that is not finite is refused as the type error it is.
 */
function finiteOnly(validate: Validate): Validate {
  const checked = ((data: unknown) => {
    const result = (validate as (data: unknown) => unknown)(data);
    if (result !== true) {
      checked.errors = validate.errors;
      return result;
    }
    const path = nonFinite(data);
    if (path === undefined) return true;
    checked.errors = [
      {
        instancePath: path,
        schemaPath: '#/type',
        keyword: 'type',
        params: { type: 'number' },
        message: 'must be a finite number',
      },
    ];
    return false;
  }) as Validate;
  // The rest of what Fastify may read from a compiled validator (schema, schemaEnv) stays the same.
  return Object.assign(checked, {
    schema: validate.schema,
    schemaEnv: (validate as { schemaEnv?: unknown }).schemaEnv,
  });
}

type SerializerFactory = ReturnType<typeof SerializerSelector>;

/**
 * A validator compiled on its first use. Fastify reads `errors` after a failed call and
 * `schemaEnv` (to pass Ajv the parent of the value) on each call: both come from the compiled
 * function, so a lazy validator answers exactly as the eager one would.
 */
function lazyValidator(compile: () => Validate): Validate {
  let compiled: Validate | undefined;
  const get = (): Validate => (compiled ??= compile());
  const run = function (this: unknown, ...args: unknown[]) {
    return (get() as (...args: unknown[]) => unknown).apply(this, args);
  };
  Object.defineProperties(run, {
    errors: { get: () => get().errors, set: (value) => Object.assign(get(), { errors: value }) },
    schemaEnv: { get: () => (get() as { schemaEnv?: unknown }).schemaEnv },
    schema: { get: () => get().schema },
  });
  return run as unknown as Validate;
}

/**
 * Fastify's compilers: `requestValidators` for requests and fast-json-stringify for answers.
 * `eager` (production's default) compiles every route's at start, as Fastify does; `lazy` compiles
 * each route's on its first request. The suites build an app per file and use a few of its
 * hundreds of routes: compiling them all was most of an app's build (about 3 of 5 s, profiled).
 * tests/integration/api-contract.test.ts builds the app eagerly, so every schema still compiles
 * under test.
 */
export function schemaCompilers(mode: 'eager' | 'lazy'): {
  buildValidator: ValidatorFactory;
  buildSerializer: SerializerFactory;
} {
  const validators = requestValidators();
  const serializers = SerializerSelector();
  if (mode === 'eager') return { buildValidator: validators, buildSerializer: serializers };
  return {
    buildValidator: (externalSchemas, options) => {
      const compiler = validators(externalSchemas, options);
      return (route) => lazyValidator(() => compiler(route));
    },
    buildSerializer: (externalSchemas, options) => {
      const compiler = serializers(externalSchemas, options);
      return (route) => {
        let compiled: ((data: unknown) => string) | undefined;
        return (data: unknown) => (compiled ??= compiler(route))(data);
      };
    },
  };
}
