/**
 * A/B experiments (issue #24), the pure part: which variant a person sees, and what the figures
 * say. The service (experiments.ts) stores experiments and exposures; these functions decide.
 */
import { createHash } from 'node:crypto';

export const EXPERIMENT_KEY = /^[a-z][a-z0-9-]{1,47}$/;
export const VARIANT_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
export const VARIANTS_MIN = 2;
export const VARIANTS_MAX = 5;
export const WEIGHT_MAX = 10_000;
/** A conversion is an order placed within this long after the person's last exposure. */
export const SESSION_MINUTES = 30;

export interface Variant {
  name: string;
  weight: number;
}

/** Why a list of variants is refused, or null when it is fine. */
export function variantsProblem(variants: readonly Variant[], allowed?: readonly string[]): string | null {
  if (variants.length < VARIANTS_MIN || variants.length > VARIANTS_MAX)
    return `An experiment has ${VARIANTS_MIN} to ${VARIANTS_MAX} variants.`;
  const names = new Set<string>();
  for (const { name, weight } of variants) {
    if (!VARIANT_NAME.test(name)) return `Variant name "${name}" must match ${VARIANT_NAME.source}.`;
    if (names.has(name)) return `Variant "${name}" is named twice.`;
    names.add(name);
    if (!Number.isInteger(weight) || weight < 1 || weight > WEIGHT_MAX)
      return `Variant "${name}" needs an integer weight from 1 to ${WEIGHT_MAX}.`;
    if (allowed !== undefined && !allowed.includes(name))
      return `Variant "${name}" is not one this experiment can serve (${allowed.join(', ')}).`;
  }
  return null;
}

/**
 * The variant of `subject` in `experiment`: a SHA-256 of both, read as a number below the total
 * weight. The same person always gets the same variant (no state needed to keep it), people are
 * spread in proportion to the weights, and two experiments assign independently.
 */
export function assignVariant(experiment: string, subject: string, variants: readonly Variant[]): string {
  const total = variants.reduce((sum, variant) => sum + variant.weight, 0);
  if (variants.length === 0 || total <= 0) throw new RangeError('an experiment needs weighted variants');
  const digest = createHash('sha256').update(`${experiment}\u0000${subject}`).digest();
  // 48 bits: the modulo bias below a total weight of 5 × 10 000 is under 2⁻³².
  const point = digest.readUIntBE(0, 6) % total;
  let reached = 0;
  for (const variant of variants) {
    reached += variant.weight;
    if (point < reached) return variant.name;
  }
  return variants[variants.length - 1]!.name;
}

export interface Interval {
  low: number;
  high: number;
}

const Z95 = 1.959963984540054;

/** The Wilson score interval (95 %) of a proportion: sound for small counts and for 0 or n. */
export function wilson(successes: number, trials: number, z = Z95): Interval | null {
  if (trials <= 0) return null;
  const p = successes / trials;
  const z2 = z * z;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  // The interval always holds p; rounding can leave its bound a few 1e-17 past it (0 of 3 gave a
  // low of 5.6e-17 above a rate of 0), so the bounds are held to p and to [0, 1].
  return { low: Math.max(0, Math.min(p, centre - half)), high: Math.min(1, Math.max(p, centre + half)) };
}

/**
 * The difference of two proportions (variant minus control) with its 95 % interval (Newcombe's
 * method 10, from the two Wilson intervals): the interval excluding 0 says the variant differs.
 */
export function difference(
  variant: { conversions: number; exposed: number },
  control: { conversions: number; exposed: number },
): { estimate: number; interval: Interval } | null {
  const a = wilson(variant.conversions, variant.exposed);
  const b = wilson(control.conversions, control.exposed);
  if (a === null || b === null) return null;
  const p1 = variant.conversions / variant.exposed;
  const p2 = control.conversions / control.exposed;
  const estimate = p1 - p2;
  return {
    estimate,
    interval: {
      low: estimate - Math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2),
      high: estimate + Math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2),
    },
  };
}
