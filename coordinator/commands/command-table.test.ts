import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/types.js';

let dir: string | undefined;
let store: Store | undefined;

afterEach(() => {
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  store = undefined;
  dir = undefined;
});

function open(): Store {
  dir ??= mkdtempSync(join(tmpdir(), 'nsml-command-table-'));
  store = openStore(join(dir, 'state.sqlite'));
  return store;
}

const NEW = { id: 'c-1', session: 'alice/scratch/1', user: 'alice', name: 'set', argsJson: '{"values":{"lr":"0.01"}}', createdMs: 100 };

describe('command table', () => {
  it('keeps a command, its targets and their results through a reopen', () => {
    const s = open();
    s.commands.insert(NEW, [0, 1]);
    s.commands.addTargets('c-1', [1, 2]);
    s.commands.update('c-1', { state: 'delivered', deliveredMs: 110, atStep: 250 });
    s.commands.updateTarget('c-1', 0, { state: 'delivered', epoch: 3, nodeId: 'n1', deliveredMs: 110 });
    s.commands.updateTarget('c-1', 1, {
      state: 'failed', finishedMs: 130, step: 250,
      result: { ok: false, valueJson: '', errorType: 'ValueError', errorCode: '', errorMessage: 'bad', traceback: 'Traceback...' },
    });
    s.close();
    const again = open();
    expect(again.commands.get('c-1')).toEqual({ ...NEW, atStep: 250, state: 'delivered', reason: '', deliveredMs: 110, finishedMs: 0 });
    const targets = again.commands.targets('c-1');
    expect(targets.map((t) => [t.rank, t.state, t.epoch, t.nodeId, t.step])).toEqual([
      [0, 'delivered', 3, 'n1', null], [1, 'failed', 0, '', 250], [2, 'queued', 0, '', null],
    ]);
    expect(targets[1]!.result).toMatchObject({ ok: false, errorType: 'ValueError', errorMessage: 'bad' });
    expect(targets[0]!.result).toBeUndefined();
  });

  it('lists only open commands, oldest first', () => {
    const s = open();
    s.commands.insert(NEW, [0]);
    s.commands.insert({ ...NEW, id: 'c-2', createdMs: 200 }, [0]);
    s.commands.insert({ ...NEW, id: 'c-3', createdMs: 300 }, [0]);
    s.commands.update('c-2', { state: 'applied', finishedMs: 250 });
    expect(s.commands.open().map((c) => c.id)).toEqual(['c-1', 'c-3']);
    expect(s.commands.get('nope')).toBeUndefined();
  });
});
