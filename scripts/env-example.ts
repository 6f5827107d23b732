/**
 * Writes `.env.example` from the configuration schema (src/config/index.ts), so that the list of
 * variables and their meanings can never drift from what the service reads. A test
 * (tests/deploy/config-files.test.ts) fails when the committed file differs from this output.
 *
 *   npm run env:example           rewrite .env.example
 *   npm run env:example -- --stdout   print it instead
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EnvironmentSchema } from '../src/config/index.js';

const HEADER = `# Every environment variable the food-delivery API reads, with its meaning and default.
# Generated from src/config/index.ts by \`npm run env:example\`: edit the schema, not this file.
#
# Development needs none of them: \`npm start\` runs on an embedded PostgreSQL, in-process
# fallbacks for Redis, the Mobile Money simulators and the recording outbox.
#
# Production (NODE_ENV=production) refuses to start, naming each missing variable (exit 78),
# without: DATABASE_URL, JWT_SECRET, JWT_REFRESH_SECRET, ENCRYPTION_KEY, PUBLIC_BASE_URL, METRICS_TOKEN,
# TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN + TWILIO_FROM (the SMS codes), and the
# credentials of each primary payment provider (PAYMENT_PROVIDER_MTN / PAYMENT_PROVIDER_ORANGE):
#   campay:   CAMPAY_BASE_URL, CAMPAY_USERNAME + CAMPAY_PASSWORD (or CAMPAY_API_KEY), CAMPAY_SECRET
#   mtn_momo: MTN_MOMO_BASE_URL, MTN_MOMO_API_USER, MTN_MOMO_API_KEY, MTN_MOMO_SUBSCRIPTION_KEY
# Generate secrets with \`openssl rand -base64 32\` (JWT_*) and \`openssl rand -hex 32\` (ENCRYPTION_KEY).
# Behind a proxy or load balancer (Render, nginx), set TRUST_PROXY=true, or every client shares
# one rate-limit bucket. In the Docker image, HEAP_PERCENT (default 70) sizes the V8 heap as a
# share of the container's memory limit (docker/start.sh).
`;

interface PropertySchema {
  description?: string;
  default?: unknown;
}

export function envExample(): string {
  const lines = [HEADER];
  const properties = EnvironmentSchema.properties as Record<string, PropertySchema>;
  for (const [name, property] of Object.entries(properties)) {
    lines.push(`# ${property.description ?? name}`);
    lines.push(property.default === undefined ? `# ${name}=` : `# ${name}=${String(property.default)}`);
    lines.push('');
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = envExample();
  if (process.argv.includes('--stdout')) process.stdout.write(text);
  else writeFileSync(new URL('../.env.example', import.meta.url), text);
}
