import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { startCheckpointWatcher, type CheckpointWatcher, type WatcherEvent } from './checkpoint-watcher.js';
import { MemoryBridgeHandler } from './memory-handler.js';

let dir: string;
let handler: MemoryBridgeHandler;
let watcher: CheckpointWatcher | undefined;
const events: WatcherEvent[] = [];

async function start(registerExisting = false): Promise<CheckpointWatcher> {
  watcher = await startCheckpointWatcher(
    { dir: join(dir, 'ckpt'), register: (r) => handler.saveCheckpoint(r), logger: silentLogger, stableMs: 150, registerExisting },
    (e) => events.push(e),
  );
  return watcher;
}

async function until(predicate: () => boolean): Promise<void> {
  await handler.until(predicate, 20_000);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nsml-watch-'));
  await mkdir(join(dir, 'ckpt'));
  handler = new MemoryBridgeHandler('alice/mnist/3', join(dir, 'loads'));
  events.length = 0;
});

afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('checkpoint watcher', () => {
  it('registers a finished file as a checkpoint whose model is that file', async () => {
    await start();
    await writeFile(join(dir, 'ckpt', 'epoch=1.ckpt'), 'abc');
    await until(() => handler.checkpoints.has('alice/mnist/3/epoch=1.ckpt'));
    expect(handler.checkpoints.get('alice/mnist/3/epoch=1.ckpt')).toMatchObject({ source: 'watcher', entries: [{ path: 'model', size: 3 }] });
  });

  it('registers a subdirectory once it is quiet, with its files under model/', async () => {
    await start();
    const sub = join(dir, 'ckpt', 'checkpoint-500');
    await mkdir(join(sub, 'optim'), { recursive: true });
    await writeFile(join(sub, 'weights.bin'), 'w');
    await writeFile(join(sub, 'optim', 'state.bin'), 'os');
    await until(() => handler.checkpoints.has('alice/mnist/3/checkpoint-500'));
    await watcher!.idle();
    const entries = handler.checkpoints.get('alice/mnist/3/checkpoint-500')!.entries.map((e) => e.path).sort();
    expect(entries).toEqual(['model/optim/state.bin', 'model/weights.bin']);
  });

  it('ignores names starting with a dot, such as the SDK staging directory', async () => {
    await start();
    await mkdir(join(dir, 'ckpt', '.nsml', 'save-1'), { recursive: true });
    await writeFile(join(dir, 'ckpt', '.nsml', 'save-1', 'model'), 'x');
    await writeFile(join(dir, 'ckpt', '.tmp-write'), 'x');
    await writeFile(join(dir, 'ckpt', 'visible'), 'v');
    await until(() => handler.checkpoints.has('alice/mnist/3/visible'));
    await watcher!.idle();
    expect([...handler.checkpoints.keys()]).toEqual(['alice/mnist/3/visible']);
  });

  it('registers a rewritten file again and what existed at start when asked', async () => {
    await writeFile(join(dir, 'ckpt', 'old'), 'o');
    await start(true);
    await until(() => handler.checkpoints.has('alice/mnist/3/old'));
    await writeFile(join(dir, 'ckpt', 'old'), 'longer');
    await until(() => handler.checkpoints.get('alice/mnist/3/old')!.entries[0]!.size === 6);
    expect(events.filter((e) => e.type === 'registered').length).toBe(2);
  });

  it('reports a registration that fails and keeps watching', async () => {
    let fail = true;
    watcher = await startCheckpointWatcher({
      dir: join(dir, 'ckpt'), logger: silentLogger, stableMs: 150,
      register: async (r) => {
        if (fail) throw new Error('blob service down');
        return handler.saveCheckpoint(r);
      },
    }, (e) => events.push(e));
    await writeFile(join(dir, 'ckpt', 'a'), 'a');
    await until(() => events.some((e) => e.type === 'failed'));
    expect(events[0]).toEqual({ type: 'failed', name: 'a', error: 'blob service down' });
    fail = false;
    await writeFile(join(dir, 'ckpt', 'b'), 'b');
    await until(() => handler.checkpoints.has('alice/mnist/3/b'));
    expect(watcher.getStatus()).toMatchObject({ failed: 1, registered: 1 });
  });
});
