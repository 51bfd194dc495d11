import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/log.js';
import type { AgentMessage__Output } from '../common/proto/types.js';
import type { GpuProbe } from './gpu/types.js';
import { startAgent, type Agent, type AgentOptions } from './main.js';
import { FakeCoordinator } from './testing/fake-coordinator.js';
import { RunnerFixture, eventually } from './testing/runner-fixture.js';

const noGpu: GpuProbe = { read: async () => ({ gpus: [] }), close: () => {} };
const SESSION = 'dave/scratch/1';

function counting(count: number, perSecond: number, code = 0): string {
  return `import sys, time\nfor i in range(1, ${count + 1}):\n    print(f"line {i}", flush=True)\n    time.sleep(${1 / perSecond})\nsys.exit(${code})\n`;
}

/** The messages of one stream, in order. */
function streamMessages(coord: FakeCoordinator, stream: number): AgentMessage__Output[] {
  return coord.received.filter((r) => r.stream === stream).map((r) => r.message);
}

/** Seqs sent on one stream, in order. */
function seqsOn(coord: FakeCoordinator, stream: number): number[] {
  return streamMessages(coord, stream).flatMap((m) => m.logBatch?.lines.map((l) => l.seq) ?? []);
}

/** The seq that `registered` said was stored, on one stream. */
function ackedAtRegistration(coord: FakeCoordinator, stream: number): number {
  return coord.registeredSent.find((r) => r.stream === stream)?.logAcks.find((a) => a.session === SESSION)?.seq ?? 0;
}

/** The ordering rule: on each stream, no log line of the rank after its exited. */
function expectNoLinesAfterExit(coord: FakeCoordinator, stream: number): void {
  const bodies = streamMessages(coord, stream);
  const exitedAt = bodies.findIndex((m) => m.sessionStatus?.state === 'exited');
  if (exitedAt < 0) return;
  expect(bodies.slice(exitedAt + 1).some((m) => m.logBatch)).toBe(false);
}

describe('the agent across disconnects and restarts', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(extra: Partial<AgentOptions> = {}): Promise<{ coord: FakeCoordinator; f: RunnerFixture; start: () => Promise<Agent> }> {
    const f = new RunnerFixture();
    cleanups.push(() => f.cleanup());
    const coord = await FakeCoordinator.start({ heartbeatIntervalMs: 50 });
    cleanups.push(() => coord.stop());
    const start = async () => {
      const agent = await startAgent({
        coordinator: coord.address, dataDir: join(f.dir, 'agent'), gpuProbe: noGpu, blobSource: f.source,
        sdkPath: join(f.dir, 'sdk'), logger: silentLogger, reconnectMinMs: 20, reconnectMaxMs: 100, logFlushMs: 20, ...extra,
      });
      cleanups.push(async () => {
        await agent.stopAllSessions(0);
        await agent.destroy();
      });
      return agent;
    };
    return { coord, f, start };
  }

  function sendStart(coord: FakeCoordinator, workspace: string, args: string[] = []): void {
    coord.send({ start: { session: SESSION, epoch: 1, rank: 0, worldSize: 1, workspace, entry: 'main.py', args, user: 'dave' } });
  }
  const exitedStatus = (coord: FakeCoordinator) => coord.messages('sessionStatus').find((m) => m.sessionStatus?.state === 'exited')?.sessionStatus;

  it('replays what the coordinator missed while it was down, from its acknowledged seq, with nothing repeated', async () => {
    const { coord, f, start } = await setup();
    await start();
    await coord.waitFor(() => coord.messages('register').length === 1, 'register');
    sendStart(coord, f.workspace({ 'main.py': counting(80, 100) }));
    await coord.waitFor(() => coord.ackOf(SESSION, 1, 0) >= 10, 'some lines stored');
    await coord.stop();
    await new Promise((r) => setTimeout(r, 300)); // the session prints while nobody listens
    await coord.restart();
    await coord.waitFor(() => exitedStatus(coord), 'exited', 20_000);

    expect(coord.lines(SESSION, 1, 0).map((l) => l.text)).toEqual(Array.from({ length: 80 }, (_, i) => `line ${i + 1}`));
    const lastStream = Math.max(...coord.received.map((r) => r.stream));
    const replayed = seqsOn(coord, lastStream);
    expect(replayed[0]).toBe(ackedAtRegistration(coord, lastStream) + 1);
    expect(ackedAtRegistration(coord, lastStream)).toBeGreaterThanOrEqual(10);
    expect(new Set(replayed).size).toBe(replayed.length);
    for (let s = 1; s <= lastStream; s += 1) expectNoLinesAfterExit(coord, s);
  });

  it('lists a rank that ended while disconnected as running until its lines are replayed, then tells its end', async () => {
    const { coord, f, start } = await setup();
    const agent = await start();
    await coord.waitFor(() => coord.messages('register').length === 1, 'register');
    sendStart(coord, f.workspace({ 'main.py': 'import time, sys\nprint("begin", flush=True)\ntime.sleep(0.4)\nprint("end", flush=True)\nsys.exit(4)\n' }));
    await coord.waitFor(() => coord.lines(SESSION, 1, 0).length === 1, 'the first line');
    await coord.stop();
    await eventually(() => agent.getStatus().sessions[0]?.phase === 'exited', 'the process to end');
    await coord.restart();
    await coord.waitFor(() => exitedStatus(coord), 'exited');

    const register = coord.messages('register')[1]!.register!;
    expect(register.running).toEqual([expect.objectContaining({ session: SESSION, epoch: 1, rank: 0, state: 'running' })]);
    const stream = coord.received.find((r) => r.message.register === register)!.stream;
    const bodies = streamMessages(coord, stream).filter((m) => m.logBatch || m.sessionStatus);
    expect(bodies.map((m) => m.body)).toEqual(['logBatch', 'sessionStatus']);
    expect(bodies[0]!.logBatch!.lines.map((l) => l.text)).toEqual(['end']);
    expect(bodies[1]!.sessionStatus).toMatchObject({ state: 'exited', exitCode: 4 });
  });

  it('lists a finished rank whose lines are all stored as exited, with its exit code', async () => {
    const { coord, f, start } = await setup();
    await start();
    await coord.waitFor(() => coord.messages('register').length === 1, 'register');
    sendStart(coord, f.workspace({ 'main.py': 'print("only", flush=True)\nraise SystemExit(2)\n' }));
    await coord.waitFor(() => exitedStatus(coord), 'exited');
    await coord.waitFor(() => coord.ackOf(SESSION, 1, 0) === 1, 'the ack');
    await new Promise((r) => setTimeout(r, 100)); // the ack reaches the agent
    await coord.stop();
    await coord.restart();
    const register = await coord.waitFor(() => coord.messages('register')[1]?.register, 'register again');
    expect(register.running).toEqual([expect.objectContaining({ session: SESSION, state: 'exited', exitCode: 2 })]);
  });

  it('re-adopts a running session after an agent restart and ships the rest of its lines once', async () => {
    const { coord, f, start } = await setup();
    const first = await start();
    await coord.waitFor(() => coord.messages('register').length === 1, 'register');
    sendStart(coord, f.workspace({ 'main.py': counting(60, 60, 6) }));
    await coord.waitFor(() => coord.ackOf(SESSION, 1, 0) >= 5, 'some lines stored');
    const pid = first.getStatus().sessions[0]!.pid;
    await first.destroy(); // like kill -9: the session keeps running
    await start();
    const register = await coord.waitFor(() => coord.messages('register')[1]?.register, 'register from the new agent');
    expect(register.running).toEqual([expect.objectContaining({ session: SESSION, state: 'running', pid })]);
    await coord.waitFor(() => exitedStatus(coord), 'exited', 20_000);
    expect(exitedStatus(coord)).toMatchObject({ exitCode: 6 });
    expect(coord.lines(SESSION, 1, 0).map((l) => l.text)).toEqual(Array.from({ length: 60 }, (_, i) => `line ${i + 1}`));
    const stream = coord.received.find((r) => r.message.register === register)!.stream;
    const seqs = seqsOn(coord, stream);
    expect(seqs[0]).toBe(ackedAtRegistration(coord, stream) + 1);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('stops a session when the coordinator says so, and reports the signal', async () => {
    const { coord, f, start } = await setup();
    await start();
    await coord.waitFor(() => coord.messages('register').length === 1, 'register');
    sendStart(coord, f.fixture('forever.py'));
    await coord.waitFor(() => coord.lines(SESSION, 1, 0).length === 1, 'ready');
    coord.send({ stop: { session: SESSION, epoch: 1, graceMs: 5_000, reason: 'stopped by dave' } });
    const exited = await coord.waitFor(() => exitedStatus(coord), 'exited');
    expect(exited).toMatchObject({ exitCode: -1, signal: 'SIGTERM' });
  });

  it('forgets a finished rank once its end was told and its lines stored, removing its folder', async () => {
    const { coord, f, start } = await setup({ finishedConfirmMs: 50 });
    const agent = await start();
    await coord.waitFor(() => coord.messages('register').length === 1, 'register');
    sendStart(coord, f.workspace({ 'main.py': 'print("bye")\n' }));
    await coord.waitFor(() => exitedStatus(coord), 'exited');
    const folder = join(f.dir, 'agent', 'sessions', 'dave+scratch+1+e1+r0');
    await eventually(() => agent.getStatus().sessions.length === 0, 'the rank to be forgotten');
    await eventually(() => !existsSync(folder), 'its folder to be removed');
    await coord.stop();
    await coord.restart();
    const register = await coord.waitFor(() => coord.messages('register')[1]?.register, 'register again');
    expect(register.running).toEqual([]);
  });

  it('sends no more than maxUnackedLines ahead of the acknowledgements', async () => {
    const { coord, f, start } = await setup({ maxUnackedLines: 100 });
    await start();
    await coord.waitFor(() => coord.messages('register').length === 1, 'register');
    coord.autoAck = false;
    sendStart(coord, f.fixture('spam-stdout.py', {}), ['1000']);
    await coord.waitFor(() => coord.lines(SESSION, 1, 0).length === 100, '100 lines');
    await new Promise((r) => setTimeout(r, 200));
    expect(coord.lines(SESSION, 1, 0)).toHaveLength(100);
    expect(exitedStatus(coord)).toBeUndefined();
    coord.autoAck = true;
    coord.send({ logAck: { session: SESSION, rank: 0, seq: 100 } });
    await coord.waitFor(() => exitedStatus(coord), 'exited');
    expect(coord.lines(SESSION, 1, 0).map((l) => l.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });
});
