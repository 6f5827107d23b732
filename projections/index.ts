/**
 * The projection runner: it knows no context. Whoever creates it hands it the read models to run
 * (the services, from the contexts' definitions); the app starts it when ready, and
 * `npm run projections -- status | rebuild NAME` and the admin API operate it.
 */
export {
  createProjectionRunner,
  projectionLag,
  type ProjectionRunner,
  type ProjectionRunnerOptions,
} from './runner.js';
export type {
  ProjectionContext,
  ProjectionDefinition,
  ProjectionStatus,
  ProjectionTransaction,
} from './types.js';
export type { ProjectionTables } from './tables.js';
