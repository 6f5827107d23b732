/**
 * A bound on concurrent work with a bounded wait: at most `concurrent` run at once, at most
 * `waiting` more wait (first come, first served), and beyond that the work is refused at once
 * with the error `refuse` makes, rather than queued without limit.
 */
export function createWorkBound(concurrent: number, waiting: number, refuse: () => Error) {
  let running = 0;
  const queue: (() => void)[] = [];
  const bounded = async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= concurrent) {
      if (queue.length >= waiting) throw refuse();
      await new Promise<void>((resolve) => queue.push(resolve));
    } else running += 1;
    try {
      return await work();
    } finally {
      const next = queue.shift();
      // The slot passes to the next in line as is; with no one waiting, it is freed.
      if (next === undefined) running -= 1;
      else next();
    }
  };
  return Object.assign(bounded, { running: () => running, waiting: () => queue.length });
}
