/**
 * Builds a list of context definitions in dependency order (context.ts describes the contract).
 * A need that no context provides, a cycle of needs, or two contexts with one name stop the
 * start with a `ContextWiringError` that names them: a wiring mistake is found at boot, in every
 * test, never at the first request.
 */
import type { AnyContextDefinition, Contribution, Platform } from './context.js';

export class ContextWiringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextWiringError';
  }
}

/** Names the platform's own entries in `Services`; no context may take one. */
export const RESERVED_NAMES: readonly string[] = ['runtime', 'eventStore', 'jobs', 'realtime', 'contexts'];
const MAX_CONTEXTS = 64;

export interface AssembledContext {
  name: string;
  contribution: Contribution<unknown>;
}

export interface Assembly {
  /** Every context's service by name. */
  services: Record<string, unknown>;
  /** Contributions in dependency order (routes, reactors, seeds and the rest run in this order). */
  contexts: AssembledContext[];
}

function needsOf(definition: AnyContextDefinition): string[] {
  return Object.keys(definition.needs as object);
}

function laterOf(definition: AnyContextDefinition): string[] {
  return Object.keys((definition.later ?? {}) as object);
}

function checkNames(definitions: readonly AnyContextDefinition[]): Map<string, AnyContextDefinition> {
  if (definitions.length > MAX_CONTEXTS) throw new ContextWiringError(`at most ${MAX_CONTEXTS} contexts`);
  const byName = new Map<string, AnyContextDefinition>();
  for (const definition of definitions) {
    if (!/^[a-z][A-Za-z0-9]{0,39}$/.test(definition.name))
      throw new ContextWiringError(`context name "${definition.name}" is not a short camelCase word`);
    if (RESERVED_NAMES.includes(definition.name))
      throw new ContextWiringError(`context name "${definition.name}" is reserved for the platform`);
    if (byName.has(definition.name))
      throw new ContextWiringError(`two contexts are named "${definition.name}"`);
    byName.set(definition.name, definition);
  }
  for (const definition of definitions) {
    for (const name of [...needsOf(definition), ...laterOf(definition)]) {
      if (!byName.has(name))
        throw new ContextWiringError(
          `context "${definition.name}" needs "${name}", which is not in the list of contexts`,
        );
    }
  }
  return byName;
}

/** The cycle through `start`, as names: ['orders', 'payments', 'orders']. */
function cycleFrom(start: string, byName: Map<string, AnyContextDefinition>, left: Set<string>): string[] {
  const path: string[] = [start];
  let current = start;
  for (;;) {
    const next = needsOf(byName.get(current)!).find((name) => left.has(name))!;
    const seen = path.indexOf(next);
    if (seen >= 0) return [...path.slice(seen), next];
    path.push(next);
    current = next;
  }
}

/**
 * The definitions in an order where each comes after what it `needs` (`later` needs do not
 * order). Stable: among contexts free to go, the list's order wins, so seeds and start-up run
 * in a predictable order.
 */
export function orderContexts(definitions: readonly AnyContextDefinition[]): AnyContextDefinition[] {
  const byName = checkNames(definitions);
  const ordered: AnyContextDefinition[] = [];
  const left = new Set(byName.keys());
  while (left.size > 0) {
    const ready = definitions.find(
      (definition) => left.has(definition.name) && needsOf(definition).every((name) => !left.has(name)),
    );
    if (ready === undefined) {
      // Every context left needs another one left: follow needs from any of them to a cycle.
      const cycle = cycleFrom(left.values().next().value!, byName, left);
      throw new ContextWiringError(`circular needs between contexts: ${cycle.join(' → ')}`);
    }
    ordered.push(ready);
    left.delete(ready.name);
  }
  return ordered;
}

/**
 * Creates every context in dependency order. A `later` getter answers once all are built; called
 * during `create` it throws (the need must then be a `needs`).
 */
export async function assembleContexts<Tables>(
  platform: Platform<Tables>,
  definitions: readonly AnyContextDefinition[],
): Promise<Assembly> {
  const ordered = orderContexts(definitions);
  const services: Record<string, unknown> = {};
  const contexts: AssembledContext[] = [];
  let assembled = false;
  for (const definition of ordered) {
    const needs = Object.fromEntries(needsOf(definition).map((name) => [name, services[name]]));
    const later = Object.fromEntries(
      laterOf(definition).map((name) => [
        name,
        () => {
          if (!assembled)
            throw new ContextWiringError(
              `context "${definition.name}" used "${name}" while contexts were still being built: declare it in needs`,
            );
          return services[name];
        },
      ]),
    );
    const contribution = (await definition.create(platform, needs, later)) as Contribution<unknown>;
    services[definition.name] = contribution.service;
    contexts.push({ name: definition.name, contribution });
  }
  assembled = true;
  return { services, contexts };
}

/** Every context's projections, for the runner (built before the contexts). */
export function projectionsOf(definitions: readonly AnyContextDefinition[]) {
  return definitions.flatMap((definition) => definition.projections ?? []);
}
