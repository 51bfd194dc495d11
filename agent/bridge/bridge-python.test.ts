import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { startBridgeServer, type BridgeServer } from './bridge-server.js';
import { listCheckpointFiles } from './checkpoint-files.js';
import { MemoryBridgeHandler } from './memory-handler.js';
import { runPython, type PythonRun } from './test-fixtures/python.js';

const SESSION = 'alice/mnist/3';
let dir: string;
let server: BridgeServer;
let handler: MemoryBridgeHandler;
const runs: PythonRun[] = [];

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NSML_AGENT_SOCKET: server.socketPath, NSML_SESSION: SESSION, NSML_RANK: '0', NSML_WORLD_SIZE: '1',
    NSML_CHECKPOINT_DIR: join(dir, 'ckpt'), NSML_FLUSH_INTERVAL_MS: '100', NSML_USER: 'alice', ...extra,
  };
}

function run(script: string, args: string[] = [], extra: Record<string, string> = {}): PythonRun {
  const r = runPython(script, args, env(extra), dir);
  runs.push(r);
  return r;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nsml-bridge-py-'));
  await mkdir(join(dir, 'ckpt'));
  handler = new MemoryBridgeHandler(SESSION, join(dir, 'loads'));
  server = await startBridgeServer({ socketPath: join(dir, 's.sock'), session: SESSION, handler, checkpointDir: join(dir, 'ckpt'), logger: silentLogger });
});

afterEach(async () => {
  for (const r of runs.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await server.close(200);
  await rm(dir, { recursive: true, force: true });
});

function steps(): number[] {
  return handler.records().filter((r) => 'train/loss' in r.values).map((r) => r.step);
}

describe('the real SDK against the bridge', () => {
  it('loses no metric at normal exit, with keys renamed and NaN/inf kept', async () => {
    const r = run('sdk-reports.py', ['5000', 'exit']);
    expect((await r.exit).code).toBe(0);
    expect(steps()).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    const [first, second] = handler.records();
    expect(first!.values).toEqual({ 'train/loss': 1, odd: Number.POSITIVE_INFINITY });
    expect(second!.values.odd).toBeNaN();
    expect(handler.connections.map((c) => c.state)).toEqual(['open', 'closed']);
  });

  it('loses no metric on SIGTERM and dies by it', async () => {
    const r = run('sdk-reports.py', ['20000', 'wait']);
    await r.line('ready');
    r.child.kill('SIGTERM');
    expect((await r.exit).signal).toBe('SIGTERM');
    expect(steps().length).toBe(20000);
  });

  it('keeps what was flushed before SIGKILL', async () => {
    const r = run('sdk-reports.py', ['3000', 'settle']);
    await r.line('ready');
    r.child.kill('SIGKILL');
    await r.exit;
    expect(steps().length).toBe(3000);
  });

  it('saves and loads checkpoints in both NSML shapes, and reports what fails', async () => {
    const other = join(dir, 'ckpt', 'other');
    for (const [session, text] of [['bob/mnist/1', 'one'], ['bob/mnist/2', 'two']] as const) {
      await mkdir(join(other, session, 'model'), { recursive: true });
      await writeFile(join(other, session, 'model', 'w.txt'), text);
      const { files } = await listCheckpointFiles(join(other, session));
      await handler.saveCheckpointAs(session, { name: 'best', source: 'sdk', dir: other, files, summary: {} });
    }
    const r = run('sdk-checkpoints.py');
    const exit = await r.exit;
    expect(exit.code, r.stderr()).toBe(0);
    const out = JSON.parse(r.stdout().trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out.loaded_file).toBe('file:t');
    expect(out.loaded_dir).toEqual(['weights.txt']);
    expect(out.broken).toBe('disk on fire');
    expect(out.ensemble).toEqual(['one', 'two']);
    const missing = out.missing as { existing: string[]; message: string };
    expect(missing.existing).toEqual(['1', 'dir']);
    expect(missing.message).toMatch(/existing: .*dir/);
    const mine = (name: string) => handler.checkpoints.get(`${SESSION}/${name}`);
    expect(mine('1')).toMatchObject({ entries: [{ path: 'model', size: 6 }], summary: { 'val/acc': 0.75 } });
    expect(mine('dir')!.entries.map((e) => e.path)).toEqual(['model/weights.txt']);
    expect(mine('empty')!.entries).toEqual([]);
    expect(mine('broken')).toBeUndefined();
    expect(await readdir(join(dir, 'ckpt', '.nsml'))).toEqual([]);
  });

  it('applies operator commands at report() and answers each', async () => {
    const r = run('sdk-commands.py', ['--lr', '0.1']);
    const send = (id: string, name: string, args: Record<string, unknown>) => server.sendCommand({ id, name: name as 'set', args });
    send('c1', 'set', { values: { lr: '0.01' } });
    send('c2', 'set', { values: { momentum: '0.9' } });
    send('c3', 'get', { name: 'loss_value' });
    send('c4', 'call', { name: 'scale', args: [3, 4] });
    send('c5', 'call', { name: 'explode' });
    send('c6', 'save', { name: 'by-operator' });
    send('c7', 'set', { values: { lr: '1' } });
    await handler.until(() => handler.results.length === 7);
    send('c8', 'stop', {});
    const exit = await r.exit;
    expect(exit.code, r.stderr()).toBe(0);
    const result = (id: string) => handler.results.find((x) => x.result.id === id)!.result;
    expect(result('c1')).toMatchObject({ ok: true, value: { lr: 0.01 } });
    expect(typeof result('c1').step).toBe('number');
    expect(result('c2')).toMatchObject({ ok: false, error: { code: 'NSML_E_INVALID_ARGUMENT' } });
    expect(result('c2').error!.message).toMatch(/unknown hyperparameter 'momentum'; known: lr, steps/);
    expect(typeof result('c3').value).toBe('number');
    expect(result('c4')).toMatchObject({ ok: true, value: { product: 12 } });
    expect(result('c5')).toMatchObject({ ok: false, error: { type: 'ValueError', message: 'no such thing' } });
    expect(result('c5').error!.traceback).toMatch(/raise ValueError/);
    expect(result('c6')).toMatchObject({ ok: true });
    expect(result('c7')).toMatchObject({ ok: true, value: { lr: 1 } });
    expect(result('c8')).toMatchObject({ ok: true, value: { stopping: true } });
    expect(handler.checkpoints.get(`${SESSION}/by-operator`)?.entries[0]).toMatchObject({ path: 'model', size: 4 });
    expect(r.stdout()).toContain('lr -> 0.01 args.lr=0.01');
    const sets = handler.events.filter((e) => e.event.kind === 'set').map((e) => [e.event.name, e.event.old, e.event.value]);
    expect(sets).toEqual([['lr', 0.1, 0.01], ['lr', 0.01, 1]]);
    expect(handler.events.map((e) => e.event.kind)).toEqual(['set', 'call', 'save', 'set', 'stop']);
  });
});
