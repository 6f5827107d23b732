import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { withTimeout, type Runtime } from '../runtime.js';

const CHECK_TIMEOUT_MS = 2_000;

const CheckResult = Type.Object({
  name: Type.String(),
  ok: Type.Boolean(),
  error: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String({ description: 'a ready but degraded state, e.g. a fallback in use' })),
});
const ReadyBody = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  mode: Type.Object({ database: Type.String(), redis: Type.String(), eventStore: Type.String() }),
  checks: Type.Array(CheckResult),
  failed: Type.Array(Type.String()),
});

export function registerHealth(app: FastifyInstance, runtime: Runtime, mode: { eventStore: string }): void {
  const common = { config: { access: { public: true as const }, rateLimit: false as const } };
  app.get(
    '/health/live',
    {
      ...common,
      schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    { ...common, schema: { tags: ['health'], response: { 200: ReadyBody, 503: ReadyBody } } },
    async (_request, reply) => {
      const checks = await Promise.all(
        runtime.readiness.map(async ({ name, check }) => {
          try {
            const result = await withTimeout(check(), CHECK_TIMEOUT_MS, name);
            return typeof result === 'object' && result !== null
              ? { name, ok: true, detail: result.detail.slice(0, 200) }
              : { name, ok: true };
          } catch (error) {
            // The reason is operational (timeout, refused); it names no secret.
            return { name, ok: false, error: (error as Error).message.slice(0, 200) };
          }
        }),
      );
      if (app.isUnderPressure?.() === true) checks.push({ name: 'load', ok: false, error: 'under pressure' });
      const failed = checks.filter((check) => !check.ok).map((check) => check.name);
      reply.code(failed.length === 0 ? 200 : 503);
      if (failed.length > 0) reply.header('retry-after', '5');
      return {
        status: failed.length === 0 ? ('ready' as const) : ('unavailable' as const),
        mode: {
          database: runtime.embedded === undefined ? 'external' : 'embedded',
          redis: runtime.redis === undefined ? 'in-process' : 'redis',
          eventStore: mode.eventStore,
        },
        checks,
        failed,
      };
    },
  );
}
