/**
 * Coalescing of the position-ingest path (issue #20 benchmark): calls made while the event loop
 * handles one round of I/O (many drivers' fixes arriving together) are run as one call with every
 * input, once that round is over (`setImmediate`). One SQL statement or one Redis round trip then
 * serves a whole batch of fixes instead of one each. A lone call waits one turn of the loop, no
 * timer. `run` answers one output per input, in order; a failure of `run` fails every call of the
 * batch (as each would have failed on its own).
 */
export function batchPerTick<I, O>(
  run: (inputs: readonly I[]) => Promise<readonly O[]>,
  maxBatch = 500,
): (input: I) => Promise<O> {
  let pending: { input: I; resolve(value: O): void; reject(error: unknown): void }[] = [];
  let scheduled = false;

  function flush() {
    scheduled = false;
    while (pending.length > 0) {
      const batch = pending.slice(0, maxBatch);
      pending = pending.slice(batch.length);
      run(batch.map((entry) => entry.input)).then(
        (outputs) => {
          batch.forEach((entry, index) => {
            if (index < outputs.length) entry.resolve(outputs[index]!);
            else entry.reject(new Error('a batched call answered fewer outputs than inputs'));
          });
        },
        (error: unknown) => {
          for (const entry of batch) entry.reject(error);
        },
      );
    }
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ input, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
