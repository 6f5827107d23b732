/**
 * How the writer's loop sleeps and is woken: `idle` parks it (until `kick`, or after `timeoutMs`
 * when given), `kick` resumes it if parked and does nothing otherwise. One sleeper at a time.
 */
export interface Waker {
  kick(): void;
  idle(timeoutMs: number | null): Promise<void>;
}

export function createWaker(): Waker {
  let wake: (() => void) | null = null;
  const kick = (): void => {
    const resume = wake;
    wake = null;
    resume?.();
  };
  return {
    kick,
    idle: (timeoutMs) =>
      new Promise((resolve) => {
        const timer = timeoutMs === null ? null : setTimeout(() => kick(), timeoutMs);
        wake = () => {
          if (timer !== null) clearTimeout(timer);
          resolve();
        };
      }),
  };
}
