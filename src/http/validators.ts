import AjvCompiler from '@fastify/ajv-compiler';
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
    return (route) => (route.httpPart === 'body' ? strict(route) : coercing(route));
  };
}
