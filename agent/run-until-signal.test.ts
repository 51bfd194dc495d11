import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/log.js';
import { runAgentUntilSignal } from './run-until-signal.js';
import { FakeCoordinator } from './testing/fake-coordinator.js';
import { RunnerFixture } from './testing/runner-fixture.js';

describe('runAgentUntilSignal', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('runs until the signal, then closes gracefully and resolves 0', async () => {
    const f = new RunnerFixture();
    cleanups.push(() => f.cleanup());
    const coord = await FakeCoordinator.start();
    cleanups.push(() => coord.stop());
    const done = runAgentUntilSignal({
      coordinator: coord.address, dataDir: join(f.dir, 'agent'), blobSource: f.source, logger: silentLogger,
      gpuProbe: { read: async () => ({ gpus: [] }), close: () => {} },
    }, ['SIGUSR2']);
    await coord.waitFor(() => coord.messages('register').length === 1, 'register');
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(await done).toBe(0);
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
