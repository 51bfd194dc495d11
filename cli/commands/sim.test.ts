import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simCommand } from './sim.js';

const dir = mkdtempSync(join(tmpdir(), 'nsml-sim-cli-'));
const trace = join(dir, 'trace.csv');
writeFileSync(trace, 'job_id,submission_time,duration,num_gpu\nA,0,100,2\nB,10,100,4\nC,20,10,1\nD,30,50,16\n');

async function sim(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await simCommand(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('nsml sim', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one JSON object with the agreed keys', async () => {
    const r = await sim(['--trace', trace, '--nodes', '2', '--gpus-per-node', '8', '--policy', 'fifo', '--json']);
    expect(r.code).toBe(0);
    const x = JSON.parse(r.out);
    expect(Object.keys(x)).toEqual(['policy', 'jobs', 'avgJctS', 'p50JctS', 'p99JctS', 'avgQueueS', 'utilization', 'makespanS', 'preemptions', 'decisionsPerS', 'byGangSize']);
    expect(Object.keys(x.byGangSize)).toEqual(['1', '2-8', '>8']);
    expect(x.byGangSize['>8']).toEqual({ jobs: 1, avgJctS: expect.any(Number) });
    expect(x).toMatchObject({ policy: 'fifo', jobs: 4, preemptions: 0 });
  });

  it('prints figures for people by default', async () => {
    const r = await sim(['--trace', trace, '--nodes', '2', '--gpus-per-node', '8', '--submit-scale', '2', '--checkpoint-interval', '10m']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^policy default on trace\.csv: 2 nodes × 8 GPUs, submit × 2, 4 jobs finished/);
    expect(r.out).toMatch(/JCT +avg [\d.]+ h +p50/);
    expect(r.out).toMatch(/>8 GPUs +1 jobs/);
    expect(r.out).toMatch(/checkpoint every 10m/);
  });

  it('replays only the first jobs with --jobs', async () => {
    const r = await sim(['--trace', trace, '--nodes', '1', '--gpus-per-node', '4', '--jobs', '2', '--json']);
    expect(JSON.parse(r.out).jobs).toBe(2);
  });

  it.each([
    { argv: [], error: /--trace FILE\.csv is required/ },
    { argv: ['--trace', 'x.csv'], error: /--nodes and --gpus-per-node are required/ },
    { argv: ['--trace', 'x.csv', '--nodes', 'two', '--gpus-per-node', '8'], error: /--nodes: expected a whole number > 0; got "two"/ },
    { argv: ['--trace', 'x.csv', '--nodes', '2', '--gpus-per-node', '8', '--policy', 'lottery'], error: /unknown --policy "lottery"/ },
    { argv: ['--trace', 'x.csv', '--nodes', '2', '--gpus-per-node', '8', '--grace', 'soon'], error: /--grace must be a duration such as 500ms, 30s/ },
    { argv: ['--trace', join(dir, 'missing.csv'), '--nodes', '2', '--gpus-per-node', '8'], error: /cannot read the trace/ },
    { argv: ['--nodes', '2', '--frobnicate'], error: /Unknown option '--frobnicate'/ },
  ])('exits 2 and says what is wrong: $argv', async ({ argv, error }) => {
    const r = await sim(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(error);
    expect(r.out).toBe('');
  });

  it('--help prints the usage', async () => {
    const r = await sim(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/usage: nsml sim --trace FILE\.csv --nodes N --gpus-per-node G/);
  });
});
