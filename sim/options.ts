import { ErrorCodes, NsmlError } from '../common/errors.js';
import { policies, policiesThatReadDurations, type Decide } from '../coordinator/scheduler/index.js';

export interface SimOptions {
  nodes: number;
  gpusPerNode: number;
  /** Submit times are multiplied by this (2 halves the load). Default 1. */
  submitScale?: number;
  /** A name from `policies`. Default 'default'. */
  policy?: string;
  /** A policy function instead of a name (tests, tuning); `policy` is then only its label. */
  decide?: Decide;
  /** Jobs checkpoint every this much run time; preemption loses the work since the last one. Default 30 min. */
  checkpointIntervalMs?: number;
  /** A resumed run makes no progress for this long (start, load the checkpoint). Default 2 min. */
  restartDelayMs?: number;
  /** A preempted session keeps its GPUs this long while it saves and stops. Default 1 min. */
  graceMs?: number;
  /** Fair-share usage half-life. Default 7 d. */
  halfLifeMs?: number;
  /** Declare each job's trace duration as its run time. Default: only for policies that read durations (backfill, sjf-oracle). */
  declareDurations?: boolean;
  /** Check every plan with checkPlan and throw on a violation. Default true. */
  validate?: boolean;
  /** Decayed fair-share usage per user at time 0, GPU-seconds. Default none. */
  initialUsage?: Record<string, number>;
}

export interface CompiledSimOptions {
  nodes: number;
  gpusPerNode: number;
  submitScale: number;
  policy: string;
  decide: Decide;
  checkpointIntervalMs: number;
  restartDelayMs: number;
  graceMs: number;
  halfLifeMs: number;
  declareDurations: boolean;
  validate: boolean;
  initialUsage: Record<string, number>;
}

export function compileSimOptions(o: SimOptions): CompiledSimOptions {
  const policy = o.policy ?? 'default';
  const decide = o.decide ?? policies[policy];
  if (!decide) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `unknown policy "${policy}"; expected one of ${Object.keys(policies).join(', ')}`);
  const positive = { nodes: o.nodes, gpusPerNode: o.gpusPerNode, submitScale: o.submitScale ?? 1, checkpointIntervalMs: o.checkpointIntervalMs ?? 1_800_000 };
  for (const [k, v] of Object.entries(positive)) {
    if (!(v > 0) || !Number.isFinite(v)) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `${k}: expected a number > 0; got ${v}`);
  }
  if (!Number.isInteger(o.nodes) || !Number.isInteger(o.gpusPerNode)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `nodes and GPUs per node must be whole numbers; got ${o.nodes} and ${o.gpusPerNode}`);
  }
  const nonNegative = { restartDelayMs: o.restartDelayMs ?? 120_000, graceMs: o.graceMs ?? 60_000, halfLifeMs: o.halfLifeMs ?? 7 * 86_400_000 };
  for (const [k, v] of Object.entries(nonNegative)) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `${k}: expected a number ≥ 0; got ${v}`);
  }
  return {
    ...positive,
    ...nonNegative,
    policy,
    decide,
    declareDurations: o.declareDurations ?? policiesThatReadDurations.has(policy),
    validate: o.validate ?? true,
    initialUsage: { ...o.initialUsage },
  };
}
