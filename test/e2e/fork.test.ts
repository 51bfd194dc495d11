import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster, type CliResult } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

/**
 * A script shaped like NAVER's 2018 baselines: a file-style bound save/load, the reserved
 * `--pause` and `--iteration` arguments, `nsml.paused(scope=locals())`, a checkpoint per epoch.
 * After a pause it goes on from the epoch after the one it loaded.
 */
const SCRIPT = `import argparse, json, time
import nsml

state = {"epoch": -1, "weights": ""}

def bind_model():
    def save(filename, *args):
        with open(filename, "w") as f:
            json.dump(state, f)

    def load(filename, *args):
        with open(filename) as f:
            state.update(json.load(f))
        print("loaded checkpoint of epoch %d (%s)" % (state["epoch"], state["weights"]), flush=True)

    nsml.bind(save=save, load=load)

args = argparse.ArgumentParser()
args.add_argument("--mode", type=str, default="train")
args.add_argument("--pause", type=int, default=0)
args.add_argument("--iteration", type=str, default="0")
args.add_argument("--epochs", type=int, default=3)
args.add_argument("--sleep", type=float, default=0)
config = args.parse_args()

bind_model()
if config.pause:
    nsml.paused(scope=locals())

start = state["epoch"] + 1
print("training from epoch %d (pause=%d iteration=%s)" % (start, config.pause, config.iteration), flush=True)
for epoch in range(start, config.epochs):
    state["epoch"] = epoch
    state["weights"] = "w%d" % epoch
    nsml.report(summary=True, step=epoch, epoch=epoch, train__loss=1.0 / (epoch + 1))
    nsml.save(epoch)
    print("saved epoch %d" % epoch, flush=True)
time.sleep(config.sleep)
print("done at epoch %d" % state["epoch"], flush=True)
`;

interface SessionJson {
  name: string;
  state: string;
  reason: string;
  kind: string;
  parent: string;
  checkpoint: string;
  args: string[];
  dataset: string;
}

/** The session of a `--json` run, fork or resume (its logs went to stderr). */
function sessionOf(r: CliResult): SessionJson & { log: string } {
  if (!r.stdout.trim().startsWith('{')) throw new Error(`exit ${r.exitCode}:\n${r.stderr}\n${r.stdout}`);
  const out = JSON.parse(r.stdout) as { session: SessionJson };
  return { ...out.session, log: r.stderr };
}

describe('fork, resume and time limits end to end', () => {
  let cluster: TestCluster;
  let ws: string;
  let parent: SessionJson & { log: string };

  beforeAll(async () => {
    cluster = await TestCluster.start({ agents: 1 });
    ws = makeWorkspace({ 'main.py': SCRIPT }, cluster.dir);
    parent = sessionOf(await cluster.nsml(['run', '-a', '--epochs 3', '-m', 'baseline', '--json'], { cwd: ws, timeoutMs: 90_000 }));
  }, 150_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('the parent saved checkpoints 0, 1 and 2', async () => {
    expect(parent.state, parent.log).toBe('succeeded');
    expect(parent.kind).toBe('normal');
    const listed = await cluster.nsmlJson<Array<{ name: string }>>(['model', 'ls', parent.name]);
    expect(listed.map((c) => c.name).sort()).toEqual(['0', '1', '2']);
  });

  it('`nsml fork S -c 1` loads checkpoint 1 through the bound load and goes on from epoch 2', async () => {
    const fork = sessionOf(await cluster.nsml(['fork', parent.name, '-c', '1', '--json'], { timeoutMs: 90_000 }));
    expect(fork.state, fork.log).toBe('succeeded');
    expect(fork).toMatchObject({ kind: 'fork', parent: parent.name, checkpoint: '1' });
    expect(fork.args).toEqual(['--epochs', '3', '--pause', '1', '--iteration', '1']);
    expect(fork.log).toContain('loaded checkpoint of epoch 1 (w1)');
    expect(fork.log).toContain('training from epoch 2 (pause=1 iteration=1)');
    expect(fork.log).toContain('saved epoch 2');
    expect(fork.log).not.toContain('saved epoch 1');
    const own = await cluster.nsmlJson<Array<{ name: string }>>(['model', 'ls', fork.name]);
    expect(own.map((c) => c.name)).toEqual(['2']);

    const table = (await cluster.nsml(['ps', '-a'])).stdout.split('\n');
    expect(table[0]).toMatch(/^NAME\s+STATE\s+TYPE\s+GPUS\s+NODES\s+CREATED\s+DURATION\s+PARENT\s+SUMMARY\s+REASON\/MEMO$/);
    const row = table.find((l) => l.startsWith(`${fork.name} `))!;
    expect(row).toMatch(new RegExp(`^${fork.name}\\s+succeeded\\s+fork\\s+0\\s+node1\\s+.*\\s${parent.name}\\s`));
    expect(table.find((l) => l.startsWith(`${parent.name} `))).toMatch(/\ssucceeded\s+normal\s/);
  });

  it('refuses a checkpoint that does not exist, naming those that do', async () => {
    const r = await cluster.nsml(['fork', parent.name, '-c', '7']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^nsml: NSML_E_NOT_FOUND: checkpoint "7" of session .* does not exist; existing: 2, 1, 0/);
  });

  it('`nsml resume S` continues from the newest checkpoint with the same arguments', async () => {
    const resumed = sessionOf(await cluster.nsml(['resume', parent.name, '--json'], { timeoutMs: 90_000 }));
    expect(resumed.state, resumed.log).toBe('succeeded');
    expect(resumed).toMatchObject({ kind: 'resume', parent: parent.name, checkpoint: '2' });
    expect(resumed.log).toContain('loaded checkpoint of epoch 2 (w2)');
    expect(resumed.log).toContain('done at epoch 2');
  });

  it('`nsml run --session S --pause 1 --iteration 0` forks from this directory\'s code', async () => {
    const args = ['run', '--session', parent.name, '--pause', '1', '--iteration', '0', '-a', '--epochs 2', '--json'];
    const run = sessionOf(await cluster.nsml(args, { cwd: ws, timeoutMs: 90_000 }));
    expect(run.state, run.log).toBe('succeeded');
    expect(run).toMatchObject({ kind: 'fork', parent: parent.name, checkpoint: '0' });
    expect(run.log).toContain('loaded checkpoint of epoch 0 (w0)');
    expect(run.log).toContain('saved epoch 1');
  });

  it('`--time` stops a session that runs past it: stopped, "time limit 3s reached"', async () => {
    const r = await cluster.nsml(['run', '-a', '--epochs 0 --sleep 600', '--time', '3s', '--json'], { cwd: ws, timeoutMs: 90_000 });
    const s = sessionOf(r);
    expect(s).toMatchObject({ state: 'stopped', reason: 'time limit 3s reached' });
    expect(r.exitCode).toBe(1);
  });

  it('ps -n and -d, logs --tail, model rm, and rm takes the checkpoints with the session', async () => {
    const limited = await cluster.nsmlJson<SessionJson[]>(['ps', '-a', '-n', '2']);
    expect(limited).toHaveLength(2);
    expect(await cluster.nsmlJson<SessionJson[]>(['ps', '-a', '-d', 'mnist'])).toEqual([]);
    expect((await cluster.nsmlJson<SessionJson[]>(['ps', '-a', '-d', 'scratch'])).length).toBeGreaterThanOrEqual(5);

    const tail = await cluster.nsml(['logs', parent.name, '--tail', '2']);
    expect(tail.stdout.trim().split('\n')).toEqual(['saved epoch 2', 'done at epoch 2']);

    const short = await cluster.nsml(['logs', parent.name.split('/').slice(0, 2).join('/')]);
    expect(short.exitCode).toBe(1);
    expect(short.stderr).toMatch(/names no session \(no session number\); name a session as USER\/DATASET\/N/);

    const removed = await cluster.nsmlJson<{ removed: string[] }>(['model', 'rm', parent.name, '0']);
    expect(removed.removed).toEqual(['0']);
    const left = await cluster.nsmlJson<Array<{ name: string }>>(['model', 'ls', parent.name]);
    expect(left.map((c) => c.name).sort()).toEqual(['1', '2']);

    const metrics = await cluster.nsmlJson<{ points: Array<{ key: string }> }>(['metrics', parent.name, '--key', 'train__loss']);
    expect(metrics.points.map((p) => p.key)).toEqual(['train/loss', 'train/loss', 'train/loss']);

    const rm = await cluster.nsmlJson<Array<{ checkpoints: number; logLines: number; metricPoints: number }>>(['rm', parent.name]);
    expect(rm[0]).toMatchObject({ checkpoints: 2, logLines: 5, metricPoints: 6 });
    const gone = await cluster.nsml(['model', 'ls', parent.name]);
    expect(gone.stderr).toContain('NSML_E_SESSION_NOT_FOUND');
  });
});
