import type { Redis } from 'ioredis';

/**
 * Closes an ioredis connection after the commands already sent have their replies.
 *
 * `disconnect()` drops the socket at once and rejects every command still in flight with
 * "Connection is closed."; work started just before shutdown (a BullMQ queue or worker still
 * initialising, a cache write) then fails as an unhandled rejection. `QUIT` is answered after the
 * replies before it, so those commands finish; the timeout still bounds shutdown when Redis does
 * not answer, and `disconnect()` ends whatever is left. 5 s (was 2 s): a loaded CI run
 * (session 12) ended with ten unhandled "Connection is closed." rejections from a test app's
 * shutdown, which is what a `QUIT` answered later than the bound would give; the cause is not
 * proven, the longer bound only makes it less likely.
 */
export async function closeRedis(redis: Redis, timeoutMs = 5_000): Promise<void> {
  if (redis.status === 'end' || redis.status === 'close' || redis.status === 'reconnecting') {
    // Not connected (Redis is down, or the connection is gone): nothing in flight can be answered.
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([
      redis.quit().then(
        () => undefined,
        () => undefined,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}
