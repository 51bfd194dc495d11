import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TestCluster, type CliResult } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

/**
 * Saves a checkpoint per epoch in both NSML shapes (`save`), or loads those of another session
 * (`load SESSION`); its last line is `RESULT {json}`.
 */
const SCRIPT = readFileSync(join(ROOT, 'agent', 'checkpoints', 'test-fixtures', 'train-checkpoints.py'), 'utf8');

interface RunJson {
  name: string;
  state: string;
  reason: string;
}

interface ListedCheckpoint {
  name: string;
  size: number;
  files: number;
  summary: Record<string, number>;
  source: string;
}

/** The run's JSON (stdout) and the script's RESULT line (its output goes to stderr with --json). */
function outcome(r: CliResult): { run: RunJson; result: Record<string, any> } {
  const line = r.stderr.split('\n').find((l) => l.includes('RESULT '));
  if (!line) throw new Error(`the script printed no RESULT line (exit ${r.exitCode}):\n${r.stderr}\n${r.stdout}`);
  return { run: JSON.parse(r.stdout) as RunJson, result: JSON.parse(line.slice(line.indexOf('RESULT ') + 7)) as Record<string, any> };
}

describe('checkpoints end to end', () => {
  let cluster: TestCluster;
  let first: string;
  let saved: Record<string, any>;

  beforeAll(async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const ws = makeWorkspace({ 'main.py': SCRIPT }, cluster.dir);
    const { run, result } = outcome(await cluster.nsml(['run', '-a', 'save', '--json'], { cwd: ws, timeoutMs: 90_000 }));
    expect(run.state, run.reason).toBe('succeeded');
    first = run.name;
    saved = result;
  }, 150_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('saves a checkpoint per epoch in the 2018 and 2019 shapes; `nsml model ls` lists them with their summary', async () => {
    expect(saved.own).toEqual({ text: 'weights of epoch 2' });
    const listed = await cluster.nsmlJson<ListedCheckpoint[]>(['model', 'ls', first]);
    expect(listed.map((c) => c.name).sort()).toEqual(['1', '2', '3', 'best', 'same-a', 'same-b']);
    const byName = new Map(listed.map((c) => [c.name, c]));
    expect(byName.get('3')).toMatchObject({ files: 1, size: 'weights of epoch 3'.length, source: 'sdk', summary: { 'val/acc': 0.3 } });
    expect(byName.get('3')!.summary['train/loss']).toBeCloseTo(1 / 3);
    expect(byName.get('best')).toMatchObject({ files: 2, size: 14_000 });
    const table = await cluster.nsml(['model', 'ls', first]);
    expect(table.stdout).toMatch(/^NAME\s+SAVED\s+SIZE\s+FILES\s+SUMMARY\n/);
    expect(table.stdout).toMatch(/\n3\s+.*train\/loss=0\.3333 val\/acc=0\.3\n/);
  });

  it('uploads 0 bytes when an unchanged file is saved again', () => {
    expect(saved.saves['same-a'].uploaded_bytes).toBeGreaterThan(0);
    expect(saved.saves['same-b']).toMatchObject({ files: 1, uploaded_bytes: 0 });
  });

  it('registers nothing when the save callback raises', async () => {
    expect(saved.broken).toBe('disk on fire');
    const listed = await cluster.nsmlJson<ListedCheckpoint[]>(['model', 'ls', first]);
    expect(listed.map((c) => c.name)).not.toContain('broken');
  });

  it("loads the first session's checkpoints in a second session, and lists the existing ones for a missing one", async () => {
    const ws = makeWorkspace({ 'main.py': SCRIPT }, cluster.dir);
    const { run, result } = outcome(await cluster.nsml(['run', '-a', `load ${first}`, '--json'], { cwd: ws, timeoutMs: 90_000 }));
    expect(run.state, run.reason).toBe('succeeded');
    expect(run.name).not.toBe(first);
    expect(result.epoch2).toEqual({ text: 'weights of epoch 2' });
    expect(result.best).toEqual({ files: ['decoder.bin', 'encoder.bin'], first: 'decoder'.repeat(3).slice(0, 20) });
    expect(result.missing.existing).toEqual(['1', '2', '3', 'best', 'same-a', 'same-b']);
    expect(result.missing.message).toMatch(/"missing" of session .* does not exist; existing: /);
  });

  it('`nsml model pull` writes a checkpoint into a new directory, and names the existing ones for a missing one', async () => {
    const dest = join(cluster.dir, 'pulled-best');
    const pulled = await cluster.nsml(['model', 'pull', first, 'best', dest]);
    expect(pulled.exitCode, pulled.stderr).toBe(0);
    expect(readdirSync(join(dest, 'model')).sort()).toEqual(['decoder.bin', 'encoder.bin']);
    expect(readFileSync(join(dest, 'model', 'encoder.bin'), 'utf8')).toBe('encoder'.repeat(1000));
    const busy = await cluster.nsml(['model', 'pull', first, '1', dest]);
    expect(busy.stderr).toContain('NSML_E_DESTINATION_NOT_EMPTY');
    const missing = await cluster.nsml(['model', 'pull', first, 'nope', join(cluster.dir, 'never')]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/NSML_E_NOT_FOUND: checkpoint "nope" of session .* existing: /);
    expect(readdirSync(cluster.dir)).not.toContain('never');
  });
});
