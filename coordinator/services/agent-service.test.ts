import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogLine__Output, Session__Output, StartSession__Output, SubmitRequest } from '../../common/proto/types.js';
import { FakeAgent } from '../../test/harness/fake-agent.js';
import { startTestCoordinator, unaryCall, uploadWorkspace, userMd, type TestCoordinator } from '../../test/harness/test-coordinator.js';

let t: TestCoordinator | undefined;
const agents: FakeAgent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await t?.cleanup();
  t = undefined;
});

async function setup(opts: { joinToken?: string; heartbeatTimeoutMs?: number } = {}) {
  t = await startTestCoordinator(opts);
  const workspace = await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n' });
  return { t, workspace };
}

async function join(nodeId: string, gpus = 2, extra: Parameters<FakeAgent['register']>[0] = {}): Promise<FakeAgent> {
  const agent = new FakeAgent(t!.clients.agents, nodeId);
  agents.push(agent);
  agent.register({ gpus, ...extra });
  await agent.next((m) => m.registered ?? undefined);
  return agent;
}

function submit(workspace: string, req: SubmitRequest = {}): Promise<Session__Output> {
  const c = t!.clients.sessions;
  return unaryCall(c, c.Submit, { entry: 'main.py', workspace, ...req });
}

function get(name: string): Promise<Session__Output> {
  const c = t!.clients.sessions;
  return unaryCall(c, c.Get, { name });
}

function wait(name: string): Promise<Session__Output> {
  const c = t!.clients.sessions;
  return unaryCall(c, c.Wait, { name, timeoutMs: 20_000 }, 'alice', 30_000);
}

async function until(name: string, state: string): Promise<Session__Output> {
  for (let i = 0; i < 200; i++) {
    const s = await get(name);
    if (s.state === state) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} never reached ${state}; it is ${(await get(name)).state}`);
}

const startOf = (session: string) => (m: { start?: StartSession__Output | null }) => (m.start?.session === session ? m.start : undefined);

function readLogs(name: string, follow: boolean, fromCursor = 0): Promise<LogLine__Output[]> {
  const call = t!.clients.sessions.Logs({ name, follow, fromCursor, rank: -1 }, userMd(), { deadline: new Date(Date.now() + 20_000) });
  const lines: LogLine__Output[] = [];
  return new Promise((resolve, reject) => {
    call.on('data', (l: LogLine__Output) => lines.push(l));
    call.on('end', () => resolve(lines));
    call.on('error', (e: grpc.ServiceError) => reject(e));
  });
}

describe('AgentService.Connect', () => {
  it('registers, receives start, and reports running then succeeded', async () => {
    const { workspace } = await setup();
    const agent = await join('n1', 2, { address: '10.0.0.5' });
    const registered = agent.received[0]!.registered!;
    expect(registered.heartbeatIntervalMs).toBe(100);
    const s = await submit(workspace, { gpus: 2, args: ['--lr', '0.1'], env: { A: 'b' } });
    const start = await agent.next(startOf(s.name));
    expect(start).toMatchObject({ epoch: 1, rank: 0, worldSize: 1, gpuIndices: [0, 1], entry: 'main.py', args: ['--lr', '0.1'], workspace, masterAddr: '10.0.0.5', user: 'alice' });
    expect(start.masterPort).toBeGreaterThanOrEqual(29500);
    expect(start.env).toEqual({ A: 'b' });
    expect((await get(s.name)).state).toBe('starting');
    agent.sendStatus(s.name, 1, 0, 'starting');
    agent.sendStatus(s.name, 1, 0, 'running');
    const running = await until(s.name, 'running');
    expect(running.startedMs).toBeGreaterThan(0);
    expect(running.placements).toEqual([{ nodeId: 'n1', gpuIndices: [0, 1], rank: 0 }]);
    agent.sendStatus(s.name, 1, 0, 'exited', { exitCode: 0 });
    const done = await wait(s.name);
    expect(done.state).toBe('succeeded');
    expect(done.exitCode).toBe(0);
    const events = (await get(s.name)).events.map((e) => e.state);
    expect(events).toEqual(['queued', 'scheduled', 'starting', 'running', 'succeeded']);
  });

  it('a non-zero exit fails the session; failed_to_start carries the message', async () => {
    const { workspace } = await setup();
    const agent = await join('n1', 2);
    const a = await submit(workspace, { gpus: 1 });
    const b = await submit(workspace, { gpus: 1 });
    await agent.next(startOf(a.name));
    await agent.next(startOf(b.name));
    agent.sendStatus(a.name, 1, 0, 'exited', { exitCode: 3 });
    agent.sendStatus(b.name, 1, 0, 'failed_to_start', { message: 'entry main.py not found' });
    const fa = await wait(a.name);
    expect(fa).toMatchObject({ state: 'failed', exitCode: 3 });
    const fb = await wait(b.name);
    expect(fb.state).toBe('failed');
    expect(fb.reason).toContain('entry main.py not found');
  });

  it('stores logs idempotently, acks the gapless seq, and Logs follows without duplicates', async () => {
    const { workspace } = await setup();
    const agent = await join('n1', 1);
    const s = await submit(workspace, { gpus: 1 });
    await agent.next(startOf(s.name));
    agent.sendStatus(s.name, 1, 0, 'running');
    await until(s.name, 'running');
    const follower = readLogs(s.name, true);
    agent.logs(s.name, 1, 0, [{ seq: 1, text: 'one' }, { seq: 2, text: 'two' }]);
    const ack1 = await agent.next((m) => (m.logAck?.seq === 2 ? m.logAck : undefined));
    expect(ack1).toEqual({ session: s.name, rank: 0, seq: 2 });
    agent.logs(s.name, 1, 0, [{ seq: 4, text: 'four' }]);
    agent.logs(s.name, 1, 0, [{ seq: 2, text: 'two' }, { seq: 3, text: 'three' }]);
    await agent.next((m) => (m.logAck?.seq === 4 ? m.logAck : undefined));
    agent.sendStatus(s.name, 1, 0, 'exited', { exitCode: 0 });
    const lines = await follower;
    expect(lines.map((l) => l.text)).toEqual(['one', 'two', 'four', 'three']);
    expect(new Set(lines.map((l) => l.cursor)).size).toBe(4);
    const history = await readLogs(s.name, false);
    expect(history.map((l) => l.seq)).toEqual([1, 2, 4, 3]);
    const tail = await readLogs(s.name, false, history[1]!.cursor);
    expect(tail.map((l) => l.text)).toEqual(['four', 'three']);
  });

  it('a node that stops heartbeating is down and its session lost', async () => {
    const { workspace } = await setup({ heartbeatTimeoutMs: 600 });
    const agent = await join('n1', 1);
    const s = await submit(workspace, { gpus: 1 });
    await agent.next(startOf(s.name));
    agent.sendStatus(s.name, 1, 0, 'running');
    const lost = await wait(s.name);
    expect(lost.state).toBe('lost');
    expect(lost.reason).toContain('n1 is down');
    const c = t!.clients.admin;
    const nodes = await unaryCall(c, c.ListNodes, {});
    expect(nodes.nodes[0]).toMatchObject({ id: 'n1', state: 'down' });
  });

  it('a re-registering agent with a stale epoch is told to stop it', async () => {
    const { workspace } = await setup();
    const first = await join('n1', 1);
    const s = await submit(workspace, { gpus: 1 });
    await first.next(startOf(s.name));
    first.sendStatus(s.name, 1, 0, 'running');
    await until(s.name, 'running');
    first.close();
    const again = await join('n1', 1, { running: [{ session: s.name, epoch: 0, rank: 0, pid: 42, state: 'running' }, { session: 'bob/scratch/7', epoch: 1, rank: 0, pid: 43, state: 'running' }] });
    const stop = await again.next((m) => (m.stop?.session === s.name ? m.stop : undefined));
    expect(stop).toMatchObject({ epoch: 0, graceMs: 0 });
    expect(stop.reason).toContain('stale epoch');
    await again.next((m) => (m.stop?.session === 'bob/scratch/7' ? m.stop : undefined));
    // The current epoch was not listed: the agent restarted without it.
    expect((await wait(s.name)).state).toBe('lost');
  });

  it('adopts a running process on re-register and resends start for one never started', async () => {
    const { workspace } = await setup();
    const first = await join('n1', 2);
    const s = await submit(workspace, { gpus: 1 });
    await first.next(startOf(s.name));
    first.sendStatus(s.name, 1, 0, 'running');
    await until(s.name, 'running');
    first.close();
    const again = await join('n1', 2, { running: [{ session: s.name, epoch: 1, rank: 0, pid: 42, state: 'exited', exitCode: 0 }] });
    expect((await wait(s.name)).state).toBe('succeeded');
    expect(again.received.some((m) => m.stop)).toBe(false);
  });

  it('a user stop sends stop with the grace period; the exit makes it stopped', async () => {
    const { workspace } = await setup();
    const agent = await join('n1', 1);
    const s = await submit(workspace, { gpus: 1 });
    await agent.next(startOf(s.name));
    agent.sendStatus(s.name, 1, 0, 'running');
    await until(s.name, 'running');
    const c = t!.clients.sessions;
    const asked = await unaryCall(c, c.Stop, { name: s.name, graceMs: 1234 });
    expect(asked.reason).toContain('stopping');
    const stop = await agent.next((m) => m.stop ?? undefined);
    expect(stop).toMatchObject({ session: s.name, epoch: 1, graceMs: 1234 });
    agent.sendStatus(s.name, 1, 0, 'exited', { exitCode: -1, signal: 'SIGTERM' });
    expect((await wait(s.name)).state).toBe('stopped');
  });

  it('a gang spans nodes; when one rank fails the others are stopped', async () => {
    const { workspace } = await setup();
    const a = await join('a', 2, { address: '10.0.0.1' });
    const b = await join('b', 2, { address: '10.0.0.2' });
    const s = await submit(workspace, { gpus: 4, gpusPerNode: 2 });
    const sa = await a.next(startOf(s.name));
    const sb = await b.next(startOf(s.name));
    expect([sa.rank, sb.rank].sort()).toEqual([0, 1]);
    expect(sa.worldSize).toBe(2);
    expect(sa.masterAddr).toBe(sb.masterAddr);
    expect(sa.masterPort).toBe(sb.masterPort);
    const [failing, other] = sa.rank === 1 ? [a, b] : [b, a];
    failing.sendStatus(s.name, 1, 1, 'exited', { exitCode: 2 });
    expect((await wait(s.name)).state).toBe('failed');
    await other.next((m) => (m.stop?.session === s.name ? m.stop : undefined));
  });

  it('rejects an agent without the join token', async () => {
    await setup({ joinToken: 'secret' });
    const bad = new FakeAgent(t!.clients.agents, 'n1');
    agents.push(bad);
    bad.register({ joinToken: 'wrong' });
    const status = await bad.waitEnded();
    expect(status?.metadata.get('nsml-error-code')[0]).toBe('NSML_E_UNAUTHENTICATED');
    const good = await join('n2', 1, { joinToken: 'secret' });
    expect(good.received[0]!.registered!.nodeId).toBe('n2');
  });
});
