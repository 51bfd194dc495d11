import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

/** Reports every 10 ms with a falling loss, has hyperparameters an operator may change and a command. */
const TRAIN = `import math, sys, time
import nsml

steps = int(sys.argv[1])
nsml.hparams.update({"lr": 0.1, "momentum": 0.9})
live = {"lr": nsml.hparams["lr"]}


@nsml.on_change("lr")
def lr_changed(value):
    live["lr"] = value
    print(f"lr changed to {value}", flush=True)


@nsml.command
def evaluate(scale=1):
    return {"val_acc": 0.5 * scale}


def load(path):
    print(f"loaded lr {open(path).read()}", flush=True)


nsml.bind(save=lambda path: open(path, "w").write(str(live["lr"])), load=load)


reported = 0
for step in range(1, steps + 1):
    loss = 2.0 / math.sqrt(step)
    nsml.report(step=step, train__loss=loss, lr=live["lr"], scope=locals())
    reported += 1
    if step % 20 == 0:
        nsml.report(summary=True, step=step, val__acc=round(1 - loss / 4, 4))
    if step == 3:
        nsml.report(step=step, odd=float("nan"), big=float("inf"))
    time.sleep(0.01)
print(f"reported {reported} train/loss values", flush=True)
`;

interface Point {
  rank: number;
  step: number;
  key: string;
  value: number | string;
}

interface MetricsJson {
  points: Point[];
  events: Array<{ kind: string; name: string; value: unknown; old: unknown; step: number | null }>;
  dropped: number;
}

interface ControlJson {
  state: string;
  ok: boolean;
  step?: number;
  atStep?: number;
  value: unknown;
  ranks: Array<{ rank: number; state: string; step?: number }>;
}

interface SessionJson {
  name: string;
  state: string;
  summary?: Record<string, number>;
}

describe('metrics and the command queue, end to end', () => {
  let c: TestCluster;
  const workspaces: string[] = [];
  beforeAll(async () => {
    c = await TestCluster.start({ agents: 2, gpusPerAgent: 1 });
  });
  afterAll(async () => {
    await c?.destroy();
    for (const ws of workspaces) rmSync(ws, { recursive: true, force: true });
  });

  async function submit(steps: number, flags: string[] = []): Promise<string> {
    const ws = makeWorkspace({ 'main.py': TRAIN });
    workspaces.push(ws);
    const run = await c.nsml(['run', '--detach', '--json', '-a', String(steps), ...flags], { cwd: ws });
    expect(run.exitCode, run.stderr).toBe(0);
    return (JSON.parse(run.stdout) as { name: string }).name;
  }

  const metrics = (name: string, ...flags: string[]) => c.nsmlJson<MetricsJson>(['metrics', name, ...flags]);

  async function waitForPoints(name: string, key: string, count: number): Promise<Point[]> {
    let points: Point[] = [];
    await c.waitFor(async () => (points = (await metrics(name, '--key', key)).points).length >= count, `${count} values of ${key}`, 60_000);
    return points;
  }

  it('shows falling loss and summaries, applies set/get/call at a step, refuses what it must', async () => {
    const name = await submit(100_000);
    const loss = await waitForPoints(name, 'train/loss', 30);
    expect(loss[0]!.step).toBe(1);
    expect(Number(loss[loss.length - 1]!.value)).toBeLessThan(Number(loss[0]!.value));
    const table = await c.nsml(['metrics', name, '--key', 'train/loss']);
    expect(table.stdout.split('\n')[0]).toMatch(/^STEP\s+TIME\s+KEY\s+VALUE$/);
    const typo = await c.nsml(['metrics', name, '--key', 'train/los']);
    expect(typo.stderr).toMatch(/has no values of train\/los yet; the keys it has: .*train\/loss/);
    expect((await metrics(name, '--key', 'odd')).points.map((p) => p.value)).toEqual(['NaN']);
    expect((await metrics(name, '--key', 'big')).points.map((p) => p.value)).toEqual(['Infinity']);

    await c.waitFor(async () => {
      const s = (await c.nsmlJson<SessionJson[]>(['ps'])).find((x) => x.name === name);
      return (s?.summary?.['val/acc'] ?? 0) > 0;
    }, 'a summary value in nsml ps', 30_000);
    expect((await c.nsml(['ps'])).stdout).toMatch(/SUMMARY[\s\S]*val\/acc=0\.\d+/);

    const set = await c.nsmlJson<ControlJson>(['control', name, 'set', 'lr=0.01']);
    expect(set).toMatchObject({ state: 'applied', ok: true, value: { lr: 0.01 } });
    const applied = set.step!;
    expect(applied).toBeGreaterThan(0);
    const human = await c.nsml(['control', name, 'get', 'lr']);
    expect(human.stdout).toMatch(/^lr = 0\.01 \(at step \d+\)/);
    let lrPoints: MetricsJson = { points: [], events: [], dropped: 0 };
    await c.waitFor(async () => (lrPoints = await metrics(name, '--key', 'lr')).points.some((p) => p.step > applied), 'a report after the change');
    for (const p of lrPoints.points) expect(p.value).toBe(p.step > applied ? 0.01 : 0.1);
    expect(lrPoints.events.filter((e) => e.kind === 'set').map((e) => [e.name, e.value, e.old, e.step])).toEqual([['lr', 0.01, 0.1, applied]]);

    const call = await c.nsmlJson<ControlJson>(['control', name, 'call', 'evaluate', '{"scale": 2}']);
    expect(call).toMatchObject({ state: 'applied', value: { val_acc: 1 } });
    const save = await c.nsml(['control', name, 'save', 'best']);
    expect(save.stdout, save.stderr).toMatch(/^saved checkpoint best at step \d+/);
    const load = await c.nsmlJson<ControlJson>(['control', name, 'load', 'best']);
    expect(load).toMatchObject({ state: 'applied', value: { checkpoint: 'best' } });

    const unknown = await c.nsml(['control', name, 'set', 'nope=1']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('NSML_E_INVALID_ARGUMENT');
    expect(unknown.stderr).toContain("unknown hyperparameter 'nope'; known: lr, momentum");

    const stop = await c.nsml(['control', name, 'stop']);
    expect(stop.stdout).toMatch(/^stop applied at step \d+/);
    const wait = await c.nsml(['wait', name]);
    expect(wait.exitCode, wait.stdout).toBe(0);
    const logs = (await c.nsml(['logs', name])).stdout;
    expect(logs).toContain('lr changed to 0.01');
    expect(logs).toContain('loaded lr 0.01');

    const late = await c.nsml(['control', name, 'get', 'lr']);
    expect(late.exitCode).toBe(1);
    expect(late.stderr).toContain('NSML_E_ALREADY_FINISHED');
  }, 180_000);

  it('loses no metric when the coordinator is killed with -9 and restarted mid-run', async () => {
    const steps = 800;
    const name = await submit(steps);
    await waitForPoints(name, 'train/loss', 100);
    await c.killCoordinator();
    await new Promise((r) => setTimeout(r, 1_500)); // the script keeps reporting while nobody listens
    await c.startCoordinator('3s');
    const wait = await c.nsml(['wait', name], { timeoutMs: 120_000 });
    expect(wait.exitCode, wait.stdout + wait.stderr).toBe(0);
    expect((await c.nsml(['logs', name])).stdout).toContain(`reported ${steps} train/loss values`);
    const stored = await metrics(name, '--key', 'train/loss');
    expect(stored.points.map((p) => p.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    expect(stored.dropped).toBe(0);
  }, 180_000);

  it('applies a set at the same step on every rank of a two-node gang', async () => {
    const name = await submit(100_000, ['-g', '2', '--gpus-per-node', '1']);
    await c.waitFor(async () => new Set((await metrics(name, '--key', 'train/loss')).points.map((p) => p.rank)).size === 2, 'both ranks to report', 60_000);
    const set = await c.nsmlJson<ControlJson>(['control', name, 'set', 'lr=0.02']);
    expect(set.state).toBe('applied');
    expect(set.ranks.map((r) => r.rank)).toEqual([0, 1]);
    expect(set.atStep).toBeGreaterThan(0);
    expect(set.ranks.map((r) => r.step)).toEqual([set.atStep, set.atStep]);
    const stop = await c.nsml(['control', name, 'stop']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    const wait = await c.nsml(['wait', name]);
    expect(wait.exitCode, wait.stdout).toBe(0);
    const lr = (await metrics(name, '--key', 'lr')).points;
    for (const rank of [0, 1]) {
      const mine = lr.filter((p) => p.rank === rank);
      expect(mine.some((p) => p.step > set.atStep!)).toBe(true);
      for (const p of mine) expect([p.step, p.value]).toEqual([p.step, p.step > set.atStep! ? 0.02 : 0.1]);
    }
  }, 180_000);
});
