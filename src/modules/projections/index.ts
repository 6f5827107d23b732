import { defineContext } from '../../platform/context.js';
import { registerProjectionMetrics } from './metrics.js';
import { registerProjectionRoutes } from './routes.js';

/**
 * Projections operations: the admin API, lag metrics on /metrics, and the runner's lifecycle
 * (started when the app is ready, stopped when it closes). The runner is the platform's; each
 * context brings its read models in its definition's `projections`. `services.projections` is
 * the runner.
 */
export const projectionsContext = defineContext({
  name: 'projections',
  needs: {},
  create({ projections: runner }) {
    return {
      service: runner,
      routes(app) {
        registerProjectionMetrics(app.metricsRegistry, runner);
        registerProjectionRoutes(app, runner);
      },
      reactors: [{ name: 'projection runner', start: () => runner.start(), stop: () => runner.stop() }],
    };
  },
});
