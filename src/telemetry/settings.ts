/**
 * The tracing settings, read by the preload before anything else loads. They are the standard
 * OpenTelemetry variables, declared in src/config (validated there at boot, listed in
 * .env.example); the preload checks the same schema for its subset, so a bad value starts no
 * tracing and boot then stops naming it (exit 78).
 */
import Type from 'typebox';
import Value from 'typebox/value';
import { EnvironmentSchema } from '../config/index.js';

const NAMES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
] as const;

const TelemetrySchema = Type.Object(
  Object.fromEntries(NAMES.map((name) => [name, EnvironmentSchema.properties[name]])) as Pick<
    typeof EnvironmentSchema.properties,
    (typeof NAMES)[number]
  >,
);

export type Sampler =
  | 'parentbased_traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'traceidratio'
  | 'always_on'
  | 'always_off';

export interface TelemetrySettings {
  /** The OTLP/HTTP URL spans are posted to. */
  tracesUrl: string;
  serviceName: string;
  sampler: Sampler;
  ratio: number;
}

export type TelemetryDecision =
  | { on: true; settings: TelemetrySettings }
  | { on: false; reason: 'not_configured' }
  | { on: false; reason: 'invalid'; variables: string[] };

/** Tracing is on when an OTLP endpoint is set and every OTEL_* variable is valid. */
export function telemetrySettings(environment: NodeJS.ProcessEnv = process.env): TelemetryDecision {
  const raw: Record<string, string> = {};
  for (const name of NAMES) {
    const value = environment[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const parsed = Value.Default(TelemetrySchema, Value.Convert(TelemetrySchema, structuredClone(raw)));
  if (!Value.Check(TelemetrySchema, parsed)) {
    const variables = new Set<string>();
    for (const error of Value.Errors(TelemetrySchema, parsed))
      variables.add(error.instancePath.split('/')[1] ?? error.instancePath);
    return { on: false, reason: 'invalid', variables: [...variables] };
  }
  const tracesUrl =
    parsed.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (parsed.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
      ? undefined
      : `${parsed.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);
  if (tracesUrl === undefined) return { on: false, reason: 'not_configured' };
  return {
    on: true,
    settings: {
      tracesUrl,
      serviceName: parsed.OTEL_SERVICE_NAME,
      sampler: parsed.OTEL_TRACES_SAMPLER as Sampler,
      ratio: parsed.OTEL_TRACES_SAMPLER_ARG,
    },
  };
}
