import { describe, expect, it } from 'vitest';
import { createMemoryBus, HISTORY_LENGTH } from './bus.js';

describe('in-process bus', () => {
  it('replays after an id and says when the log no longer reaches back', async () => {
    const bus = createMemoryBus();
    const message = { channel: 'order-updates', type: 'T', at: new Date().toISOString(), data: {} };
    await bus.publish([{ audiences: ['a'], message }]);
    const first = (await bus.history('a', '0-0')).messages[0]!;
    await bus.publish([
      { audiences: ['a'], message },
      { audiences: ['a'], message },
    ]);
    expect((await bus.history('a', first.id)).messages).toHaveLength(2);
    expect((await bus.history('a', first.id)).complete).toBe(true);
    await bus.publish(Array.from({ length: HISTORY_LENGTH }, () => ({ audiences: ['a'], message })));
    expect((await bus.history('a', first.id)).complete).toBe(false);
  });
});
