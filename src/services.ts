import type { Runtime } from './runtime.js';
import { createEventStoreService, type AppEventStore } from './eventstore/index.js';

/**
 * The application's services, built once per process from the runtime and shared by routes,
 * jobs and command-line tools. Each bounded context adds its entry here.
 */
export interface Services {
  runtime: Runtime;
  /** The event store port (src/eventstore): PostgreSQL, or EventStoreDB when EVENTSTORE_URL is set. */
  eventStore: AppEventStore;
}

export async function createServices(runtime: Runtime): Promise<Services> {
  const eventStore = createEventStoreService(runtime);
  return { runtime, eventStore };
}
