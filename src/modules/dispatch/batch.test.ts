import { describe, expect, it } from 'vitest';
import { batchPerTick } from './batch.js';

describe('batchPerTick', () => {
  it('runs the calls of one turn of the event loop as one batch, in order, and later calls as another', async () => {
    const batches: number[][] = [];
    const double = batchPerTick(async (inputs: readonly number[]) => {
      batches.push([...inputs]);
      return inputs.map((input) => input * 2);
    });
    expect(await Promise.all([double(1), double(2), double(3)])).toEqual([2, 4, 6]);
    expect(await double(4)).toBe(8);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('splits a large batch at its maximum', async () => {
    const sizes: number[] = [];
    const echo = batchPerTick(async (inputs: readonly number[]) => {
      sizes.push(inputs.length);
      return inputs;
    }, 4);
    const inputs = Array.from({ length: 10 }, (_, index) => index);
    expect(await Promise.all(inputs.map((input) => echo(input)))).toEqual(inputs);
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('fails every call of a batch whose run fails, and the next batch runs anew', async () => {
    let fail = true;
    const flaky = batchPerTick(async (inputs: readonly string[]) => {
      if (fail) throw new Error('database down');
      return inputs.map((input) => input.toUpperCase());
    });
    const results = await Promise.allSettled([flaky('a'), flaky('b')]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await flaky('c')).toBe('C');
  });

  it('refuses an answer shorter than the batch instead of leaving a call hanging', async () => {
    const short = batchPerTick(async (inputs: readonly number[]) => inputs.slice(1));
    const results = await Promise.allSettled([short(1), short(2)]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 2 });
    expect(results[1]!.status).toBe('rejected');
  });
});
