/**
 * Projection registration: each context adds its read models to `projectionDefinitions`
 * (like `modules` in src/modules/index.ts); the services build one runner over them, the app
 * starts it when ready, and `npm run projections -- status | rebuild NAME` and the admin API
 * operate it.
 */
import type { ProjectionDefinition } from './types.js';
import { ordersProjection } from '../src/modules/orders/projection.js';

export const projectionDefinitions: ProjectionDefinition[] = [ordersProjection];

export { createProjectionRunner, type ProjectionRunner, type ProjectionRunnerOptions } from './runner.js';
export type { ProjectionContext, ProjectionDefinition, ProjectionStatus } from './types.js';
