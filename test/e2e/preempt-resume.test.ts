import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

interface SessionJson {
  name: string;
  state: string;
  reason?: string;
  epoch?: number;
  preemptions?: number;
}

interface ListedCheckpoint {
  name: string;
}

/**
 * Counts epochs, saving its counter with the bound save and reading it back with the bound load.
 * It never calls `nsml.paused()` nor `nsml.load()`: resuming is the SDK's doing.
 */
const COUNTER = [
  'import json, sys, time',
  'import nsml',
  'state = {"epoch": 0}',
  'def save(path):',
  '    time.sleep(1.5)  # longer than a heartbeat: the coordinator repeats the stop meanwhile',
  '    with open(path, "w") as f:',
  '        json.dump(state, f)',
  'def load(path):',
  '    with open(path) as f:',
  '        state.update(json.load(f))',
  'nsml.bind(save=save, load=load)',
  'print("starting at epoch %d" % state["epoch"], flush=True)',
  'while state["epoch"] < int(sys.argv[1]):',
  '    state["epoch"] += 1',
  '    print("epoch %d" % state["epoch"], flush=True)',
  '    nsml.report(step=state["epoch"], loss=1.0 / state["epoch"])',
  '    time.sleep(0.3)',
  'print("finished at epoch %d" % state["epoch"], flush=True)',
  '',
].join('\n');

const URGENT = 'import time\nprint("urgent work", flush=True)\ntime.sleep(1)\n';

describe('a preempted session saves before it stops and resumes where it saved', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ agents: 1, gpusPerAgent: 1 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  async function submit(script: string, flags: string[], args = ''): Promise<string> {
    const ws = makeWorkspace({ 'main.py': script }, cluster.dir);
    const run = await cluster.nsml(['run', '--detach', '--json', ...flags, ...(args ? ['-a', args] : [])], { cwd: ws });
    expect(run.exitCode, run.stderr).toBe(0);
    return (JSON.parse(run.stdout) as { name: string }).name;
  }

  async function logs(name: string): Promise<string> {
    const r = await cluster.nsml(['logs', name]);
    return r.stdout + r.stderr;
  }

  it('checkpoints `preempted-1`, ends that run preempted, and continues from the saved epoch', async () => {
    const low = await submit(COUNTER, ['-g', '1'], '30');
    await cluster.waitFor(async () => /epoch 2\b/.test(await logs(low)), `${low} to count two epochs`);
    const waitLow = cluster.nsml(['wait', low, '--json'], { timeoutMs: 90_000 });

    const high = await submit(URGENT, ['-g', '1', '--priority', '10']);
    const highEnd = await cluster.nsml(['wait', high, '--json'], { timeoutMs: 60_000 });
    expect(highEnd.exitCode, highEnd.stdout + highEnd.stderr).toBe(0);

    const lowEnd = await waitLow;
    expect(lowEnd.exitCode, lowEnd.stdout + lowEnd.stderr).toBe(0);
    const final = JSON.parse(lowEnd.stdout) as SessionJson;
    expect(final).toMatchObject({ name: low, state: 'succeeded', epoch: 2, preemptions: 1 });

    const checkpoints = await cluster.nsmlJson<ListedCheckpoint[]>(['model', 'ls', low]);
    expect(checkpoints.map((c) => c.name)).toContain('preempted-1');

    const text = await logs(low);
    const starts = [...text.matchAll(/starting at epoch (\d+)/g)].map((m) => Number(m[1]));
    expect(starts).toHaveLength(2);
    expect(starts[0]).toBe(0);
    expect(starts[1]).toBeGreaterThan(0);
    expect(text).toContain(`nsml: resumed from preempted-1 of ${low}`);
    // The second run counts on from the saved epoch, not from 1.
    const second = text.slice(text.lastIndexOf('starting at epoch'));
    expect(second.match(/^epoch (\d+)$/m)?.[1]).toBe(String(starts[1]! + 1));
    expect(text).toContain('finished at epoch 30');
  }, 120_000);
});
