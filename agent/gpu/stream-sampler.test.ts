import { afterEach, describe, expect, test, vi } from 'vitest';
import type { UsageRecord } from './records.js';
import { createFakeStreamSpawner } from './smi-stream-fake.js';
import { createStreamSampler } from './stream-sampler.js';
import { Backoff, type SamplerEvent } from './usage-sampler.js';

afterEach(() => {
  vi.useRealTimers();
});

function setup(stallMs = 1000) {
  vi.useFakeTimers();
  const spawner = createFakeStreamSpawner();
  const rows: UsageRecord[] = [];
  const events: SamplerEvent[] = [];
  let now = 0;
  const sampler = createStreamSampler(spawner, {
    intervalMs: 100,
    timeoutMs: 500,
    stallMs,
    now: () => now,
    onRecords: (records) => rows.push(...records),
    onEvent: (e) => events.push(e),
  });
  const advance = async (ms: number) => {
    now += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };
  return { spawner, rows, events, sampler, advance };
}

describe('stream sampler', () => {
  test('parses each row as it arrives; noise lines are kept for the failure message', async () => {
    const { spawner, rows, events, sampler } = setup();
    sampler.start();
    const stream = spawner.streams[0]!;
    expect(stream.args.slice(-2)).toEqual(['-lms', '100']);
    stream.print('0, GPU-a, 12, 100, 81559, 40, 90.5', '1, GPU-b, [N/A], 200, 81559, 41, [N/A]');
    expect(rows.map((r) => [r.index, r.utilizationPct, r.powerW])).toEqual([[0, 12, 90.5], [1, undefined, undefined]]);
    stream.print('Unable to determine the device handle for GPU 0000:02:00.0: GPU is lost. Reboot the system to recover this GPU');
    stream.exit(15);
    expect(events[0]).toMatchObject({ type: 'failed', kind: 'gpu-handle' });
    expect(sampler.getStatus()).toMatchObject({ state: 'backoff', rows: 2, failures: 1 });
    sampler.close();
  });

  test('restarts with growing backoff, reset by a good row', async () => {
    const { spawner, sampler, advance } = setup();
    sampler.start();
    spawner.streams[0]!.exit(255);
    await advance(999);
    expect(spawner.streams).toHaveLength(1);
    await advance(1);
    expect(spawner.streams).toHaveLength(2);
    spawner.streams[1]!.exit(255);
    await advance(2000);
    expect(spawner.streams).toHaveLength(3);
    spawner.streams[2]!.print('0, GPU-a, 1, 1, 1, 1, 1');
    spawner.streams[2]!.exit(255);
    await advance(1000);
    expect(spawner.streams).toHaveLength(4);
    expect(sampler.getStatus().restarts).toBe(3);
    sampler.close();
  });

  test('a rejected field is dropped and the query restarted at once', async () => {
    const { spawner, events, sampler, advance } = setup();
    sampler.start();
    spawner.streams[0]!.print('Field "power.draw" is not a valid field to query.', '');
    spawner.streams[0]!.exit(2);
    await advance(0);
    expect(events).toContainEqual({ type: 'field-dropped', field: 'power.draw' });
    expect(spawner.streams[1]!.args[0]).toBe('--query-gpu=index,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu');
    sampler.close();
  });

  test('silence past stallMs kills it; the restart waits for the exit', async () => {
    const { spawner, events, sampler, advance } = setup(300);
    sampler.start();
    await advance(400);
    expect(spawner.streams[0]!.killed).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['stalled', 'failed']);
    expect((events[1] as { message: string }).message).toMatch(/printed nothing for \d+ ms \(limit 300 ms\) and was killed/);
    await advance(1000);
    expect(spawner.streams).toHaveLength(2);
    sampler.close();
    expect(spawner.streams[1]!.killed).toBe(true);
  });

  test('Backoff doubles up to its cap', () => {
    const backoff = new Backoff(100, 500);
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 400, 500]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
