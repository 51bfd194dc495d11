import { describe, expect, it } from 'vitest';
import { KeyedLock } from './keyed-lock.js';

describe('KeyedLock', () => {
  it('hands a key to one holder at a time, in the order asked', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    const first = await lock.acquire('k');
    const second = lock.acquire('k').then((release) => (order.push('second'), release));
    const third = lock.acquire('k').then((release) => (order.push('third'), release));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    first();
    (await second)();
    (await third)();
    expect(order).toEqual(['second', 'third']);
    expect(lock.busy('k')).toBe(false);
  });

  it('tryAcquire takes a free key at once and refuses a held one', () => {
    const lock = new KeyedLock();
    const release = lock.tryAcquire('k');
    expect(release).toBeTypeOf('function');
    expect(lock.tryAcquire('k')).toBeUndefined();
    expect(lock.tryAcquire('other')).toBeTypeOf('function');
    release!();
    release!();
    expect(lock.busy('k')).toBe(false);
  });

  it('run releases the key when the work fails', async () => {
    const lock = new KeyedLock();
    await expect(lock.run('k', async () => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await lock.run('k', async () => 7)).toBe(7);
  });
});
