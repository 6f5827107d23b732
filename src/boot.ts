import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { migrateToLatest } from './db/migrate.js';
import { createLogger } from './logger.js';
import { createRuntime, type Runtime } from './runtime.js';
import { createServices, type Services } from './services.js';

export interface Booted {
  config: Config;
  logger: Logger;
  services: Services;
}

/** Parses config or exits with one message naming the bad variables. */
export function configOrExit(environment: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/**
 * Shared by the server and every command-line tool, so each works against DATABASE_URL and
 * the embedded default alike. Migrations run here for the embedded default (and when asked).
 */
export async function boot(options: { migrate?: boolean; logLevel?: string } = {}): Promise<Booted> {
  const { config, logger, runtime } = await bootRuntime(options);
  const services = await createServices(runtime);
  return { config, logger, services };
}

/**
 * Infrastructure only (config, pool, Redis, embedded server), for tools such as `migrate` that
 * must not require what the services need (provider credentials, signing keys).
 */
export async function bootRuntime(options: { migrate?: boolean; logLevel?: string } = {}): Promise<{
  config: Config;
  logger: Logger;
  runtime: Runtime;
}> {
  const config = configOrExit();
  const logger = createLogger(options.logLevel ?? config.LOG_LEVEL);
  for (const name of config.generatedSecrets) {
    logger.warn(
      `${name} is not set: using a development secret generated in ${config.DATA_DIR}/dev-secrets.json`,
    );
  }
  const runtime = await createRuntime({ config, logger });
  if (options.migrate ?? runtime.embedded !== undefined) {
    await migrateToLatest(runtime.database.db);
  }
  return { config, logger, runtime };
}
