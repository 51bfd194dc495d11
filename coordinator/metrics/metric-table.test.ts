import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/types.js';
import type { NewMetricBatch } from './types.js';

let dir: string | undefined;
let store: Store | undefined;

afterEach(() => {
  store?.close();
  store = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function open(): Store {
  dir ??= mkdtempSync(join(tmpdir(), 'nsml-metrics-'));
  store = openStore(join(dir, 'state.sqlite'));
  return store;
}

/** A session placed on node n1 at epoch 1 with `ranks` ranks. */
function placed(s: Store, ranks = 1): string {
  const row = s.insertSession({
    user: 'alice', dataset: 'scratch', gpus: 0, gpusPerNode: 0, cpus: 1, memoryMib: 0, entry: 'main.py', args: [], env: {},
    memo: '', workspace: '', priority: 0, timeLimitS: 0,
  }, 1000, 'submitted');
  s.updateSession(row.name, { epoch: 1, state: 'running' });
  s.insertAssignments(Array.from({ length: ranks }, (_, rank) => ({
    session: row.name, epoch: 1, nodeId: 'n1', rank, gpuIndices: [], state: 'running' as const, exitCode: undefined, signal: '', message: '',
  })));
  return row.name;
}

function batch(session: string, seq: number, extra: Partial<NewMetricBatch> = {}): NewMetricBatch {
  return {
    session, epoch: 1, rank: 0, seq, dropped: 0, events: [],
    records: [{ tsMs: 1000 + seq, step: seq * 10, values: { loss: 1 / seq, acc: seq / 10 }, summary: false }],
    ...extra,
  };
}

describe('metric table', () => {
  it('stores each seq once, in one transaction per batch, and keeps it through a reopen', () => {
    const s = open();
    const name = placed(s);
    expect(s.metrics.insertBatch(batch(name, 1))).toEqual({ stored: true, points: 2, events: 0 });
    expect(s.metrics.insertBatch(batch(name, 2))).toEqual({ stored: true, points: 2, events: 0 });
    expect(s.metrics.insertBatch(batch(name, 2)).stored).toBe(false); // a replay after a reconnect
    expect(s.metrics.insertBatch(batch(name, 1)).stored).toBe(false);
    expect(s.metrics.countPoints(name, 'loss')).toBe(2);
    s.close();
    const again = open();
    expect(again.metrics.countPoints(name, undefined)).toBe(4);
    expect(again.metrics.insertBatch(batch(name, 2)).stored).toBe(false);
    expect(again.metrics.acksForNode('n1', 0)).toEqual([{ session: name, epoch: 1, rank: 0, seq: 2 }]);
    expect(again.metrics.acksForNode('n2', 0)).toEqual([]);
  });

  it('keeps NaN and the infinities', () => {
    const s = open();
    const name = placed(s);
    s.metrics.insertBatch(batch(name, 1, { records: [{ tsMs: 5, step: 1, values: { a: NaN, b: Infinity, c: -Infinity, d: 0 }, summary: true }] }));
    const byKey = Object.fromEntries(s.metrics.readPoints(name, undefined, 0, 100).map((p) => [p.key, p.value]));
    expect(byKey).toEqual({ a: NaN, b: Infinity, c: -Infinity, d: 0 });
    expect(s.metrics.summaryOf(name)).toEqual({ a: NaN, b: Infinity, c: -Infinity, d: 0 });
  });

  it('pages by cursor, filters by key, and gives the latest point of each key', () => {
    const s = open();
    const name = placed(s);
    for (let seq = 1; seq <= 5; seq++) s.metrics.insertBatch(batch(name, seq));
    const first = s.metrics.readPoints(name, 'loss', 0, 2);
    expect(first.map((p) => p.step)).toEqual([10, 20]);
    const rest = s.metrics.readPoints(name, 'loss', first[1]!.cursor, 100);
    expect(rest.map((p) => p.step)).toEqual([30, 40, 50]);
    expect(s.metrics.latest(name, undefined).map((p) => [p.key, p.step])).toEqual([['acc', 50], ['loss', 50]]);
    expect(s.metrics.latest(name, 'acc').map((p) => p.value)).toEqual([0.5]);
  });

  it('updates the summary from summary records only, and sums drops over ranks', () => {
    const s = open();
    const name = placed(s, 2);
    s.metrics.insertBatch(batch(name, 1, { records: [{ tsMs: 1, step: 1, values: { 'val/acc': 0.5 }, summary: true }] }));
    s.metrics.insertBatch(batch(name, 2, { records: [{ tsMs: 2, step: 2, values: { 'val/acc': 0.9, loss: 3 }, summary: false }], dropped: 4 }));
    s.metrics.insertBatch(batch(name, 3, { records: [{ tsMs: 3, step: 3, values: { 'val/acc': 0.7 }, summary: true }] }));
    s.metrics.insertBatch({ ...batch(name, 1), rank: 1, dropped: 6 });
    expect(s.metrics.summaryOf(name)).toEqual({ 'val/acc': 0.7 });
    expect(s.metrics.dropped(name)).toBe(10);
  });

  it('stores timeline events with their step (or none)', () => {
    const s = open();
    const name = placed(s);
    s.metrics.insertBatch(batch(name, 1, {
      records: [],
      events: [
        { tsMs: 7, step: 12, kind: 'set', name: 'lr', valueJson: '0.01', oldJson: '0.1', sourceSession: '' },
        { tsMs: 8, step: null, kind: 'stop', name: '', valueJson: '', oldJson: '', sourceSession: '' },
      ],
    }));
    const events = s.metrics.events(name, 10);
    expect(events.map((e) => [e.kind, e.name, e.step, e.valueJson, e.oldJson])).toEqual([['set', 'lr', 12, '0.01', '0.1'], ['stop', '', null, '', '']]);
  });

  it('claims a seq for a command result in the same sequence as batches', () => {
    const s = open();
    const name = placed(s);
    s.metrics.insertBatch(batch(name, 1));
    expect(s.metrics.claimSeq({ session: name, epoch: 1, rank: 0, seq: 2 })).toBe(true);
    expect(s.metrics.claimSeq({ session: name, epoch: 1, rank: 0, seq: 2 })).toBe(false);
    expect(s.metrics.insertBatch(batch(name, 2)).stored).toBe(false);
    expect(s.metrics.insertBatch(batch(name, 3)).stored).toBe(true);
  });

  it('stores nothing past a gap: a failed batch is never acknowledged by a later one', () => {
    const s = open();
    const name = placed(s);
    expect(s.metrics.insertBatch(batch(name, 1)).stored).toBe(true);
    expect(() => s.metrics.insertBatch(batch(name, 3))).toThrow(expect.objectContaining({ code: 'NSML_E_SEQUENCE_GAP' }));
    expect(() => s.metrics.claimSeq({ session: name, epoch: 1, rank: 0, seq: 3 })).toThrow(/replay from 2/);
    expect(s.metrics.countPoints(name, undefined)).toBe(s.metrics.readPoints(name, undefined, 0, 1000).length);
    expect(s.metrics.acksForNode('n1', 0).find((a) => a.session === name)?.seq).toBe(1);
    expect(s.metrics.insertBatch(batch(name, 2)).stored).toBe(true);
    expect(s.metrics.insertBatch(batch(name, 3)).stored).toBe(true);
  });
});
