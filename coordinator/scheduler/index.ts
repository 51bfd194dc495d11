/**
 * The scheduler: pure functions from a Snapshot to a Plan. The coordinator and the simulator
 * call the same code.
 */
import { decideBackfill } from './backfill.js';
import { decideDefault } from './default-policy.js';
import { decideFifo } from './fifo.js';
import { decideFirstFit } from './first-fit.js';
import { decideSjfOracle } from './sjf-oracle.js';
import type { Decide } from './types.js';

export type * from './types.js';
export { admissible, firstFit, freeGpusOf, gangShape, take } from './gang-fit.js';
export { decideBackfill, decideDefault, decideFifo, decideFirstFit, decideSjfOracle };
export { createDefaultPolicy, compileDefaultPolicyOptions, type DefaultPolicyOptions } from './default-policy.js';
export { accrueUsage, decayUsage, standings } from './fair-share.js';
export { checkPlan } from './plan-check.js';
export { explainWait, queueView, type QueueEntry } from './queue-view.js';
export { estimateDuration, type PastRun } from './estimate.js';

/** Policies by the names `nsml sim --policy` and the coordinator's configuration use. */
export const policies: Record<string, Decide> = {
  default: decideDefault,
  fifo: decideFifo,
  backfill: decideBackfill,
  'first-fit': decideFirstFit,
  'sjf-oracle': decideSjfOracle,
};

/** Policies that read run times: the simulator declares each job's trace duration to them. */
export const policiesThatReadDurations: ReadonlySet<string> = new Set(['backfill', 'sjf-oracle']);
