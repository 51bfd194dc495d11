import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isNsmlError } from '../common/errors.js';
import { parseTrace, readTrace } from './trace.js';

describe('parseTrace', () => {
  it('reads the ITP columns in any order, one user at priority 0 by default', () => {
    expect(parseTrace('num_gpu,job_id,duration,submission_time\n8,a,100,5\n1,b,7,9\n')).toEqual([
      { id: 'a', submissionS: 5, durationS: 100, gpus: 8, user: 'trace', priority: 0 },
      { id: 'b', submissionS: 9, durationS: 7, gpus: 1, user: 'trace', priority: 0 },
    ]);
  });

  it('reads optional user and priority columns', () => {
    expect(parseTrace('job_id,submission_time,duration,num_gpu,user,priority\nx,0,1,1,bob,2\n')[0]).toMatchObject({ user: 'bob', priority: 2 });
  });

  it.each([
    { text: 'job_id,submission_time,num_gpu\na,1,1', error: /missing duration/ },
    { text: 'job_id,submission_time,duration,num_gpu\na,1,x,1', error: /line 2: expected numbers/ },
    { text: 'job_id,submission_time,duration,num_gpu\na,1,10,1.5', error: /line 2/ },
    { text: 'job_id,submission_time,duration,num_gpu\na,1,-3,1', error: /line 2/ },
  ])('rejects $text', ({ text, error }) => {
    expect(() => parseTrace(text)).toThrow(error);
  });
});

describe('readTrace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsml-trace-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file and says which file it could not read', () => {
    const file = join(dir, 't.csv');
    writeFileSync(file, 'job_id,submission_time,duration,num_gpu\na,0,1,1\n');
    expect(readTrace(file)).toHaveLength(1);
    try {
      readTrace(join(dir, 'missing.csv'));
      expect.unreachable();
    } catch (err) {
      expect(isNsmlError(err, 'NSML_E_NOT_FOUND')).toBe(true);
      expect((err as Error).message).toMatch(/missing\.csv/);
    }
  });
});
