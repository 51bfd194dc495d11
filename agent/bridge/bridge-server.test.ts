import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { startBridgeServer, type BridgeServer } from './bridge-server.js';
import { MemoryBridgeHandler } from './memory-handler.js';
import { RawClient } from './test-fixtures/raw-client.js';

let dir: string;
let server: BridgeServer;
let handler: MemoryBridgeHandler;
const clients: RawClient[] = [];

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(server.socketPath);
  clients.push(c);
  return c;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nsml-bridge-'));
  handler = new MemoryBridgeHandler('alice/mnist/3', join(dir, 'loads'));
  await mkdir(join(dir, 'ckpt'));
  server = await startBridgeServer({
    socketPath: join(dir, 's.sock'), session: 'alice/mnist/3', handler, checkpointDir: join(dir, 'ckpt'),
    logger: silentLogger, helloTimeoutMs: 2000,
  });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close(100);
  await rm(dir, { recursive: true, force: true });
});

describe('bridge server', () => {
  it('welcomes a hello and hands metrics to the handler', async () => {
    const c = await client();
    expect(await c.hello(2)).toMatchObject({ type: 'welcome', v: 1, session: 'alice/mnist/3', max_line_bytes: 4194304 });
    c.send({ type: 'metrics', records: [{ ts_ms: 1, step: 0, values: { loss: 1 } }, { ts_ms: 2, step: 1, values: { loss: 'NaN' } }], dropped: 2 });
    c.send({ type: 'bye', id: 1 });
    await c.next((m) => (m as { id?: number }).id === 1);
    expect(handler.records().map((r) => r.step)).toEqual([0, 1]);
    expect(handler.records()[1]!.values.loss).toBeNaN();
    expect(handler.batches[0]!.peer.rank).toBe(2);
    expect(server.getStatus()).toMatchObject({ records: 2, batches: 1, droppedBySdk: 2, ready: 1 });
  });

  it.each([
    ['garbage', 'this is not json\n', /not JSON/],
    ['a message before hello', JSON.stringify({ type: 'bye', id: 1 }) + '\n', /expected hello first/],
    ['an unknown type', null, /unknown message type "boom"/],
    ['a second hello', null, /hello sent twice/],
    ['an unsupported version', JSON.stringify({ type: 'hello', v: 99, sdk: 'x', pid: 1, rank: 0 }) + '\n', /version 99 is not supported/],
  ])('closes only the connection that sends %s, with the reason', async (name, line, reason) => {
    const bystander = await client();
    await bystander.hello();
    const bad = await client();
    if (line === null) {
      await bad.hello();
      bad.send(name === 'a second hello' ? { type: 'hello', v: 1, sdk: 'x', pid: 1, rank: 0 } : { type: 'boom' });
    } else {
      bad.send(line);
    }
    const error = (await bad.next((m) => (m as { type?: string }).type === 'error')) as { message: string };
    expect(error.message).toMatch(reason);
    await bad.untilClosed();
    bystander.send({ type: 'metrics', records: [{ ts_ms: 1, step: 7, values: { a: 1 } }] });
    bystander.send({ type: 'bye', id: 9 });
    await bystander.next((m) => (m as { id?: number }).id === 9);
    expect(handler.records().map((r) => r.step)).toEqual([7]);
    expect(server.getStatus().refused).toBe(1);
  });

  it('closes a connection whose line exceeds the limit', async () => {
    const small = await startBridgeServer({ socketPath: join(dir, 'small.sock'), session: 'a/scratch/1', handler, logger: silentLogger, maxLineBytes: 1000 });
    try {
      const c = await RawClient.connect(small.socketPath);
      clients.push(c);
      c.send('x'.repeat(2000));
      const error = (await c.next((m) => (m as { type?: string }).type === 'error')) as { code: string };
      expect(error.code).toBe('NSML_E_TOO_LARGE');
      await c.untilClosed();
    } finally {
      await small.close(100);
    }
  });

  it('lets a new connection in at the limit: the one idle longest goes, never one waiting for a reply', async () => {
    const full = await startBridgeServer({ socketPath: join(dir, 'full.sock'), session: 'a/scratch/1', handler, logger: silentLogger, maxConnections: 4 });
    try {
      const idle: RawClient[] = [];
      for (let i = 0; i < 4; i += 1) {
        const c = await RawClient.connect(full.socketPath);
        clients.push(c);
        await c.hello();
        idle.push(c);
      }
      await new Promise((r) => setTimeout(r, 5));
      // Active again, and answered (so the server has surely read it: a fixed sleep lost this race on
      // a loaded machine): now idle[1] is the idlest.
      idle[0]!.send({ type: 'load', id: 9, name: 'nothing-saved', session: null });
      await idle[0]!.next((m) => (m as { id?: number }).id === 9);
      const script = await RawClient.connect(full.socketPath);
      clients.push(script);
      expect(await script.hello()).toMatchObject({ type: 'welcome' });
      await idle[1]!.untilClosed();
      const error = idle[1]!.lines.find((m) => (m as { type?: string }).type === 'error') as { code: string; message: string };
      expect(error).toMatchObject({ code: 'NSML_E_TOO_LARGE' });
      expect(error.message).toMatch(/idle longest/);
      script.send({ type: 'bye', id: 5 });
      expect(await script.next((m) => (m as { id?: number }).id === 5)).toMatchObject({ ok: true });
      expect(full.getStatus().refused).toBe(1);
    } finally {
      await full.close(100);
    }
  });

  it('closes a connection that never says hello', async () => {
    const c = await client();
    await c.untilClosed();
    expect((c.lines[0] as { message: string }).message).toMatch(/no hello within 2000 ms/);
  });

  it('queues commands until a script connects, then sends them to the first connection', async () => {
    expect(server.sendCommand({ id: 'c-1', name: 'set', args: { values: { lr: '0.1' } } })).toBe(false);
    expect(server.getStatus().queuedCommands).toBe(1);
    const first = await client();
    await first.hello();
    expect(await first.next((m) => (m as { type?: string }).type === 'command')).toEqual({ type: 'command', id: 'c-1', name: 'set', args: { values: { lr: '0.1' } } });
    const second = await client();
    await second.hello();
    expect(server.sendCommand({ id: 'c-2', name: 'stop', args: {} })).toBe(true);
    await first.next((m) => (m as { id?: string }).id === 'c-2');
    first.send({ type: 'result', id: 'c-2', ok: true, step: 3, value: { stopping: true } });
    await handler.until(() => handler.results.length === 1);
    expect(handler.results[0]!.result).toEqual({ id: 'c-2', ok: true, step: 3, value: { stopping: true } });
    expect(second.lines.some((m) => (m as { type?: string }).type === 'command')).toBe(false);
  });

  it('refuses a malformed command from the agent side', () => {
    expect(() => server.sendCommand({ id: '', name: 'stop', args: {} })).toThrow(/command id/);
  });

  it('saves a directory inside the checkpoint dir and answers with the upload figures', async () => {
    const c = await client();
    await c.hello();
    const save = join(dir, 'ckpt', '.nsml', 'save-1');
    await mkdir(join(save, 'model'), { recursive: true });
    await writeFile(join(save, 'model', 'w.bin'), 'weights');
    c.send({ type: 'save', id: 4, name: '1', dir: save, summary: { acc: 0.5 } });
    const first = await c.next((m) => (m as { id?: number }).id === 4);
    expect(first).toMatchObject({ ok: true, result: { name: '1', files: 1, bytes: 7, uploaded_bytes: 7 } });
    c.send({ type: 'save', id: 5, name: '2', dir: save });
    expect(await c.next((m) => (m as { id?: number }).id === 5)).toMatchObject({ ok: true, result: { uploaded_bytes: 0 } });
    expect(handler.checkpoints.get('alice/mnist/3/1')).toMatchObject({ summary: { acc: 0.5 }, entries: [{ path: 'model/w.bin', size: 7 }] });
  });

  it('refuses to save a directory outside the checkpoint dir', async () => {
    const c = await client();
    await c.hello();
    c.send({ type: 'save', id: 4, name: '1', dir });
    expect(await c.next((m) => (m as { id?: number }).id === 4)).toMatchObject({ ok: false, error: { code: 'NSML_E_PERMISSION_DENIED' } });
    expect(handler.checkpoints.size).toBe(0);
  });

  it('answers a load of a missing checkpoint with the ones that exist', async () => {
    const c = await client();
    await c.hello();
    const save = join(dir, 'ckpt', 'x');
    await mkdir(save);
    c.send({ type: 'save', id: 1, name: 'best', dir: save });
    await c.next((m) => (m as { id?: number }).id === 1);
    c.send({ type: 'load', id: 2, name: 'worst' });
    const reply = (await c.next((m) => (m as { id?: number }).id === 2)) as { ok: boolean; error: { code: string; message: string; details: { existing: string[] } } };
    expect(reply.ok).toBe(false);
    expect(reply.error.code).toBe('NSML_E_NOT_FOUND');
    expect(reply.error.details.existing).toEqual(['best']);
    expect(reply.error.message).toMatch(/existing: best/);
  });

  it('replaces a stale socket file and refuses a path that is not a socket', async () => {
    const path = server.socketPath;
    server.destroy();
    server = await startBridgeServer({ socketPath: path, session: 'a/scratch/1', handler, logger: silentLogger });
    expect(server.getStatus().state).toBe('listening');
    await writeFile(join(dir, 'file'), 'x');
    await expect(startBridgeServer({ socketPath: join(dir, 'file'), session: 'a/scratch/1', handler, logger: silentLogger })).rejects.toThrow(/not a socket/);
  });
});
