import { describe, expect, it } from 'vitest';
import { MAGIC_NUMBERS, magicBehaviour, webhookCopies } from './magic.js';
import { createBoundedMap } from './server.js';

describe('magic numbers', () => {
  it.each([
    ['+237670000001', 'campay', 'fail'],
    ['237690000002', 'mtn_momo', 'pending_forever'],
    ['670000003', 'campay', 'webhook_twice'],
    ['+237690000004', 'campay', 'no_webhook'],
    ['+237670000005', 'campay', 'unavailable'],
    ['+237670000005', 'mtn_momo', 'succeed'],
    ['+237670000006', 'campay', 'timeout'],
    ['+237670000006', 'mtn_momo', 'succeed'],
    ['+237670000007', 'mtn_momo', 'server_error'],
    ['+237677123456', 'campay', 'succeed'],
  ] as const)('%s on %s: %s', (phone, simulator, behaviour) => {
    expect(magicBehaviour(phone, simulator)).toBe(behaviour);
  });

  it('the documented examples mean what their names say', () => {
    expect(magicBehaviour(MAGIC_NUMBERS.ORANGE.noWebhook, 'campay')).toBe('no_webhook');
    expect(magicBehaviour(MAGIC_NUMBERS.MTN.succeed, 'mtn_momo')).toBe('succeed');
  });

  it('sends two webhooks for 0003, none for 0004, one otherwise', () => {
    expect([webhookCopies('webhook_twice'), webhookCopies('no_webhook'), webhookCopies('fail')]).toEqual([
      2, 0, 1,
    ]);
  });
});

describe('bounded map', () => {
  it('forgets the oldest entry past its size, and overwrites without evicting', () => {
    const map = createBoundedMap<number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('b', 3);
    expect([...map.keys()]).toEqual(['a', 'b']);
    map.set('c', 4);
    expect([...map.entries()]).toEqual([
      ['b', 3],
      ['c', 4],
    ]);
  });
});
