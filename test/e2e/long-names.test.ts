import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

const USER = `researcher-${'a'.repeat(29)}`; // 40 characters
const DATASET = `imagenet-${'b'.repeat(31)}`; // 40 characters

const TRAIN = `import os
import nsml
print("dataset", open(os.path.join(os.environ["DATASET_PATH"], "train.txt")).read().strip(), flush=True)
nsml.report(step=1, acc=0.5)
print("socket bytes", len(os.environ["NSML_AGENT_SOCKET"].encode()), flush=True)
`;

describe('long user and dataset names', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await TestCluster.start({ agents: 1 });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('a 40-character user runs on a 40-character dataset, reports a metric and succeeds', async () => {
    const env = c.asUser(USER);
    const data = join(c.dir, 'tiny-data');
    mkdirSync(data);
    writeFileSync(join(data, 'train.txt'), 'tiny');
    const push = await c.nsml(['dataset', 'push', DATASET, data], { env });
    expect(push.exitCode, push.stderr).toBe(0);
    const ws = makeWorkspace({ 'main.py': TRAIN }, c.dir);
    const run = await c.nsml(['run', '-d', DATASET], { cwd: ws, env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('dataset tiny');
    const bytes = Number(/socket bytes (\d+)/.exec(run.stdout)?.[1]);
    expect(bytes).toBeLessThanOrEqual(107);
    const name = `${USER}/${DATASET}/1`;
    const metrics = await c.nsmlJson<{ points: Array<{ step: number; value: unknown }> }>(['metrics', name, '--key', 'acc'], { env });
    expect(metrics.points.map((p) => [p.step, p.value])).toEqual([[1, 0.5]]);
  });
});
