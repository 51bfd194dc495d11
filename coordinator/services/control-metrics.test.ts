import { afterEach, describe, expect, it } from 'vitest';
import type {
  ControlRequest, ControlResult__Output, MetricsRequest, MetricsResponse__Output, Session__Output, StartSession__Output,
} from '../../common/proto/types.js';
import { FakeAgent } from '../../test/harness/fake-agent.js';
import { errorCodeOf, startTestCoordinator, unaryCall, uploadWorkspace, type TestCoordinator } from '../../test/harness/test-coordinator.js';

let t: TestCoordinator | undefined;
const agents: FakeAgent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await t?.cleanup();
  t = undefined;
});

async function join(nodeId: string): Promise<FakeAgent> {
  const agent = new FakeAgent(t!.clients.agents, nodeId);
  agents.push(agent);
  agent.register({ gpus: 1 });
  await agent.next((m) => m.registered ?? undefined);
  return agent;
}

const control = (req: ControlRequest, user = 'alice') =>
  unaryCall<ControlRequest, ControlResult__Output>(t!.clients.sessions, t!.clients.sessions.Control, req, user, 30_000);
const metrics = (req: MetricsRequest) =>
  unaryCall<MetricsRequest, MetricsResponse__Output>(t!.clients.sessions, t!.clients.sessions.Metrics, req);
const get = (name: string) => unaryCall<{ name: string }, Session__Output>(t!.clients.sessions, t!.clients.sessions.Get, { name });

/** A running one-rank session on a fake agent. */
async function runningSession(): Promise<{ agent: FakeAgent; name: string }> {
  t = await startTestCoordinator();
  const workspace = await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n' });
  const agent = await join('n1');
  const s = await unaryCall<object, Session__Output>(t.clients.sessions, t.clients.sessions.Submit, { entry: 'main.py', workspace, gpus: 1 });
  await agent.next((m) => (m.start?.session === s.name ? (m.start as StartSession__Output) : undefined));
  agent.sendStatus(s.name, 1, 0, 'running');
  return { agent, name: s.name };
}

function sendMetrics(agent: FakeAgent, name: string, seq: number, values: Record<string, number>, summary = false): void {
  agent.send({ metricBatch: { session: name, epoch: 1, rank: 0, seq, records: [{ tsMs: Date.now(), step: seq, values, summary }], events: [], dropped: 0 } });
}

describe('SessionService.Control and Metrics over gRPC', () => {
  it('stores metrics (NaN and infinities included), acks them, and serves them with the summary', async () => {
    const { agent, name } = await runningSession();
    sendMetrics(agent, name, 1, { loss: 0.9, odd: NaN });
    sendMetrics(agent, name, 2, { loss: 0.5, odd: -Infinity });
    sendMetrics(agent, name, 2, { loss: 123 }); // a replay: ignored
    sendMetrics(agent, name, 3, { 'val/acc': 0.8, big: Infinity }, true);
    const ack = await agent.next((m) => (m.metricAck?.seq === 3 ? m.metricAck : undefined));
    expect(ack).toEqual({ session: name, epoch: 1, rank: 0, seq: 3 });
    const all = await metrics({ name });
    expect(all.points.filter((p) => p.key === 'loss').map((p) => p.value)).toEqual([0.9, 0.5]);
    expect(all.points.filter((p) => p.key === 'odd').map((p) => p.value)).toEqual([NaN, -Infinity]);
    expect(all.more).toBe(false);
    const page = await metrics({ name, key: 'loss', limit: 1 });
    expect(page.points.map((p) => p.value)).toEqual([0.9]);
    expect(page.more).toBe(true);
    const next = await metrics({ name, key: 'loss', fromCursor: page.nextCursor });
    expect(next.points.map((p) => p.value)).toEqual([0.5]);
    const latest = await metrics({ name, latest: true });
    expect(latest.points.map((p) => [p.key, p.value])).toEqual([['big', Infinity], ['loss', 0.5], ['odd', -Infinity], ['val/acc', 0.8]]);
    expect((await get(name)).summary).toEqual({ 'val/acc': 0.8, big: Infinity });
  });

  it('sends a command down the stream and answers with the script’s result', async () => {
    const { agent, name } = await runningSession();
    const answer = control({ name, command: 'set', argsJson: '{"values":{"lr":"0.01"}}' });
    const cmd = await agent.next((m) => m.command ?? undefined);
    expect(cmd).toMatchObject({ session: name, epoch: 1, rank: 0, name: 'set', argsJson: '{"values":{"lr":"0.01"}}' });
    agent.send({ commandResult: { session: name, epoch: 1, rank: 0, seq: 1, id: cmd.id, ok: true, step: 77, valueJson: '{"lr":0.01}' } });
    agent.send({
      metricBatch: {
        session: name, epoch: 1, rank: 0, seq: 2, records: [], dropped: 0,
        events: [{ tsMs: Date.now(), step: 77, kind: 'set', name: 'lr', valueJson: '0.01', oldJson: '0.1', session: '' }],
      },
    });
    const res = await answer;
    expect(res).toMatchObject({ id: cmd.id, state: 'applied', ok: true, step: 77, valueJson: '{"lr":0.01}' });
    expect(res.finishedMs).toBeGreaterThanOrEqual(res.createdMs);
    await agent.next((m) => (m.metricAck?.seq === 2 ? m.metricAck : undefined));
    const timeline = (await metrics({ name })).events;
    expect(timeline.map((e) => [e.kind, e.name, e.step, e.valueJson, e.oldJson])).toEqual([['set', 'lr', 77, '0.01', '0.1']]);
  });

  it('carries the script’s refusal, and refuses bad commands, other users and finished sessions', async () => {
    const { agent, name } = await runningSession();
    const answer = control({ name, command: 'set', argsJson: '{"values":{"nope":"1"}}' });
    const cmd = await agent.next((m) => m.command ?? undefined);
    const message = "unknown hyperparameter 'nope'; known: lr, momentum";
    agent.send({ commandResult: { session: name, epoch: 1, rank: 0, seq: 1, id: cmd.id, ok: false, step: 3, errorType: 'NsmlError', errorCode: 'NSML_E_INVALID_ARGUMENT', errorMessage: message } });
    expect(await answer).toMatchObject({ state: 'failed', ok: false, errorCode: 'NSML_E_INVALID_ARGUMENT', errorMessage: message });
    const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', errorCodeOf);
    expect(await codeOf(control({ name, command: 'rm', argsJson: '{}' }))).toBe('NSML_E_INVALID_ARGUMENT');
    expect(await codeOf(control({ name, command: 'get', argsJson: '{oops' }))).toBe('NSML_E_INVALID_ARGUMENT');
    expect(await codeOf(control({ name, command: 'get', argsJson: '{"name":"lr"}' }, 'bob'))).toBe('NSML_E_SESSION_NOT_FOUND');
    agent.sendStatus(name, 1, 0, 'exited', { exitCode: 0 });
    for (let i = 0; i < 100 && (await get(name)).state !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await codeOf(control({ name, command: 'get', argsJson: '{"name":"lr"}' }))).toBe('NSML_E_ALREADY_FINISHED');
  });

  it('keeps metrics and queued commands through a coordinator restart, and tells the agent what it stored', async () => {
    const { agent, name } = await runningSession();
    sendMetrics(agent, name, 1, { loss: 1 });
    sendMetrics(agent, name, 2, { loss: 0.5 });
    await agent.next((m) => (m.metricAck?.seq === 2 ? m.metricAck : undefined));
    const pending = control({ name, command: 'get', argsJson: '{"name":"lr"}', timeoutMs: 200 });
    const first = await agent.next((m) => m.command ?? undefined);
    expect((await pending).state).toBe('delivered');
    agent.close();
    await t!.restart();
    const again = new FakeAgent(t!.clients.agents, 'n1');
    agents.push(again);
    again.register({ gpus: 1, running: [{ session: name, epoch: 1, rank: 0, pid: 4242, state: 'running' }] });
    const registered = await again.next((m) => m.registered ?? undefined);
    expect(registered.metricAcks).toEqual([{ session: name, epoch: 1, rank: 0, seq: 2 }]);
    const resent = await again.next((m) => m.command ?? undefined);
    expect(resent.id).toBe(first.id);
    expect((await metrics({ name, key: 'loss' })).points.map((p) => p.value)).toEqual([1, 0.5]);
  });
});
