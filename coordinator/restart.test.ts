import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogLine__Output, Session__Output } from '../common/proto/types.js';
import { FakeAgent } from '../test/harness/fake-agent.js';
import { startTestCoordinator, unaryCall, uploadWorkspace, userMd, type TestCoordinator } from '../test/harness/test-coordinator.js';

let t: TestCoordinator | undefined;
const agents: FakeAgent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await t?.cleanup();
  t = undefined;
});

async function connect(nodeId: string, running: NonNullable<NonNullable<Parameters<FakeAgent['register']>[0]>['running']> = []) {
  const agent = new FakeAgent(t!.clients.agents, nodeId);
  agents.push(agent);
  agent.register({ gpus: 1, running });
  const registered = await agent.next((m) => m.registered ?? undefined);
  return { agent, registered };
}

const get = (name: string): Promise<Session__Output> => unaryCall(t!.clients.sessions, t!.clients.sessions.Get, { name });

async function until(name: string, state: string): Promise<void> {
  for (let i = 0; i < 200 && (await get(name)).state !== state; i++) await new Promise((r) => setTimeout(r, 50));
  expect((await get(name)).state).toBe(state);
}

function logs(name: string): Promise<LogLine__Output[]> {
  const call = t!.clients.sessions.Logs({ name, follow: true, rank: -1 }, userMd(), { deadline: new Date(Date.now() + 20_000) });
  const lines: LogLine__Output[] = [];
  return new Promise((resolve, reject) => {
    call.on('data', (l: LogLine__Output) => lines.push(l));
    call.on('end', () => resolve(lines));
    call.on('error', (e: grpc.ServiceError) => reject(e));
  });
}

async function startRunning(): Promise<{ name: string; agent: FakeAgent }> {
  t = await startTestCoordinator({ heartbeatTimeoutMs: 1500 });
  const workspace = await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n' });
  const { agent } = await connect('n1');
  const s = await unaryCall(t.clients.sessions, t.clients.sessions.Submit, { entry: 'main.py', workspace, gpus: 1 });
  await agent.next((m) => (m.start?.session === s.name ? m.start : undefined));
  agent.sendStatus(s.name, 1, 0, 'running');
  agent.logs(s.name, 1, 0, [1, 2, 3].map((seq) => ({ seq, text: `line ${seq}` })));
  await agent.next((m) => (m.logAck?.seq === 3 ? m.logAck : undefined));
  await until(s.name, 'running');
  return { name: s.name, agent };
}

describe('coordinator restart', () => {
  it.each(['close', 'destroy'] as const)('after %s, the agent reconnects and the session finishes with complete logs', async (how) => {
    const { name, agent } = await startRunning();
    if (how === 'close') await t!.coordinator.close();
    else t!.coordinator.destroy();
    await agent.waitEnded();
    await t!.restart();
    expect((await get(name)).state).toBe('running');
    const { agent: again, registered } = await connect('n1', [{ session: name, epoch: 1, rank: 0, pid: 7, state: 'running' }]);
    expect(registered.logAcks).toEqual([{ session: name, rank: 0, seq: 3 }]);
    const follower = logs(name);
    again.logs(name, 1, 0, [3, 4, 5].map((seq) => ({ seq, text: `line ${seq}` })));
    again.sendStatus(name, 1, 0, 'exited', { exitCode: 0 });
    const lines = await follower;
    expect(lines.map((l) => l.text)).toEqual([1, 2, 3, 4, 5].map((n) => `line ${n}`));
    expect((await get(name)).state).toBe('succeeded');
    expect(again.received.some((m) => m.stop)).toBe(false);
  });

  it('a node that does not come back after a restart is down after one full timeout', async () => {
    const { name, agent } = await startRunning();
    await t!.coordinator.close();
    await agent.waitEnded();
    await t!.restart();
    const s = await unaryCall(t!.clients.sessions, t!.clients.sessions.Wait, { name, timeoutMs: 10_000 }, 'alice', 15_000);
    expect(s.state).toBe('lost');
    const events = (await get(name)).events;
    const lostAt = events[events.length - 1]!.tsMs;
    expect(lostAt - t!.coordinator.getStatus().startedAtMs).toBeGreaterThanOrEqual(1500);
  });
});
