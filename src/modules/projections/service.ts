import type { ProjectionRunner, ProjectionStatus } from '../../../projections/index.js';
import { projectionsErrors } from './errors.js';

/** The admin operations behind the routes and the CLI (tested without HTTP). */
export async function listProjections(
  runner: ProjectionRunner,
): Promise<{ items: (ProjectionStatus & { registered: boolean })[] }> {
  const statuses = await runner.status();
  const registered = new Set(runner.definitions().map((definition) => definition.name));
  // Generations of projections no longer registered still show, so an operator can see them.
  return {
    items: statuses
      .sort((a, b) => a.name.localeCompare(b.name) || a.generation - b.generation)
      .map((item) => ({ ...item, registered: registered.has(item.name) })),
  };
}

export async function requestProjectionRebuild(
  runner: ProjectionRunner,
  name: string,
): Promise<{ name: string; generation: number; status: 'building' }> {
  if (!runner.definitions().some((definition) => definition.name === name)) {
    throw projectionsErrors.notFound(`No projection named ${name}.`);
  }
  const { generation } = await runner.requestRebuild(name);
  return { name, generation, status: 'building' };
}
