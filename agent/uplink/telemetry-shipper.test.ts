import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import type { AgentMessage } from '../../common/proto/types.js';
import type { StreamLink } from '../connection/connection.js';
import { rankKeyString } from '../runner/rank-spec.js';
import { SessionDir } from '../runner/session-dir.js';
import { TelemetryShipper, type ShippedRank } from './telemetry-shipper.js';

const ID = { session: 'alice/scratch/3', epoch: 1, rank: 0 };
let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

class Link implements StreamLink {
  sent: AgentMessage[] = [];
  open = true;
  send(m: AgentMessage): boolean {
    this.sent.push(m);
    return true;
  }
  seqs(): number[] {
    return this.sent.map((m) => Number(m.metricBatch?.seq ?? m.commandResult?.seq));
  }
}

function setup(options: { maxUnacked?: number; own?: (id: string) => boolean } = {}) {
  root = mkdtempSync(join(tmpdir(), 'nsml-ship-'));
  const dir = new SessionDir(root);
  const rank = { key: rankKeyString(ID), spec: ID, dir, finished: false };
  const make = () => new TelemetryShipper({
    ranks: () => [rank as ShippedRank], own: (_key, r) => options.own?.(r.id) ?? false, maxLineBytes: 4096, maxUnacked: options.maxUnacked ?? 64,
    clock: { now: () => Date.now() }, logger: silentLogger,
  });
  const write = (...lines: unknown[]) => {
    for (const l of lines) appendFileSync(dir.telemetry, `\n${typeof l === 'string' ? l : JSON.stringify(l)}\n`);
  };
  return { rank, make, write, dir };
}

const metrics = (step: number) => ({ type: 'metrics', records: [{ ts_ms: 1, step, values: { loss: 1 / step } }] });

describe('TelemetryShipper', () => {
  it('sends each journal entry as one message numbered by its place in the file', () => {
    const { make, write } = setup();
    write(metrics(1), { type: 'event', ts_ms: 2, step: 1, kind: 'set', name: 'lr', value: 0.5, old: 0.1 }, { type: 'result', id: 'c-1', ok: true, step: 1, value: { lr: 0.5 } }, 'not json', metrics(2));
    const s = make();
    const link = new Link();
    s.registered([], link);
    expect(link.seqs()).toEqual([1, 2, 3, 4, 5]);
    expect(link.sent[0]!.metricBatch!.records![0]!.values).toEqual({ loss: 1 });
    expect(link.sent[1]!.metricBatch!.events![0]).toMatchObject({ kind: 'set', name: 'lr', valueJson: '0.5' });
    expect(link.sent[2]!.commandResult).toMatchObject({ id: 'c-1', ok: true, seq: 3, ...ID });
    expect(link.sent[3]!.metricBatch).toMatchObject({ seq: 4, records: [], events: [] }); // damaged: keeps its number
    expect(s.getStatus().damaged).toBe(1);
  });

  it('keeps at most maxUnacked entries unacknowledged and moves on with each ack', () => {
    const { make, write } = setup({ maxUnacked: 3 });
    write(...Array.from({ length: 10 }, (_, i) => metrics(i + 1)));
    const s = make();
    const link = new Link();
    s.registered([], link);
    expect(link.seqs()).toEqual([1, 2, 3]);
    s.ack({ ...ID, seq: 2 });
    expect(link.seqs()).toEqual([1, 2, 3, 4, 5]);
  });

  it('replays after a reconnect from what the coordinator stored, and a new agent resumes the same way', () => {
    const { make, write, rank } = setup();
    write(...Array.from({ length: 6 }, (_, i) => metrics(i + 1)));
    const first = make();
    const link = new Link();
    first.registered([], link);
    first.ack({ ...ID, seq: 4 });
    first.disconnected();
    const again = new Link();
    first.registered([{ ...ID, seq: 4 }], again);
    expect(again.seqs()).toEqual([5, 6]);
    first.close(); // persists telpos.json

    const restarted = make();
    const third = new Link();
    restarted.registered([{ ...ID, seq: 5 }], third);
    expect(third.seqs()).toEqual([6]);
    expect(rank.dir.readJson<{ acked: number }>('telpos.json')?.acked).toBe(4);
  });

  it('is settled only when the finished rank’s whole journal is acknowledged', () => {
    const { make, write, rank } = setup();
    write(metrics(1));
    const s = make();
    const link = new Link();
    s.registered([], link);
    rank.finished = true;
    appendFileSync(rank.dir.telemetry, '\n{"type":"metrics","records":[]}'); // the last entry, without its newline
    expect(s.settled(rankKeyString(ID))).toBe(false);
    s.ack({ ...ID, seq: 1 });
    expect(s.settled(rankKeyString(ID))).toBe(false);
    s.pump();
    expect(link.seqs()).toEqual([1, 2]);
    s.ack({ ...ID, seq: 2 });
    expect(s.settled(rankKeyString(ID))).toBe(true);
    expect(s.settled('unknown')).toBe(true);
  });

  it('hands a result of the agent’s own command to its waiter and ships an empty batch in its place', () => {
    const taken: string[] = [];
    const { make, write } = setup({ own: (id) => (id.startsWith('agent-') ? (taken.push(id), true) : false) });
    write({ type: 'result', id: 'agent-save-1', ok: true, step: 3, value: null }, { type: 'result', id: 'c-2', ok: true, step: 3, value: 1 });
    const s = make();
    const link = new Link();
    s.registered([], link);
    expect(taken).toEqual(['agent-save-1']);
    expect(link.sent[0]!.metricBatch).toMatchObject({ seq: 1, records: [], events: [] });
    expect(link.sent[1]!.commandResult).toMatchObject({ id: 'c-2', seq: 2 });
  });
});
