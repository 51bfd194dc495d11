import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isNsmlError } from '../../common/errors.js';
import { silentLogger } from '../../common/log.js';
import type { CommandResult__Output, CoordinatorMessage, SessionCommand } from '../../common/proto/types.js';
import { Hub } from '../hub.js';
import { openStore } from '../store/sqlite-store.js';
import type { SessionRow, Store } from '../store/types.js';
import { CommandQueue } from './command-queue.js';
import { toControlResult } from './command-proto.js';

/** The agents the queue sees: which are connected, and what was sent to each. */
class FakeAgents {
  readonly connected = new Set<string>(['n1', 'n2']);
  readonly sent: Array<{ nodeId: string; command: SessionCommand }> = [];
  isConnected(nodeId: string): boolean {
    return this.connected.has(nodeId);
  }
  send(nodeId: string, m: CoordinatorMessage): boolean {
    if (!this.connected.has(nodeId)) return false;
    if (m.command) this.sent.push({ nodeId, command: m.command });
    return true;
  }
}

let dir: string | undefined;
let store: Store | undefined;
let queue: CommandQueue | undefined;
let now = 1_000_000;
const clock = { now: () => now };

afterEach(() => {
  queue?.close();
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  store = undefined;
  queue = undefined;
});

function setup(): { s: Store; agents: FakeAgents; q: CommandQueue; hub: Hub } {
  dir = mkdtempSync(join(tmpdir(), 'nsml-commands-'));
  store = openStore(join(dir, 'state.sqlite'));
  const agents = new FakeAgents();
  const hub = new Hub();
  queue = new CommandQueue({ store, agents, hub, clock, logger: silentLogger }, { gangLeadMs: 1_000 });
  return { s: store, agents, q: queue, hub };
}

/** A running session of `ranks` ranks, rank r on node n(r+1). */
function running(s: Store, ranks = 1, user = 'alice'): SessionRow {
  const row = s.insertSession({
    user, dataset: 'scratch', gpus: 0, gpusPerNode: 0, cpus: 1, memoryMib: 0, entry: 'main.py', args: [], env: {},
    memo: '', workspace: '', priority: 0, timeLimitS: 0,
  }, now, 'submitted');
  s.updateSession(row.name, { epoch: 1, state: 'running' });
  s.insertAssignments(Array.from({ length: ranks }, (_, rank) => ({
    session: row.name, epoch: 1, nodeId: `n${rank + 1}`, rank, gpuIndices: [], state: 'running' as const, exitCode: undefined, signal: '', message: '',
  })));
  return s.getSession(row.name)!;
}

function result(c: SessionCommand, extra: Partial<CommandResult__Output> = {}): CommandResult__Output {
  return {
    session: c.session!, epoch: Number(c.epoch), rank: c.rank!, seq: 0, id: c.id!, ok: true, step: 12, valueJson: '{"lr":0.01}',
    errorType: '', errorCode: '', errorMessage: '', traceback: '', ...extra,
  } as CommandResult__Output;
}

describe('CommandQueue', () => {
  it('refuses a finished session (who may control it is checked before: coordinator/auth/session-access.ts)', () => {
    const { s, q } = setup();
    const done = running(s);
    s.updateSession(done.name, { state: 'succeeded', reason: 'exit 0' });
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return isNsmlError(err) ? err.code : String(err);
      }
      return 'no error';
    };
    expect(codeOf(() => q.submit(s.getSession(done.name)!, 'alice', { name: 'get', args: { name: 'lr' } }))).toBe('NSML_E_ALREADY_FINISHED');
  });

  it('persists, delivers to rank 0, and applies with the result and step', async () => {
    const { s, agents, q } = setup();
    const session = running(s);
    const cmd = q.submit(session, 'alice', { name: 'call', args: { name: 'evaluate' } });
    expect(agents.sent).toHaveLength(1);
    const sent = agents.sent[0]!;
    expect(sent.nodeId).toBe('n1');
    expect(sent.command).toMatchObject({ id: cmd.id, session: session.name, epoch: 1, rank: 0, name: 'call', argsJson: '{"name":"evaluate"}' });
    expect(sent.command.atStep).toBeUndefined();
    expect(s.commands.get(cmd.id)!.state).toBe('delivered');
    const waiting = q.wait(cmd.id, 10_000, new AbortController().signal);
    q.onResult('n1', result(sent.command, { valueJson: '{"acc":0.9}', step: 40 }));
    const done = await waiting;
    expect(done.state).toBe('applied');
    const proto = toControlResult(q.view(cmd.id)!);
    expect(proto).toMatchObject({ state: 'applied', ok: true, step: 40, valueJson: '{"acc":0.9}' });
  });

  it('keeps a command queued while the agent is away and delivers it when the agent registers', () => {
    const { s, agents, q } = setup();
    agents.connected.delete('n1');
    const cmd = q.submit(running(s), 'alice', { name: 'get', args: { name: 'lr' } });
    expect(s.commands.get(cmd.id)!.state).toBe('queued');
    q.sweep();
    expect(agents.sent).toHaveLength(0);
    agents.connected.add('n1');
    q.agentRegistered('n1');
    expect(agents.sent.map((x) => x.command.id)).toEqual([cmd.id]);
    // Registering again resends what has no result yet (the agent delivers each id once).
    q.agentRegistered('n1');
    expect(agents.sent.map((x) => x.command.id)).toEqual([cmd.id, cmd.id]);
    q.agentRegistered('n2');
    expect(agents.sent).toHaveLength(2);
  });

  it('sends a gang’s set (and stop) to every rank at one step ahead of the furthest rank; get to rank 0', () => {
    const { s, agents, q } = setup();
    const session = running(s, 2);
    q.observeSteps({ session: session.name, epoch: 1, rank: 0, step: 100, tsMs: 10_000 });
    q.observeSteps({ session: session.name, epoch: 1, rank: 0, step: 200, tsMs: 11_000 }); // 0.1 step/ms
    q.observeSteps({ session: session.name, epoch: 1, rank: 1, step: 150, tsMs: 11_000 });
    const cmd = q.submit(session, 'alice', { name: 'set', args: { values: { lr: '0.01' } } });
    expect(agents.sent.map((x) => [x.nodeId, x.command.rank])).toEqual([['n1', 0], ['n2', 1]]);
    const atSteps = agents.sent.map((x) => x.command.atStep);
    expect(atSteps[0]).toBe(atSteps[1]);
    expect(atSteps[0]).toBeGreaterThan(200 + 0.1 * 1_000 - 1); // at least a lead's worth of steps ahead
    q.onResult('n1', result(agents.sent[0]!.command, { step: atSteps[0] as number }));
    expect(s.commands.get(cmd.id)!.state).toBe('delivered');
    q.onResult('n2', result(agents.sent[1]!.command, { ok: false, errorType: 'ValueError', errorMessage: 'no', step: 210 }));
    const view = toControlResult(q.view(cmd.id)!);
    expect(view).toMatchObject({ state: 'failed', ok: false, errorType: 'ValueError', errorMessage: 'no', atStep: atSteps[0] });
    expect(view.ranks!.map((r) => r.state)).toEqual(['applied', 'failed']);
    agents.sent.length = 0;
    q.submit(session, 'alice', { name: 'get', args: { name: 'lr' } });
    expect(agents.sent.map((x) => [x.nodeId, x.command.atStep])).toEqual([['n1', undefined]]);
    agents.sent.length = 0;
    q.submit(session, 'alice', { name: 'stop', args: {} });
    expect(agents.sent.map((x) => x.nodeId)).toEqual(['n1', 'n2']);
    expect(agents.sent[0]!.command.atStep).toBeGreaterThan(200);
  });

  it('counts a sequenced result once, and ignores one from a node that does not run the rank', () => {
    const { s, agents, q } = setup();
    const session = running(s);
    const cmd = q.submit(session, 'alice', { name: 'get', args: { name: 'lr' } });
    const c = agents.sent[0]!.command;
    expect(q.onResult('n2', result(c, { seq: 1 }))).toEqual({ session: session.name, epoch: 1, rank: 0, seq: 1 });
    expect(s.commands.get(cmd.id)!.state).toBe('delivered');
    q.onResult('n1', result(c, { seq: 1, valueJson: '1' }));
    q.onResult('n1', result(c, { seq: 1, valueJson: '2' }));
    expect(q.view(cmd.id)!.targets[0]!.result!.valueJson).toBe('1');
    expect(s.metrics.claimSeq({ session: session.name, epoch: 1, rank: 0, seq: 1 })).toBe(false);
  });

  it('fails the open commands of a session that ends, and wakes their waiters', async () => {
    const { s, agents, q, hub } = setup();
    const session = running(s);
    agents.connected.clear();
    const cmd = q.submit(session, 'alice', { name: 'stop', args: {} });
    const waiting = q.wait(cmd.id, 10_000, new AbortController().signal);
    s.updateSession(session.name, { state: 'failed', reason: 'exit 1' });
    hub.emitSession(s.getSession(session.name)!);
    const done = await waiting;
    expect(done.state).toBe('failed');
    expect(done.reason).toMatch(/ended \(failed\) before the command was applied/);
    expect(toControlResult(q.view(cmd.id)!).errorMessage).toMatch(/ended \(failed\)/);
  });

  it('holds a command while the session waits for a placement, and sends it to the next one', () => {
    const { s, agents, q } = setup();
    const session = running(s);
    s.updateSession(session.name, { state: 'queued' }); // requeued (a preemption): its old ranks exited
    s.updateRank(session.name, 1, 0, { state: 'exited' });
    const cmd = q.submit(s.getSession(session.name)!, 'alice', { name: 'get', args: { name: 'lr' } });
    q.sweep();
    expect(agents.sent).toHaveLength(0);
    expect(s.commands.get(cmd.id)!.state).toBe('queued');
    s.updateSession(session.name, { state: 'starting', epoch: 2 });
    s.insertAssignments([{ session: session.name, epoch: 2, nodeId: 'n2', rank: 0, gpuIndices: [], state: 'sent', exitCode: undefined, signal: '', message: '' }]);
    q.sweep();
    expect(agents.sent.map((x) => [x.nodeId, x.command.epoch])).toEqual([['n2', 2]]);
  });

  it('returns the command as it is when the wait times out', async () => {
    const { s, q } = setup();
    const cmd = q.submit(running(s), 'alice', { name: 'get', args: { name: 'lr' } });
    now += 5;
    expect((await q.wait(cmd.id, 20, new AbortController().signal)).state).toBe('delivered');
  });
});
