import type { Runtime } from './runtime.js';

/**
 * The application's services, built once per process from the runtime and shared by routes,
 * jobs and command-line tools. Each bounded context adds its entry here.
 */
export interface Services {
  runtime: Runtime;
}

export async function createServices(runtime: Runtime): Promise<Services> {
  return { runtime };
}
