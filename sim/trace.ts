import { readFileSync } from 'node:fs';
import { ErrorCodes, NsmlError } from '../common/errors.js';

/** One job of a trace, times in seconds as the trace gives them. */
export interface TraceJob {
  id: string;
  submissionS: number;
  durationS: number;
  gpus: number;
  /** Optional columns `user` and `priority`; a trace without them is one user at priority 0. */
  user: string;
  priority: number;
}

const REQUIRED = ['job_id', 'submission_time', 'duration', 'num_gpu'] as const;

/**
 * Parses a trace in the ITP/ElasticFlow format: a header naming at least `job_id,
 * submission_time, duration, num_gpu` (any order; extra columns ignored except `user` and
 * `priority`). Rows keep file order; the simulator orders by submission time.
 */
export function parseTrace(text: string, source = 'trace'): TraceJob[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const col = (name: string): number => header.indexOf(name);
  const missing = REQUIRED.filter((c) => col(c) < 0);
  if (missing.length > 0) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `${source}: expected a CSV header with ${REQUIRED.join(', ')}; missing ${missing.join(', ')} in "${lines[0] ?? ''}"`);
  }
  const [id, sub, dur, gpu, user, prio] = [col('job_id'), col('submission_time'), col('duration'), col('num_gpu'), col('user'), col('priority')];
  return lines.slice(1).map((line, i) => {
    const f = line.split(',');
    const job: TraceJob = {
      id: f[id]!.trim(),
      submissionS: Number(f[sub]),
      durationS: Number(f[dur]),
      gpus: Number(f[gpu]),
      user: user >= 0 && f[user] ? f[user]!.trim() : 'trace',
      priority: prio >= 0 && f[prio] ? Number(f[prio]) : 0,
    };
    if (![job.submissionS, job.durationS, job.gpus, job.priority].every(Number.isFinite) || job.durationS < 0 || job.gpus < 0 || !Number.isInteger(job.gpus)) {
      throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `${source} line ${i + 2}: expected numbers (submission_time, duration ≥ 0, num_gpu a whole number ≥ 0); got "${line}"`);
    }
    return job;
  });
}

export function readTrace(path: string): TraceJob[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new NsmlError(ErrorCodes.NOT_FOUND, `cannot read the trace ${path}: ${(err as Error).message}; give --trace a CSV file`, { cause: err });
  }
  return parseTrace(text, path);
}
