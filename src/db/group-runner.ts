/**
 * Group commit for independent statements of the same kind. A call that finds a free slot
 * (fewer than `maxInFlight` running) goes out at once, alone; calls that arrive while every slot
 * is busy wait and leave together as one `runMany` (one round trip, one commit). Each caller gets
 * its own result. If `runMany` fails as a whole, every item of it runs alone, so one bad item
 * cannot fail the others.
 *
 * On a 2-core machine each statement's socket write and wake-up of the server costs about as
 * much CPU as the statement itself; under load this turns N statements into a handful.
 */
export interface GroupRunnerOptions<I, O> {
  runOne(item: I): Promise<O>;
  /** Results in the order of `items`. */
  runMany(items: I[]): Promise<O[]>;
  maxInFlight?: number;
  maxBatch?: number;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export interface GroupRunner<I, O> {
  run(item: I): Promise<O>;
  /** Items waiting for a slot. */
  waiting(): number;
}

export function createGroupRunner<I, O>(options: GroupRunnerOptions<I, O>): GroupRunner<I, O> {
  const maxInFlight = options.maxInFlight ?? 2;
  const maxBatch = options.maxBatch ?? 128;
  let inFlight = 0;
  const queue: Waiting<I, O>[] = [];

  async function runBatch(batch: Waiting<I, O>[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Waiting<I, O>];
      await options.runOne(only.item).then(only.resolve, only.reject);
      return;
    }
    let results: O[];
    try {
      results = await options.runMany(batch.map((waiting) => waiting.item));
      if (results.length !== batch.length)
        throw new Error(`a group of ${batch.length} returned ${results.length} results`);
    } catch {
      await Promise.all(
        batch.map((waiting) => options.runOne(waiting.item).then(waiting.resolve, waiting.reject)),
      );
      return;
    }
    batch.forEach((waiting, index) => waiting.resolve(results[index]!));
  }

  function pump(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      inFlight += 1;
      void runBatch(batch).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  }

  return {
    run(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      });
    },
    waiting: () => queue.length,
  };
}
