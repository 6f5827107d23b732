import type { ModuleRegistration } from '../index.js';
import { registerProjectionMetrics } from './metrics.js';
import { registerProjectionRoutes } from './routes.js';

/**
 * Projections operations: the admin API, lag metrics on /metrics, and the runner's lifecycle
 * (started when the app is ready, stopped when it closes).
 */
export const projectionsModule: ModuleRegistration = {
  name: 'projections',
  async plugin(app, { services }) {
    const runner = services.projections;
    registerProjectionMetrics(app.metricsRegistry, runner);
    registerProjectionRoutes(app, runner);
    app.addHook('onReady', async () => runner.start());
    app.addHook('onClose', async () => runner.stop());
  },
};
