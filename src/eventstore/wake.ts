/**
 * A wake-up signal shared by the subscriptions of one store: appends in this process and
 * notifications from others resolve every pending wait at once; a timeout bounds each wait
 * (the polling fallback).
 */
export interface WakeSignal {
  wait(timeoutMs: number, abort?: AbortSignal): Promise<'woken' | 'timeout' | 'aborted'>;
  wake(): void;
  readonly waiting: number;
}

export function createWakeSignal(): WakeSignal {
  let waiters: ((reason: 'woken') => void)[] = [];
  return {
    get waiting() {
      return waiters.length;
    },
    wake() {
      const current = waiters;
      waiters = [];
      for (const resolve of current) resolve('woken');
    },
    wait(timeoutMs, abort) {
      return new Promise((resolve) => {
        if (abort?.aborted === true) return resolve('aborted');
        let settled = false;
        const finish = (reason: 'woken' | 'timeout' | 'aborted') => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          abort?.removeEventListener('abort', onAbort);
          waiters = waiters.filter((waiter) => waiter !== finish);
          resolve(reason);
        };
        const onAbort = () => finish('aborted');
        const timer = setTimeout(() => finish('timeout'), timeoutMs);
        abort?.addEventListener('abort', onAbort, { once: true });
        waiters.push(finish);
      });
    },
  };
}

export const sleep = (ms: number, abort?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (abort?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      abort?.removeEventListener('abort', done);
      resolve();
    }
    abort?.addEventListener('abort', done, { once: true });
  });
