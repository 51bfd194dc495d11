import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Session__Output } from '../../common/proto/types.js';
import { FakeAgent, fakeGpus } from '../../test/harness/fake-agent.js';
import { errorCodeOf, startTestCoordinator, unaryCall, uploadWorkspace, type TestCoordinator } from '../../test/harness/test-coordinator.js';

let t: TestCoordinator;
let workspace: string;
const agents: FakeAgent[] = [];

beforeEach(async () => {
  t = await startTestCoordinator();
  workspace = await uploadWorkspace(t.clients.blobs, { 'main.py': '' });
});
afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await t.cleanup();
});

async function join(nodeId: string, gpus: number): Promise<FakeAgent> {
  const a = new FakeAgent(t.clients.agents, nodeId);
  agents.push(a);
  a.register({ gpus });
  await a.next((m) => m.registered ?? undefined);
  return a;
}

const submit = (gpus: number): Promise<Session__Output> => unaryCall(t.clients.sessions, t.clients.sessions.Submit, { entry: 'main.py', workspace, gpus });
const get = (name: string): Promise<Session__Output> => unaryCall(t.clients.sessions, t.clients.sessions.Get, { name });

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}

describe('scheduling and AdminService', () => {
  it('shows why a session waits, and places it once GPUs free up', async () => {
    const agent = await join('n1', 2);
    const a = await submit(2);
    const b = await submit(2);
    const start = await agent.next((m) => (m.start?.session === a.name ? m.start : undefined));
    // The policy's wait reason becomes the session's reason (its wording belongs to the policy).
    const waiting = await eventually(() => get(b.name), (s) => s.reason.includes('GPU'));
    expect(waiting.state).toBe('queued');
    expect(waiting.reason).toMatch(/needs 2 GPUs/);
    agent.sendStatus(a.name, start.epoch, 0, 'exited', { exitCode: 0 });
    await agent.next((m) => (m.start?.session === b.name ? m.start : undefined));
  });

  it('lists nodes with their sessions; a drained node gets nothing new until undrained', async () => {
    const agent = await join('n1', 2);
    const a = await submit(1);
    await agent.next((m) => (m.start?.session === a.name ? m.start : undefined));
    const c = t.clients.admin;
    const drained = await unaryCall(c, c.DrainNode, { id: 'n1', reason: 'maintenance' }, 'ops', 10_000, true);
    expect(drained).toMatchObject({ state: 'draining', reason: 'maintenance', sessions: [a.name], allocatedGpus: [0] });
    const b = await submit(1);
    await new Promise((r) => setTimeout(r, 300));
    expect((await get(b.name)).state).toBe('queued');
    await unaryCall(c, c.DrainNode, { id: 'n1', undrain: true }, 'ops', 10_000, true);
    await agent.next((m) => (m.start?.session === b.name ? m.start : undefined));
    const nodes = await unaryCall(c, c.ListNodes, {});
    expect(nodes.nodes.map((n) => [n.id, n.state, n.inventory!.gpus.length])).toEqual([['n1', 'ready', 2]]);
    const err = await unaryCall(c, c.DrainNode, { id: 'nope' }, 'ops', 10_000, true).catch((e: unknown) => e);
    expect(errorCodeOf(err)).toBe('NSML_E_NODE_NOT_FOUND');
  });

  it('does not use a quarantined GPU or one held by a foreign process', async () => {
    const agent = await join('n1', 3);
    const gpus = fakeGpus(3);
    gpus[0]!.health = 'quarantined';
    gpus[1]!.processes = [{ pid: 9, name: 'other', usedMemoryMib: 100, session: '' }];
    agent.send({ heartbeat: { tsMs: Date.now(), gpus, running: [] } });
    await new Promise((r) => setTimeout(r, 100));
    const a = await submit(1);
    const start = await agent.next((m) => (m.start?.session === a.name ? m.start : undefined));
    expect(start.gpuIndices).toEqual([2]);
  });
});

describe('Health', () => {
  it('serves, and says NOT_SERVING through Watch when closing', async () => {
    const h = t.clients.health;
    const res = await unaryCall(h, h.Check, { service: '' });
    expect(res.status).toBe('SERVING');
    const unknown = await unaryCall(h, h.Check, { service: 'nope' }).catch((e: { code: number }) => e);
    expect((unknown as { code: number }).code).toBe(5);
    const seen: string[] = [];
    const watch = h.Watch({ service: 'nsml.v1.SessionService' });
    const ended = new Promise<void>((resolve) => {
      watch.on('data', (m: { status: string }) => seen.push(m.status));
      watch.on('end', resolve);
      watch.on('error', () => resolve());
    });
    await eventually(async () => seen.length, (n) => n > 0);
    const closing = t.coordinator.close();
    await ended;
    await closing;
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
  });
});
