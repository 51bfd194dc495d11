import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import type { AgentMessage, CommandResult, SessionCommand__Output } from '../../common/proto/types.js';
import { runPython, type PythonRun } from '../bridge/test-fixtures/python.js';
import type { StreamLink } from '../connection/connection.js';
import type { RankPhase } from '../runner/rank-runner.js';
import { rankKeyString, type RankSpec } from '../runner/rank-spec.js';
import { SessionDir } from '../runner/session-dir.js';
import { SessionBridges } from './session-bridges.js';
import { shipJournal } from '../testing/telemetry-link.js';

const SPEC: RankSpec = {
  session: 'alice/scratch/7', epoch: 2, rank: 0, worldSize: 1, localWorldSize: 1, nodeRank: 0, gpuIndices: [], entry: 'main.py',
  args: [], env: {}, workspace: '', masterAddr: '127.0.0.1', masterPort: 29500, dataset: '', user: 'alice',
};

class Link implements StreamLink {
  readonly sent: AgentMessage[] = [];
  open = true;
  private waiters: Array<() => void> = [];
  send(m: AgentMessage): boolean {
    this.sent.push(m);
    for (const w of this.waiters.splice(0)) w();
    return true;
  }
  results(): CommandResult[] {
    return this.sent.flatMap((m) => (m.commandResult ? [m.commandResult] : []));
  }
  maxStep(): number {
    return Math.max(-1, ...this.sent.flatMap((m) => m.metricBatch?.records?.map((r) => Number(r.step)) ?? []));
  }
  async until<T>(pick: () => T | undefined, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = pick();
      if (got !== undefined) return got;
      if (Date.now() > deadline) throw new Error(`timed out; sent ${JSON.stringify(this.sent.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

let root: string | undefined;
let bridges: SessionBridges | undefined;
let script: PythonRun | undefined;
let stopShipping: (() => void) | undefined;

afterEach(async () => {
  if (script && script.child.exitCode === null) script.child.kill('SIGKILL');
  await script?.exit;
  await bridges?.closeAll();
  stopShipping?.();
  stopShipping = undefined;
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
  bridges = undefined;
  script = undefined;
});

function setup(phase: RankPhase | undefined = 'running') {
  root = mkdtempSync(join(tmpdir(), 'nsml-sb-'));
  const dir = new SessionDir(join(root, 'r'));
  const link = new Link();
  const journal = shipJournal(SPEC, dir, link, (key, r) => bridges?.takeOwn(key, r) ?? false);
  stopShipping = journal.close;
  const telemetry = journal.shipper;
  const phases = new Map<string, RankPhase>(phase ? [[rankKeyString(SPEC), phase]] : []);
  bridges = new SessionBridges({ telemetry, logger: silentLogger, rankPhase: (key) => phases.get(key) });
  return { dir, link, telemetry, b: bridges };
}

function command(id: string, name: string, args: unknown, extra: Partial<SessionCommand__Output> = {}): SessionCommand__Output {
  return { id, session: SPEC.session, epoch: SPEC.epoch, rank: SPEC.rank, name, argsJson: JSON.stringify(args), ...extra } as SessionCommand__Output;
}

describe('SessionBridges with the real SDK', () => {
  it('serves the socket before the script starts, ships its metrics, and applies each command once', async () => {
    const { dir, link, b } = setup();
    b.deliver(command('c-1', 'set', { values: { lr: '0.01' } })); // before the bridge is open: waits for it
    await b.open(SPEC, dir);
    expect(existsSync(dir.socket)).toBe(true);
    script = runPython('sdk-commands.py', [], { NSML_AGENT_SOCKET: dir.socket, NSML_SESSION: SPEC.session, NSML_FLUSH_INTERVAL_MS: '50' }, root!);
    const first = await link.until(() => link.results().find((r) => r.id === 'c-1'));
    expect(first).toMatchObject({ session: SPEC.session, epoch: 2, rank: 0, ok: true, valueJson: '{"lr":0.01}' });
    b.deliver(command('c-1', 'set', { values: { lr: '0.01' } })); // redelivered after a reconnect: not applied again
    b.deliver(command('c-2', 'get', { name: 'lr' }));
    const second = await link.until(() => link.results().find((r) => r.id === 'c-2'));
    expect(second.valueJson).toBe('0.01');
    expect(link.results().filter((r) => r.id === 'c-1')).toHaveLength(1);
    expect(script.stdout().match(/lr -> /g)).toHaveLength(1);
    const events = link.sent.flatMap((m) => m.metricBatch?.events ?? []);
    expect(events.map((e) => [e.kind, e.name, e.valueJson, e.oldJson])).toEqual([['set', 'lr', '0.01', '0.1']]);
    expect(link.maxStep()).toBeGreaterThan(0);
  });

  it('applies a set with at_step at that step, and carries a script error back (through the journal)', async () => {
    const { dir, link, b } = setup();
    await b.open(SPEC, dir);
    script = runPython('sdk-commands.py', [], { NSML_AGENT_SOCKET: dir.socket, NSML_TELEMETRY_FILE: dir.telemetry, NSML_SESSION: SPEC.session, NSML_FLUSH_INTERVAL_MS: '50' }, root!);
    await link.until(() => (link.maxStep() >= 5 ? true : undefined));
    const atStep = link.maxStep() + 40;
    b.deliver(command('c-3', 'set', { values: { lr: '0.5' } }, { atStep }));
    const applied = await link.until(() => link.results().find((r) => r.id === 'c-3'));
    expect(applied.step).toBe(atStep);
    b.deliver(command('c-4', 'call', { name: 'explode' }));
    const failed = await link.until(() => link.results().find((r) => r.id === 'c-4'));
    expect(failed).toMatchObject({ ok: false, errorType: 'ValueError', errorMessage: 'no such thing' });
    expect(failed.traceback).toContain('ValueError');
  });

  it('answers for the agent what it cannot deliver, and closes the socket with the rank', async () => {
    const { dir, link, b } = setup();
    await b.open(SPEC, dir);
    b.deliver(command('c-5', 'get', { name: 'lr' }, { rank: 3 }));
    b.deliver(command('c-6', 'rm', {}));
    expect(link.results().map((r) => [r.id, r.ok, r.seq, r.errorCode])).toEqual([
      ['c-5', false, 0, 'NSML_E_AGENT_UNAVAILABLE'], ['c-6', false, 0, 'NSML_E_INVALID_ARGUMENT'],
    ]);
    expect(link.results()[0]!.errorMessage).toMatch(/does not run rank 3/);
    b.deliver(command('c-7', 'get', { name: 'lr' })); // queued by the bridge: the script never connects
    await b.close(SPEC);
    expect(existsSync(dir.socket)).toBe(false);
    expect(b.getStatus()).toMatchObject({ open: 0, commandsDelivered: 1 });
  });
});
