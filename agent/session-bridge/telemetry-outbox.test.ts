import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import type { AgentMessage, MetricRecord } from '../../common/proto/types.js';
import type { StreamLink } from '../connection/connection.js';
import { rankKeyString } from '../runner/rank-spec.js';
import { TelemetryOutbox } from './telemetry-outbox.js';

/** A stream that records what is written; `room` writes fit before it reports a full buffer. */
class FakeLink implements StreamLink {
  readonly sent: AgentMessage[] = [];
  open = true;
  constructor(public room = Infinity) {}
  send(m: AgentMessage): boolean {
    this.sent.push(m);
    this.room -= 1;
    return this.room > 0;
  }
}

const rank0 = { session: 'alice/scratch/1', epoch: 1, rank: 0 };
const rank1 = { ...rank0, rank: 1 };
const rec = (step: number, values: Record<string, number> = { loss: 1 / step }): MetricRecord => ({ tsMs: 1000 + step, step, values, summary: false });
const seqs = (link: FakeLink) => link.sent.map((m) => m.metricBatch?.seq ?? m.commandResult?.seq);

describe('TelemetryOutbox', () => {
  it('numbers batches and results per rank at their first send, and keeps them until acked', () => {
    const out = new TelemetryOutbox({ logger: silentLogger });
    out.addBatch(rank0, [rec(1)], 0); // before any stream: waits
    const link = new FakeLink();
    out.registered([], link);
    out.addResult(rank0, { id: 'c-1', ok: true, step: 1, valueJson: '1' });
    out.addBatch(rank1, [rec(1), rec(2)], 3);
    expect(link.sent.map((m) => [m.metricBatch ? 'batch' : 'result', m.metricBatch?.rank ?? m.commandResult?.rank, m.metricBatch?.seq ?? m.commandResult?.seq])).toEqual([
      ['batch', 0, 1], ['result', 0, 2], ['batch', 1, 1],
    ]);
    expect(link.sent[2]!.metricBatch!.dropped).toBe(3);
    expect(out.getStatus()).toMatchObject({ items: 3, records: 3 });
    out.ack({ ...rank0, seq: 2 });
    expect(out.getStatus()).toMatchObject({ items: 1, records: 2 });
  });

  it('replays what was not acknowledged after a reconnect, with the same seqs, after what the coordinator stored', () => {
    const out = new TelemetryOutbox({ logger: silentLogger });
    const first = new FakeLink();
    out.registered([], first);
    for (let i = 1; i <= 4; i++) out.addBatch(rank0, [rec(i)], 0);
    out.ack({ ...rank0, seq: 1 });
    out.disconnected();
    out.addBatch(rank0, [rec(5)], 0);
    const second = new FakeLink();
    out.registered([{ ...rank0, seq: 3 }], second); // seq 2 and 3 were stored but their acks lost
    expect(seqs(second)).toEqual([4, 5]);
    expect(second.sent.map((m) => m.metricBatch!.records![0]!.step)).toEqual([4, 5]);
  });

  it('after an agent restart, numbers after the seq the coordinator reports', () => {
    const out = new TelemetryOutbox({ logger: silentLogger });
    out.addBatch(rank0, [rec(1)], 0);
    out.addEvent(rank0, { tsMs: 5, kind: 'set', name: 'lr', valueJson: '0.1', oldJson: '0.2', session: '' });
    const link = new FakeLink();
    out.registered([{ ...rank0, seq: 41 }], link);
    expect(seqs(link)).toEqual([42, 43]);
    expect(link.sent[1]!.metricBatch!.events!.map((e) => e.name)).toEqual(['lr']);
  });

  it('waits for drain when the stream is full, and says when a rank has nothing unsent', () => {
    const out = new TelemetryOutbox({ logger: silentLogger });
    const idle: string[] = [];
    out.onIdle = (key) => idle.push(key);
    const link = new FakeLink(2);
    out.registered([], link);
    out.addBatch(rank0, [rec(1)], 0);
    out.addBatch(rank0, [rec(2)], 0); // fills the buffer
    out.addBatch(rank0, [rec(3)], 0);
    expect(seqs(link)).toEqual([1, 2]);
    expect(out.unsent(rankKeyString(rank0))).toBe(true);
    link.room = Infinity;
    out.drain();
    expect(seqs(link)).toEqual([1, 2, 3]);
    expect(out.unsent(rankKeyString(rank0))).toBe(false);
    expect(idle).toContain(rankKeyString(rank0));
  });

  it('drops records past its bound and tells how many with the next batch it sends', () => {
    const out = new TelemetryOutbox({ logger: silentLogger, maxRecords: 3 });
    out.addBatch(rank0, [rec(1), rec(2)], 0);
    out.addBatch(rank0, [rec(3), rec(4)], 1); // no room: 2 records + the SDK's 1
    const link = new FakeLink();
    out.registered([], link);
    out.ack({ ...rank0, seq: 1 });
    out.addBatch(rank0, [rec(5)], 0);
    const batches = link.sent.map((m) => m.metricBatch!);
    expect(batches.map((b) => [b.records!.length, b.dropped])).toEqual([[2, 3], [1, 0]]);
    expect(out.getStatus().dropped).toBe(2);
  });

  it('tells drops on their own when nothing else is left to send', () => {
    const out = new TelemetryOutbox({ logger: silentLogger, maxRecords: 2 });
    const link = new FakeLink();
    out.registered([], link);
    out.addBatch(rank0, [rec(1), rec(2)], 0);
    out.addBatch(rank0, [rec(3)], 0);
    expect(link.sent.map((m) => [m.metricBatch!.seq, m.metricBatch!.records!.length, m.metricBatch!.dropped])).toEqual([[1, 2, 0], [2, 0, 1]]);
  });

  it('forgets an ended rank once everything is acknowledged; sends one-off results unsequenced', () => {
    const out = new TelemetryOutbox({ logger: silentLogger });
    const link = new FakeLink();
    out.registered([], link);
    out.addBatch(rank0, [rec(1)], 0);
    out.end(rank0);
    expect(out.getStatus().ranks).toBe(1);
    out.ack({ ...rank0, seq: 1 });
    expect(out.getStatus().ranks).toBe(0);
    out.sendOnce({ ...rank1, id: 'c-9', ok: false, errorMessage: 'not here' });
    expect(link.sent[1]!.commandResult).toMatchObject({ id: 'c-9', seq: 0, rank: 1 });
  });
});
