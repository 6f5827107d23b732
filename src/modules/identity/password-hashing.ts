import argon2 from 'argon2';
import { availableParallelism } from 'node:os';
import { isDomainError } from '../../shared/errors.js';
import { identityErrors } from './errors.js';

/** Spec §3.2: Argon2id, 64 MiB, time 3, parallelism 4 (argon2 generates a 16-byte salt). */
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 65_536,
  timeCost: 3,
  parallelism: 4,
} as const;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Verifies against a hash of nothing, so an unknown account costs what a known one costs. */
  verifyDummy(password: string): Promise<false>;
  needsRehash(hash: string): boolean;
}

export interface HasherLimits {
  /** Concurrent hashes (each holds 64 MiB): the core count by default. */
  maxConcurrent?: number;
  /** Waiting hashes beyond which a login is refused with 503 instead of queueing forever. */
  maxQueued?: number;
}

/** A counting semaphore with a bounded queue. */
function createGate(maxConcurrent: number, maxQueued: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function run<T>(work: () => Promise<T>): Promise<T> {
    if (running >= maxConcurrent) {
      if (waiting.length >= maxQueued) {
        throw identityErrors.of('unavailable', 'overloaded', 'Too many sign-ins at once; retry shortly.', {
          retryAfterSeconds: 2,
        });
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else {
      running += 1;
    }
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next === undefined) running -= 1;
      else next(); // hand the slot over without releasing it
    }
  };
}

export function createPasswordHasher(limits: HasherLimits = {}): PasswordHasher {
  const gate = createGate(limits.maxConcurrent ?? availableParallelism(), limits.maxQueued ?? 200);
  // Computed at start, so the first unknown-account login costs no more than later ones.
  const dummyHash = argon2.hash(`dummy-${Math.random()}`, ARGON2_OPTIONS);
  dummyHash.catch(() => undefined);
  async function verify(hash: string, password: string): Promise<boolean> {
    try {
      return await gate(() => argon2.verify(hash, password));
    } catch (error) {
      if (isDomainError(error)) throw error; // the gate's overload refusal, not a bad hash
      return false; // a malformed stored hash never admits anyone
    }
  }
  return {
    hash: (password) => gate(() => argon2.hash(password, ARGON2_OPTIONS)),
    verify,
    async verifyDummy(password) {
      await verify(await dummyHash, password);
      return false;
    },
    needsRehash: (hash) => argon2.needsRehash(hash, ARGON2_OPTIONS),
  };
}
