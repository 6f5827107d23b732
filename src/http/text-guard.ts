import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.js';

/**
 * NUL and lone UTF-16 surrogates: PostgreSQL stores neither (text refuses 0x00, jsonb refuses
 * `\u0000` and unpaired surrogates), and a string cut in half is no name or address. With the
 * `u` flag a well-formed surrogate pair is one code point, so only lone halves match.
 */
// eslint-disable-next-line no-control-regex -- the NUL character is exactly what is refused
const UNSAFE_TEXT = /[\u0000\uD800-\uDFFF]/u;

/** Strings and keys visited at most per request part: a body is bounded by BODY_LIMIT_BYTES anyway. */
const MAX_VISITED = 100_000;

/** The path of the first string (or key) in `value` holding NUL or a lone surrogate; undefined if none. */
export function unsafeTextPath(value: unknown, root: string): string | undefined {
  const stack: [unknown, string][] = [[value, root]];
  for (let visited = 0; stack.length > 0 && visited < MAX_VISITED; visited += 1) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'string') {
      if (UNSAFE_TEXT.test(current)) return path;
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push([item, `${path}/${index}`]));
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        if (UNSAFE_TEXT.test(key)) return `${path}/${key.replace(UNSAFE_TEXT, '?')}`;
        stack.push([item, `${path}/${key}`]);
      }
    }
  }
  return undefined;
}

function firstUnsafe(request: FastifyRequest): string | undefined {
  return (
    unsafeTextPath(request.params, 'params') ??
    unsafeTextPath(request.query, 'querystring') ??
    unsafeTextPath(request.headers, 'headers') ??
    unsafeTextPath(request.body, 'body')
  );
}

/**
 * Refuses, with 400 `invalid_characters`, a request whose body, query string, path parameters
 * or headers hold NUL or a lone surrogate, before validation and before any work: such a string
 * reached PostgreSQL and failed there with a 500, for a wallet order after its money had moved.
 */
export function refuseUnsafeText(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const path = firstUnsafe(request);
    if (path === undefined) return;
    throw new HttpProblem(
      400,
      'invalid_characters',
      'Text may not contain NUL characters or unpaired UTF-16 surrogates.',
      { extensions: { errors: [{ path, message: 'holds a NUL character or a lone surrogate' }] } },
    );
  });
}
