import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueueEntry__Output, QueueResponse__Output, Session__Output, SubmitRequest } from '../../common/proto/types.js';
import { FakeAgent } from '../../test/harness/fake-agent.js';
import { errorCodeOf, startTestCoordinator, unaryCall, uploadWorkspace, type TestCoordinator } from '../../test/harness/test-coordinator.js';

let t: TestCoordinator;
let workspace: string;
let agent: FakeAgent;

beforeEach(async () => {
  t = await startTestCoordinator();
  workspace = await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n' });
  agent = new FakeAgent(t.clients.agents, 'n1');
  agent.register({ gpus: 2 });
  await agent.next((m) => m.registered ?? undefined);
});
afterEach(async () => {
  agent.close();
  await t.cleanup();
});

const c = () => t.clients.sessions;
const submit = async (req: SubmitRequest, user = 'alice') => unaryCall(c(), c().Submit, {
  entry: 'main.py', workspace: user === 'alice' ? workspace : await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n' }, user), ...req,
}, user) as Promise<Session__Output>;
/** Sessions of several users: read as an admin. */
const get = (name: string) => unaryCall(c(), c().Get, { name }, 'ops', 10_000, true) as Promise<Session__Output>;
const queue = (user = '') => unaryCall(c(), c().Queue, { user }) as Promise<QueueResponse__Output>;
const why = (name: string) => unaryCall(c(), c().QueueWhy, { name }, 'ops', 10_000, true) as Promise<QueueEntry__Output>;

async function started(name: string, epoch: number, from = 0): Promise<void> {
  await agent.next((m) => (m.start?.session === name && m.start.epoch === epoch ? m.start : undefined), 10_000, from);
  agent.sendStatus(name, epoch, 0, 'running');
  await waitState(name, 'running');
}

async function waitState(name: string, state: string): Promise<Session__Output> {
  for (let i = 0; i < 200; i++) {
    const s = await get(name);
    if (s.state === state) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name} never became ${state}`);
}

describe('Queue and QueueWhy', () => {
  it('lists the queue in the policy order with causes, filters by user, and explains one session', async () => {
    const holder = await submit({ gpus: 2, priority: 9 });
    await started(holder.name, 1);
    const mine = await submit({ gpus: 2 });
    const theirs = await submit({ gpus: 2, priority: 3 }, 'bob');
    const q = await queue();
    expect(q.policy).toBe('default');
    expect(q.entries.map((e) => [e.position, e.session, e.state])).toEqual([[1, theirs.name, 'waiting'], [2, mine.name, 'waiting']]);
    expect(q.entries[1]).toMatchObject({ reasonKind: 'priority', gpus: 2, priority: 0, user: 'alice' });
    expect((await queue('alice')).entries.map((e) => [e.position, e.session])).toEqual([[2, mine.name]]);
    expect(await why(mine.name)).toMatchObject({ position: 2, reasonKind: 'priority' });
  });

  it('answers for a session that is not queued with its state, and NSML_E_SESSION_NOT_FOUND for an unknown one', async () => {
    const s = await submit({ gpus: 1 });
    await started(s.name, 1);
    expect(await why(s.name)).toMatchObject({ position: 0, state: 'running', reasonKind: '' });
    const err = await why('alice/scratch/99').catch((e: unknown) => e);
    expect(errorCodeOf(err)).toBe('NSML_E_SESSION_NOT_FOUND');
  });
});

describe('preemption over the wire', () => {
  it('asks the victim to save and stop, requeues it under the same name, and Wait follows it to its real end', async () => {
    const low = await submit({ gpus: 2 });
    await started(low.name, 1);
    let waited: Session__Output | undefined;
    const waiting = (unaryCall(c(), c().Wait, { name: low.name, timeoutMs: 30_000 }, 'alice', 40_000) as Promise<Session__Output>).then((s) => (waited = s));

    const mark = agent.received.length;
    const high = await submit({ gpus: 2, priority: 10 }, 'bob');
    const stop = await agent.next((m) => (m.stop?.session === low.name ? m.stop : undefined), 10_000, mark);
    expect(stop).toMatchObject({ epoch: 1, checkpoint: true, graceMs: 200 });
    expect((await get(low.name)).reason).toBe(`preempting for ${high.name}`);
    expect((await why(high.name)).reason).toContain('checkpointing and stopping');

    agent.sendStatus(low.name, 1, 0, 'exited', { exitCode: -1, signal: 'SIGTERM' });
    await started(high.name, 1, mark);
    const requeued = await get(low.name);
    expect(requeued).toMatchObject({ state: 'queued', preemptions: 1 });
    expect(requeued.events.map((e) => e.state).slice(-2)).toEqual(['preempted', 'queued']);
    expect(waited).toBeUndefined();

    agent.sendStatus(high.name, 1, 0, 'exited', { exitCode: 0 });
    await started(low.name, 2, mark);
    agent.sendStatus(low.name, 2, 0, 'exited', { exitCode: 0 });
    await waiting;
    expect(waited).toMatchObject({ name: low.name, state: 'succeeded', epoch: 2, preemptions: 1 });
  });
});
