/**
 * A wake-up signal shared by the subscriptions of one store: appends in this process and
 * notifications from others resolve every pending wait at once; a timeout bounds each wait
 * (the polling fallback). `version` counts wake-ups, so a subscription that was busy reading
 * when one came does not wait for the next: nothing is lost between a read and a wait.
 */
export interface WakeSignal {
  /** Resolves at once when a wake-up came after `sinceVersion`. */
  wait(
    timeoutMs: number,
    abort?: AbortSignal,
    sinceVersion?: number,
  ): Promise<'woken' | 'timeout' | 'aborted'>;
  wake(): void;
  readonly version: number;
}

export function createWakeSignal(): WakeSignal {
  let waiters: ((reason: 'woken') => void)[] = [];
  let version = 0;
  return {
    get version() {
      return version;
    },
    wake() {
      version += 1;
      const current = waiters;
      waiters = [];
      for (const resolve of current) resolve('woken');
    },
    wait(timeoutMs, abort, sinceVersion) {
      return new Promise((resolve) => {
        if (abort?.aborted === true) return resolve('aborted');
        if (sinceVersion !== undefined && sinceVersion !== version) return resolve('woken');
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
