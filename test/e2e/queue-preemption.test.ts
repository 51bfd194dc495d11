import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

interface SessionJson {
  name: string;
  state: string;
  reason?: string;
  epoch?: number;
  preemptions?: number;
  startedMs?: number;
  endedMs?: number;
  placements?: Array<{ nodeId: string; rank: number; gpuIndices: number[] }>;
}

interface QueueEntryJson {
  position: number;
  session: string;
  state: string;
  reasonKind: string;
  reason: string;
  blockedBy: string;
  preemptions: number;
}

/**
 * Runs long the first time (it leaves a marker per rank in the folder given as its argument)
 * and ends at once the second time, so a preempted and requeued run can be told apart.
 */
const TWICE = [
  'import os, sys, time',
  'marker = os.path.join(sys.argv[1], "ran-" + os.environ.get("RANK", "0"))',
  'print("resume-from=" + os.environ.get("NSML_RESUME_FROM", "-"), flush=True)',
  'if os.path.exists(marker):',
  '    print("second run", flush=True)',
  '    sys.exit(0)',
  'open(marker, "w").close()',
  'print("first run", flush=True)',
  'time.sleep(120)',
  '',
].join('\n');

const SHORT = 'import time\nprint("urgent work", flush=True)\ntime.sleep(2)\n';
const HOLD = 'import time\nprint("holding", flush=True)\ntime.sleep(120)\n';

describe('priorities, preemption and the queue on two agents with two GPUs each', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ agents: 2, gpusPerAgent: 2 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  async function submit(script: string, flags: string[], args = ''): Promise<string> {
    const ws = makeWorkspace({ 'main.py': script });
    const run = await cluster.nsml(['run', '--detach', '--json', ...flags, ...(args ? ['-a', args] : [])], { cwd: ws });
    expect(run.exitCode, run.stderr).toBe(0);
    return (JSON.parse(run.stdout) as { name: string }).name;
  }

  async function session(name: string): Promise<SessionJson> {
    return (await cluster.nsmlJson<SessionJson[]>(['ps', '-a'])).find((s) => s.name === name)!;
  }

  async function until(name: string, state: string): Promise<void> {
    await cluster.waitFor(async () => (await session(name))?.state === state, `${name} to be ${state}`);
  }

  it('preempts a low-priority gang for a high-priority session, requeues it under the same name, and finishes it after', async () => {
    const markers = join(cluster.dir, 'markers');
    mkdirSync(markers);
    const low = await submit(TWICE, ['-g', '4'], markers);
    await until(low, 'running');
    const waitLow = cluster.nsml(['wait', low, '--json'], { timeoutMs: 90_000 });

    const high = await submit(SHORT, ['-g', '2', '--priority', '10']);
    const waitHigh = await cluster.nsml(['wait', high, '--json'], { timeoutMs: 60_000 });
    expect(waitHigh.exitCode, waitHigh.stderr).toBe(0);

    const lowEnd = await waitLow;
    expect(lowEnd.exitCode, lowEnd.stdout + lowEnd.stderr).toBe(0);
    const final = JSON.parse(lowEnd.stdout) as SessionJson;
    expect(final).toMatchObject({ name: low, state: 'succeeded', epoch: 2, preemptions: 1 });
    const highEnd = JSON.parse(waitHigh.stdout) as SessionJson;
    expect(Number(highEnd.endedMs)).toBeLessThanOrEqual(Number(final.endedMs));

    const logs = await cluster.nsml(['logs', low]);
    expect(logs.stdout).toContain('first run');
    expect(logs.stdout).toContain('second run');
  }, 120_000);

  it('names the cause a session waits: fragmentation, then priority', async () => {
    // One GPU held on each node by a gang of higher priority than anything below (so nothing preempts it).
    const split = await submit(HOLD, ['-g', '2', '--gpus-per-node', '1', '--priority', '20']);
    await until(split, 'running');
    expect(new Set((await session(split)).placements?.map((p) => p.nodeId))).toEqual(new Set(['node1', 'node2']));

    const fragmented = await submit(HOLD, ['-g', '2']);
    const urgent = await submit(HOLD, ['-g', '4', '--priority', '5']);
    const behind = await submit(HOLD, ['-g', '4', '--time', '2h']);

    await cluster.waitFor(async () => (await session(behind)).reason !== 'waiting for the scheduler', 'a scheduling pass');
    const why = await cluster.nsml(['queue', 'why', fragmented]);
    expect(why.exitCode, why.stderr).toBe(0);
    expect(why.stdout).toContain('cause:  fragmentation');
    expect(why.stdout).toMatch(/2 GPUs are free but split as/);

    const whyBehind = await cluster.nsmlJson<QueueEntryJson>(['queue', 'why', behind]);
    expect(whyBehind).toMatchObject({ session: behind, state: 'waiting', reasonKind: 'priority', expectedDurationMs: 7_200_000, expectedDurationSource: 'declared' });
    expect(whyBehind.reason).toContain('higher priority');

    const queue = await cluster.nsmlJson<{ policy: string; entries: QueueEntryJson[] }>(['queue']);
    expect(queue.policy).toBe('default');
    expect(queue.entries.map((e) => e.session)).toEqual([urgent, fragmented, behind]);
    expect(queue.entries.map((e) => e.reasonKind)).toEqual(['resources', 'fragmentation', 'priority']);

    const table = await cluster.nsml(['queue']);
    expect(table.stdout).toMatch(new RegExp(`1\\s+${urgent}`));
    expect(table.stdout).toContain('fragmentation');

    const running = await cluster.nsml(['queue', 'why', split]);
    expect(running.stdout).toContain(`${split} is running, not waiting`);

    for (const name of [behind, urgent, fragmented, split]) await cluster.nsml(['stop', name]);
  }, 90_000);
});
