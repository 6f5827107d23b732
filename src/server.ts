import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { boot } from './boot.js';
import { isDemoSeeded, seedDemo } from './seed/index.js';
import { shutdownTracing } from './telemetry/tracing.js';

const { config, logger, services } = await boot();
const { runtime } = services;
logger.info(
  {
    database:
      runtime.embedded === undefined ? 'DATABASE_URL' : `embedded PostgreSQL (${config.DATA_DIR}/postgres)`,
    redis: runtime.redis === undefined ? 'in-process fallbacks (no REDIS_URL)' : 'REDIS_URL',
    eventStore: config.EVENTSTORE_URL === undefined ? 'PostgreSQL' : 'EventStoreDB',
  },
  `mode: ${runtime.embedded === undefined ? 'external services' : 'embedded default'}`,
);

const app = await buildApp(services, logger);

closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS, logger }, async ({ signal, err }) => {
  if (err !== undefined) logger.error({ err }, 'shutting down after an error');
  else logger.info({ signal }, 'shutting down: draining requests');
  await app.close();
  await runtime.close();
  await shutdownTracing(); // the spans still buffered (nothing when tracing is off)
});

await app.listen({ host: config.HOST, port: config.PORT });

// Seeded once the server listens and its jobs run: the demo orders are paid from a wallet topped
// up through the Mobile Money simulators, whose webhook (or the payment poller) must reach us.
if (runtime.embedded !== undefined && config.SEED_DEMO && !(await isDemoSeeded(services))) {
  const lines = await seedDemo(services);
  logger.info({ seeded: lines }, 'demo data seeded (first embedded start)');
}
