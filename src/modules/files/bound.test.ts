import { describe, expect, it } from 'vitest';
import { createWorkBound } from './bound.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('createWorkBound', () => {
  it('runs at most `concurrent` at once, queues `waiting` more in order, and refuses the rest', async () => {
    const bound = createWorkBound(2, 2, () => new Error('full'));
    const gates = Array.from({ length: 4 }, gate);
    const started: number[] = [];
    const runs = gates.map((item, index) =>
      bound(async () => {
        started.push(index);
        await item.opened;
        return index;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(bound.waiting()).toBe(2);
    await expect(bound(async () => 99)).rejects.toThrow('full');
    gates[1]!.open();
    await runs[1];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    for (const item of gates) item.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(bound.running()).toBe(0);
    expect(bound.waiting()).toBe(0);
  });

  it('frees the slot when the work throws', async () => {
    const bound = createWorkBound(1, 0, () => new Error('full'));
    await expect(bound(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(bound.running()).toBe(0);
    expect(await bound(async () => 'ok')).toBe('ok');
  });
});
