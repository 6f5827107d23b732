import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, EnvironmentSchema, loadConfig } from '../../src/config/index.js';
import { envExample } from '../../scripts/env-example.js';

/**
 * The deployment files are configuration too: each one's environment goes through the same
 * check as a real start (loadConfig), so a blueprint that cannot boot fails here, not on Render.
 */
const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const schemaVariables = new Set(Object.keys(EnvironmentSchema.properties));
const dataDirectory = mkdtempSync(path.join(tmpdir(), 'fd-config-files-'));

/** What an operator would put in .env or the dashboard: valid, obviously not real. */
const OPERATOR_VALUES: Record<string, string> = {
  PUBLIC_BASE_URL: 'https://api.example.cm',
  METRICS_TOKEN: 'example-metrics-token-0123456789',
  JWT_SECRET: 'example-jwt-secret-0123456789abcdef',
  JWT_REFRESH_SECRET: 'example-refresh-secret-0123456789abcdef',
  ENCRYPTION_KEY: 'a'.repeat(64),
  PII_ENCRYPTION_KEYS: `k1:${'b'.repeat(64)}`,
  PII_BLIND_INDEX_KEY: 'c'.repeat(64),
  FILES_SIGNING_KEY: 'd'.repeat(32),
  CAMPAY_BASE_URL: 'https://demo.campay.net/api',
  CAMPAY_USERNAME: 'example-app-user',
  CAMPAY_PASSWORD: 'example-app-password',
  CAMPAY_SECRET: 'example-webhook-key',
  MTN_MOMO_BASE_URL: 'https://sandbox.momodeveloper.mtn.com',
  MTN_MOMO_API_USER: '2b0c1f32-5a2e-4f0e-9a7d-1c2d3e4f5a6b',
  MTN_MOMO_API_KEY: 'example-api-key',
  MTN_MOMO_SUBSCRIPTION_KEY: 'example-subscription-key',
  MTN_MOMO_CALLBACK_SECRET: 'example-callback-secret-0123456789',
  TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
  TWILIO_AUTH_TOKEN: 'example-twilio-token',
  TWILIO_FROM: '+237650000000',
  CORS_ORIGINS: 'https://app.example.cm',
  EVENTSTORE_URL: 'esdb://eventstore:2113?tls=false',
};

function configError(environment: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

interface ComposeService {
  profiles?: string[];
  environment?: Record<string, string>;
}

function composeServices(): Record<string, ComposeService> {
  const document = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
  return document.services;
}

/** Compose's `${NAME:-default}` interpolation, from the operator's .env (here: `values`). */
function interpolate(environment: Record<string, string>, values: Record<string, string>) {
  const result: Record<string, string> = { DATA_DIR: dataDirectory };
  for (const [name, value] of Object.entries(environment)) {
    result[name] = String(value).replace(
      /\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g,
      (_, variable: string, fallback?: string) => values[variable] || fallback || '',
    );
  }
  return result;
}

interface RenderVariable {
  key: string;
  value?: string;
  sync?: boolean;
  generateValue?: boolean;
  fromDatabase?: unknown;
  fromService?: unknown;
}

function renderWebVariables(): RenderVariable[] {
  const blueprint = parse(read('render.yaml')) as { services: { type: string; envVars: RenderVariable[] }[] };
  const web = blueprint.services.find((service) => service.type === 'web');
  if (web === undefined) throw new Error('render.yaml has no web service');
  return web.envVars;
}

/** Render fills `fromDatabase`/`fromService`; the operator fills `sync: false` in the dashboard. */
function renderEnvironment(skip: string[] = []): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = { DATA_DIR: dataDirectory };
  for (const variable of renderWebVariables()) {
    if (skip.includes(variable.key)) continue;
    if (variable.value !== undefined) environment[variable.key] = String(variable.value);
    else if (variable.key === 'DATABASE_URL') environment.DATABASE_URL = 'postgres://admin:pw@db:5432/food';
    else if (variable.key === 'REDIS_URL') environment.REDIS_URL = 'redis://red-xyz:6379';
    else if (variable.sync === false) environment[variable.key] = OPERATOR_VALUES[variable.key] ?? '';
    else if (variable.generateValue === true) environment[variable.key] = 'render-generated-0123456789abcdef';
  }
  return environment;
}

describe('docker-compose.yml', () => {
  it('names only variables the service reads', () => {
    for (const [name, service] of Object.entries(composeServices())) {
      if (!name.startsWith('app')) continue;
      for (const variable of Object.keys(service.environment ?? {}))
        expect(schemaVariables).toContain(variable);
    }
  });

  it('the dev profile boots as written: simulators and outbox on, not production', () => {
    const service = composeServices()['app-dev']!;
    expect(service.profiles).toEqual(['dev']);
    const config = loadConfig(interpolate(service.environment!, {}));
    expect(config).toMatchObject({ isProduction: false, PAYMENT_SIMULATORS: true, OUTBOX_ENABLED: true });
    expect(config.PUBLIC_BASE_URL).toBe('http://localhost:3000');
  });

  it('the prod profile boots with an operator .env and names every missing variable without one', () => {
    const service = composeServices().app!;
    expect(service.profiles).toEqual(['prod']);
    const config = loadConfig(interpolate(service.environment!, OPERATOR_VALUES));
    expect(config).toMatchObject({ isProduction: true, PAYMENT_SIMULATORS: false, OUTBOX_ENABLED: false });

    const error = configError(interpolate(service.environment!, {}));
    expect(error.variables.sort()).toEqual(
      [
        'JWT_SECRET',
        'JWT_REFRESH_SECRET',
        'ENCRYPTION_KEY',
        'PII_ENCRYPTION_KEYS',
        'PII_BLIND_INDEX_KEY',
        'FILES_SIGNING_KEY',
        'PUBLIC_BASE_URL',
        'METRICS_TOKEN',
        'CAMPAY_BASE_URL',
        'CAMPAY_USERNAME',
        'CAMPAY_PASSWORD',
        'CAMPAY_SECRET',
        'TWILIO_ACCOUNT_SID',
        'TWILIO_AUTH_TOKEN',
        'TWILIO_FROM',
      ]
        .filter((name) => schemaVariables.has(name))
        .sort(),
    );
  });
});

describe('render.yaml', () => {
  it('names only variables the service reads (and the one it composes EVENTSTORE_URL from)', () => {
    for (const variable of renderWebVariables()) {
      if (variable.key === 'EVENTSTORE_HOSTPORT') continue;
      expect(schemaVariables).toContain(variable.key);
    }
  });

  it('boots in production once the dashboard secrets are filled, trusting the proxy', () => {
    const config = loadConfig(renderEnvironment());
    expect(config).toMatchObject({ isProduction: true, TRUST_PROXY: true, HOST: '0.0.0.0' });
    expect(config.PUBLIC_BASE_URL).toBe(OPERATOR_VALUES.PUBLIC_BASE_URL);
  });

  it('declares every variable a production start requires: leaving each out is named', () => {
    for (const required of [
      'PUBLIC_BASE_URL',
      'JWT_SECRET',
      'ENCRYPTION_KEY',
      'PII_ENCRYPTION_KEYS',
      'PII_BLIND_INDEX_KEY',
      'FILES_SIGNING_KEY',
      'CAMPAY_BASE_URL',
      'CAMPAY_SECRET',
    ]) {
      expect(configError(renderEnvironment([required])).variables).toContain(required);
    }
  });
});

describe('PUBLIC_BASE_URL', () => {
  it('follows PORT when unset (links, tracking and callback URLs point at this process)', () => {
    const config = loadConfig({ NODE_ENV: 'test', PORT: '4123', DATA_DIR: dataDirectory });
    expect(config.PUBLIC_BASE_URL).toBe('http://127.0.0.1:4123');
  });

  it('keeps an explicit value and refuses one that is not a URL', () => {
    expect(
      loadConfig({ PUBLIC_BASE_URL: 'https://api.example.cm', DATA_DIR: dataDirectory }).PUBLIC_BASE_URL,
    ).toBe('https://api.example.cm');
    expect(configError({ PUBLIC_BASE_URL: 'api.example.cm', DATA_DIR: dataDirectory }).variables).toEqual([
      'PUBLIC_BASE_URL',
    ]);
  });
});

describe('payment provider credentials go through the configuration check', () => {
  it('names the missing credentials of a primary provider when the simulators are off', () => {
    const error = configError({
      PAYMENT_SIMULATORS: 'false',
      PAYMENT_PROVIDER_MTN: 'mtn_momo',
      CAMPAY_BASE_URL: 'https://demo.campay.net/api',
      CAMPAY_API_KEY: 'permanent-token',
      DATA_DIR: dataDirectory,
    });
    expect(error.variables.sort()).toEqual([
      'MTN_MOMO_API_KEY',
      'MTN_MOMO_API_USER',
      'MTN_MOMO_BASE_URL',
      'MTN_MOMO_SUBSCRIPTION_KEY',
    ]);
    expect(error.message).toContain('PAYMENT_PROVIDER_MTN=mtn_momo');
  });

  it('needs nothing while the simulators answer (development)', () => {
    expect(loadConfig({ DATA_DIR: dataDirectory }).PAYMENT_SIMULATORS).toBe(true);
  });

  // A child process starting tsx: seconds on a quiet machine, tens of seconds on a loaded CI one.
  it(
    'a production start without credentials exits 78 with one message naming each variable',
    { timeout: 120_000 },
    () => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd: root,
        env: { PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: 'postgres://127.0.0.1:1/none' },
        encoding: 'utf8',
        timeout: 110_000,
      });
      expect(result.status, result.stderr).toBe(78);
      for (const name of ['JWT_SECRET', 'PUBLIC_BASE_URL', 'CAMPAY_BASE_URL', 'CAMPAY_SECRET'])
        expect(result.stderr).toContain(name);
      expect(result.stderr).not.toMatch(/RangeError|at .*\.ts:\d+/);
    },
  );
});

describe('.env.example', () => {
  it('lists every variable of the schema with its meaning (npm run env:example)', () => {
    expect(read('.env.example')).toBe(envExample());
  });
});

describe('the Docker image', () => {
  const docker = spawnSync('docker', ['info'], { encoding: 'utf8', timeout: 10_000 });
  const engine = docker.status === 0;
  if (!engine) console.warn('[deploy tests] SKIPPED docker build: no Docker engine answers `docker info`');

  it.skipIf(!engine)('builds as shipped', { timeout: 900_000 }, () => {
    const build = spawnSync('docker', ['build', '--tag', 'food-delivery-api:test', '.'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 900_000,
    });
    expect(build.status, build.stderr.slice(-3_000)).toBe(0);
  });
});

describe('docker/start.sh sizes the heap from the container memory limit', () => {
  /** Runs the script with a fake `node` that prints what it would have been given. */
  function start(limit: string | undefined, environment: Record<string, string> = {}) {
    const directory = mkdtempSync(path.join(tmpdir(), 'fd-start-'));
    const limitFile = path.join(directory, 'memory.max');
    if (limit !== undefined) writeFileSync(limitFile, `${limit}\n`);
    writeFileSync(
      path.join(directory, 'node'),
      '#!/bin/sh\necho "NODE_OPTIONS=$NODE_OPTIONS"\necho "MAX_HEAP_USED_BYTES=${MAX_HEAP_USED_BYTES:-unset}"\necho "ARGS=$*"\n',
      { mode: 0o755 },
    );
    const result = spawnSync('sh', [path.join(root, 'docker/start.sh')], {
      env: { PATH: `${directory}:${process.env.PATH}`, CGROUP_MEMORY_FILES: limitFile, ...environment },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  }

  it("gives 70 % of Render's 512 MB to the heap and sheds load at 90 % of that", () => {
    const output = start(String(512 * 1024 * 1024));
    expect(output).toContain('--max-old-space-size=358');
    expect(output).toContain(`MAX_HEAP_USED_BYTES=${Math.floor((358 * 1048576 * 90) / 100)}`);
    expect(output).toContain('ARGS=--import ./dist/src/telemetry/register.js dist/src/server.js');
  });

  it('leaves V8 its default without a limit, and an explicit NODE_OPTIONS alone', () => {
    expect(start('max')).toContain('MAX_HEAP_USED_BYTES=unset');
    expect(start(undefined)).not.toContain('max-old-space-size');
    expect(start(String(4 * 1024 ** 3), { NODE_OPTIONS: '--max-old-space-size=900' })).toContain(
      'NODE_OPTIONS=--max-old-space-size=900',
    );
    expect(start(String(4 * 1024 ** 3), { HEAP_PERCENT: '50' })).toContain('--max-old-space-size=2048');
  });
});
