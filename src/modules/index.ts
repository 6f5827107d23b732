import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../services.js';
import { identityModule } from './identity/index.js';
import { notificationsModule } from './notifications/index.js';
import { projectionsModule } from './projections/index.js';
import { catalogModule } from './catalog/index.js';
import { ledgerModule } from './ledger/index.js';
import { ordersModule } from './orders/index.js';
import { paymentsModule } from './payments/index.js';

export interface ModuleOptions {
  services: Services;
}

export interface ModuleRegistration {
  name: string;
  plugin: FastifyPluginAsync<ModuleOptions>;
}

/** Every bounded context's routes, registered under `/v1` (or its own absolute paths). */
export const modules: ModuleRegistration[] = [
  identityModule,
  notificationsModule,
  projectionsModule,
  catalogModule,
  ordersModule,
  ledgerModule,
  paymentsModule,
];
