/** Admin routes of the A/B experiments (experiments.ts): start, list, stop, report. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import { signedInActorOf } from '../identity/index.js';
import { EXPERIMENT_KEY, VARIANT_NAME, VARIANTS_MAX, WEIGHT_MAX } from './experiment-rules.js';
import type { Experiments } from './experiments.js';

const ADMINS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const tags = ['admin', 'recommendations'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  429: ProblemSchema,
};

const Key = Type.String({ pattern: EXPERIMENT_KEY.source, description: 'e.g. recommendations-ranker' });
const VariantSchema = Type.Object(
  {
    name: Type.String({ pattern: VARIANT_NAME.source }),
    weight: Type.Integer({ minimum: 1, maximum: WEIGHT_MAX, description: 'share of people, relative' }),
  },
  { additionalProperties: false },
);
const ExperimentSchema = Type.Object({
  key: Type.String(),
  description: Type.String(),
  variants: Type.Array(VariantSchema),
  control: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('stopped')]),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  stoppedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const IntervalSchema = Type.Union([Type.Object({ low: Type.Number(), high: Type.Number() }), Type.Null()]);
const ReportSchema = Type.Object({
  experiment: ExperimentSchema,
  sessionMinutes: Type.Integer({ description: 'an order within this long after an exposure converts' }),
  variants: Type.Array(
    Type.Object({
      name: Type.String(),
      control: Type.Boolean(),
      exposed: Type.Integer({ description: 'people who saw this variant' }),
      conversions: Type.Integer({ description: 'of them, people who ordered within the session' }),
      rate: Type.Union([Type.Number(), Type.Null()]),
      interval: { ...IntervalSchema, description: 'the rate’s 95 % Wilson interval' },
      difference: Type.Union(
        [Type.Object({ estimate: Type.Number(), interval: IntervalSchema }), Type.Null()],
        {
          description:
            'this rate minus the control’s, with its 95 % interval (Newcombe); null for the control',
        },
      ),
    }),
  ),
});

export function registerExperimentRoutes(app: FastifyInstance, services: { experiments: Experiments }): void {
  const { experiments } = services;
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post('/v1/admin/experiments', {
    config: { access: ADMINS, location: true },
    schema: {
      tags,
      summary: 'Start an A/B experiment the code serves (audited); the same request again answers 200',
      body: Type.Object(
        {
          key: Key,
          description: Type.String({ minLength: 1, maxLength: 500 }),
          variants: Type.Array(VariantSchema, { minItems: 2, maxItems: VARIANTS_MAX }),
          control: Type.String({ pattern: VARIANT_NAME.source, description: 'the variant compared against' }),
        },
        { additionalProperties: false },
      ),
      response: { 200: ExperimentSchema, 201: ExperimentSchema, ...errors },
    },
    handler: async (request, reply) => {
      const { experiment, created } = await experiments.create(request.body, signedInActorOf(request));
      if (created) reply.header('location', `/v1/admin/experiments/${experiment.key}`);
      return reply.code(created ? 201 : 200).send(experiment);
    },
  });

  typed.get('/v1/admin/experiments', {
    config: { access: ADMINS },
    schema: {
      tags,
      summary: 'The experiments, newest first (at most 200)',
      response: { 200: Type.Object({ items: Type.Array(ExperimentSchema) }), ...errors },
    },
    handler: async () => ({ items: await experiments.list() }),
  });

  typed.get('/v1/admin/experiments/:key', {
    config: { access: ADMINS },
    schema: {
      tags,
      summary: 'One experiment',
      params: Type.Object({ key: Key }),
      response: { 200: ExperimentSchema, ...errors },
    },
    handler: async (request) => experiments.get(request.params.key),
  });

  typed.post('/v1/admin/experiments/:key/stop', {
    config: { access: ADMINS },
    schema: {
      tags,
      summary: 'Stop an experiment (audited): everyone gets the default again; the figures stay',
      params: Type.Object({ key: Key }),
      response: { 200: ExperimentSchema, ...errors },
    },
    handler: async (request) => experiments.stop(request.params.key, signedInActorOf(request)),
  });

  typed.get('/v1/admin/experiments/:key/report', {
    config: { access: ADMINS },
    schema: {
      tags,
      summary:
        'Per-variant exposure and conversion with 95 % intervals, and each variant against the control',
      params: Type.Object({ key: Key }),
      response: { 200: ReportSchema, ...errors },
    },
    handler: async (request) => experiments.report(request.params.key),
  });
}
