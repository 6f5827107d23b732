/**
 * Upcasters turn an event stored at an older `schemaVersion` into the current shape, on every read
 * path (readStream, readAll, subscriptions), so deciders and projections see one shape per type.
 * Stored bytes never change: an upcaster is a pure function of the stored data.
 */
export type Upcaster = (data: unknown, metadata: Readonly<Record<string, unknown>>) => unknown;

export interface UpcasterRegistry {
  /** Registers the step from `fromVersion` to `fromVersion + 1` for `type`. */
  register(type: string, fromVersion: number, upcast: Upcaster): UpcasterRegistry;
  /** Applies every step from the stored version; returns the data and the version reached. */
  upcast(
    type: string,
    storedVersion: number,
    data: unknown,
    metadata: Readonly<Record<string, unknown>>,
  ): { data: unknown; schemaVersion: number };
}

/** A chain longer than this is a registration bug (TIGER_STYLE: every loop bounded). */
const MAX_STEPS = 100;

export function createUpcasterRegistry(): UpcasterRegistry {
  const steps = new Map<string, Map<number, Upcaster>>();
  const registry: UpcasterRegistry = {
    register(type, fromVersion, upcast) {
      if (!Number.isInteger(fromVersion) || fromVersion < 1) {
        throw new RangeError(`upcaster for ${type}: fromVersion must be an integer >= 1`);
      }
      const byVersion = steps.get(type) ?? new Map<number, Upcaster>();
      if (byVersion.has(fromVersion))
        throw new Error(`upcaster for ${type} v${fromVersion} registered twice`);
      byVersion.set(fromVersion, upcast);
      steps.set(type, byVersion);
      return registry;
    },
    upcast(type, storedVersion, data, metadata) {
      const byVersion = steps.get(type);
      if (byVersion === undefined) return { data, schemaVersion: storedVersion };
      let version = storedVersion;
      let current = data;
      for (let step = 0; step < MAX_STEPS; step += 1) {
        const next = byVersion.get(version);
        if (next === undefined) return { data: current, schemaVersion: version };
        current = next(current, metadata);
        version += 1;
      }
      throw new Error(`upcaster chain for ${type} exceeds ${MAX_STEPS} steps`);
    },
  };
  return registry;
}
