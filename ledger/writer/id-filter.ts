/**
 * A fixed-size Bloom filter of transfer ids, so that the writer can tell, without a query, that
 * an id it does not hold in memory was never accepted (the usual case: a new transfer). A "maybe"
 * costs a lookup in the snapshot index; a "no" is certain. Memory is fixed (8 MiB by default), so
 * the writer stays bounded; past its capacity the false-positive rate rises and more lookups
 * happen, but answers never change.
 */
export interface IdFilter {
  add(id: string): void;
  mightContain(id: string): boolean;
  readonly size: number;
}

export const DEFAULT_FILTER_BITS = 64 * 1024 * 1024; // 8 MiB: ~0.1 % false positives at 5 M ids
const HASHES = 7;

/** FNV-1a over UTF-16 code units with a seed. */
function fnv(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function createIdFilter(bits: number = DEFAULT_FILTER_BITS): IdFilter {
  if (!Number.isInteger(bits) || bits < 1024 || bits % 32 !== 0)
    throw new RangeError('filter bits must be a multiple of 32, >= 1024');
  const words = new Uint32Array(bits / 32);
  let size = 0;
  // Kirsch–Mitzenmacher: h_i = h1 + i·h2 gives k independent-enough positions from two hashes.
  const positions = (id: string, visit: (bit: number) => boolean): boolean => {
    const first = fnv(id, 0);
    const second = fnv(id, 0x9e3779b9) | 1;
    for (let round = 0; round < HASHES; round += 1) {
      const bit = (first + Math.imul(round, second)) >>> 0;
      if (!visit(bit % bits)) return false;
    }
    return true;
  };
  return {
    add(id) {
      positions(id, (bit) => {
        words[bit >>> 5]! |= 1 << (bit & 31);
        return true;
      });
      size += 1;
    },
    mightContain(id) {
      return positions(id, (bit) => (words[bit >>> 5]! & (1 << (bit & 31))) !== 0);
    },
    get size() {
      return size;
    },
  };
}
