import { describe, expect, it } from 'vitest';
import { createMemoryBus, HISTORY_LENGTH, PRESENCE_MAX } from './bus.js';

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

describe('presence on the in-process bus', () => {
  it('an audience is heard while one listener is subscribed, and listed by its prefix', async () => {
    const bus = createMemoryBus();
    expect(await bus.listening(['agent:a', 'agent:b'])).toEqual([false, false]);
    const stop = await bus.subscribe('agent:a', () => undefined);
    await bus.subscribe('user:c', () => undefined);
    expect(await bus.listening(['agent:a', 'agent:b'])).toEqual([true, false]);
    expect(await bus.listeningWith('agent:', 10)).toEqual(['agent:a']);
    await stop();
    expect(await bus.listening(['agent:a'])).toEqual([false]);
    expect(await bus.listeningWith('agent:', 10)).toEqual([]);
    await expect(
      bus.listening(Array.from({ length: PRESENCE_MAX + 1 }, (_, index) => `a${index}`)),
    ).rejects.toThrow();
  });
});
