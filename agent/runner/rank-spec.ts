import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { isBlobHash } from '../../common/hashing.js';
import { parseSessionName, validateRelativePath } from '../../common/names.js';
import type { StartSession__Output } from '../../common/proto/types.js';
import { pinsFromStart, type DatasetPinSpec } from '../datasets/pins.js';
import { environmentFromStart } from '../env/start-fields.js';

/** One rank of one session epoch: what the agent runs and keys everything by. */
export interface RankKey {
  session: string;
  epoch: number;
  rank: number;
}

/** The start request of one rank, validated, as kept in rank.json. */
export interface RankSpec extends RankKey {
  worldSize: number;
  localWorldSize: number;
  nodeRank: number;
  gpuIndices: number[];
  entry: string;
  args: string[];
  env: Record<string, string>;
  /** The workspace manifest's blob hash; "" for an empty workspace. */
  workspace: string;
  masterAddr: string;
  masterPort: number;
  dataset: string;
  user: string;
  /** Dataset versions to mount (agent/datasets); absent in rank.json files of older agents. */
  datasets?: DatasetPinSpec[];
  /** agent/env: the Python version asked for ('' or absent: the node's default). */
  python?: string;
  /** agent/env: a container image to run in ('' or absent: none). */
  image?: string;
  /** agent/env: limits in a container (reservations on a bare node); 0 or absent: none. */
  shmSizeMib?: number;
  cpus?: number;
  memoryMib?: number;
}

export function rankKeyString(k: RankKey): string {
  return `${k.session}|${k.epoch}|${k.rank}`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_ENV_BYTES = 256 * 1024;

function invalid(what: string): NsmlError {
  return new NsmlError(ErrorCodes.INVALID_ARGUMENT, `start request: ${what}`);
}

function checkEnv(env: Record<string, string>): Record<string, string> {
  let bytes = 0;
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_NAME.test(k)) throw invalid(`environment variable name ${JSON.stringify(k)} must be letters, digits and '_'`);
    if (v.includes('\u0000')) throw invalid(`environment variable ${k} holds a NUL character`);
    bytes += k.length + v.length;
  }
  if (bytes > MAX_ENV_BYTES) throw invalid(`environment is ${bytes} bytes; the limit is ${MAX_ENV_BYTES}`);
  return { ...env };
}

/** Validates a `start` from the coordinator; every field comes from outside. */
export function rankSpecFromStart(m: StartSession__Output): RankSpec {
  parseSessionName(m.session);
  if (!Number.isSafeInteger(m.epoch) || m.epoch < 1) throw invalid(`epoch must be a positive integer; got ${m.epoch}`);
  if (!Number.isInteger(m.rank) || m.rank < 0) throw invalid(`rank must be >= 0; got ${m.rank}`);
  const worldSize = m.worldSize > 0 ? m.worldSize : 1;
  if (m.rank >= worldSize) throw invalid(`rank ${m.rank} is not below the world size ${worldSize}`);
  if (m.gpuIndices.some((g) => !Number.isInteger(g) || g < 0)) throw invalid(`GPU indices must be >= 0; got ${m.gpuIndices.join(',')}`);
  if (m.workspace !== '' && !isBlobHash(m.workspace)) throw invalid(`workspace must be a sha256 manifest hash; got ${JSON.stringify(m.workspace.slice(0, 80))}`);
  if (m.entry === '') throw invalid('the entry is empty; name the script to run, e.g. main.py');
  validateRelativePath(m.entry);
  if (m.masterPort < 0 || m.masterPort > 65535) throw invalid(`master port ${m.masterPort} is not a port`);
  const localWorldSize = m.localWorldSize > 0 ? m.localWorldSize : 1;
  return {
    session: m.session,
    epoch: m.epoch,
    rank: m.rank,
    worldSize,
    localWorldSize,
    nodeRank: m.nodeRank >= 0 ? m.nodeRank : 0,
    gpuIndices: [...m.gpuIndices],
    entry: m.entry,
    args: [...m.args],
    env: checkEnv(m.env ?? {}),
    workspace: m.workspace,
    masterAddr: m.masterAddr,
    masterPort: m.masterPort,
    dataset: m.dataset,
    user: m.user,
    datasets: pinsFromStart(m.datasets),
    ...environmentFromStart(m),
  };
}

/** Position of this rank among the ranks on this node. */
export function localRank(spec: RankSpec): number {
  const local = spec.rank - spec.nodeRank * spec.localWorldSize;
  return local >= 0 && local < spec.localWorldSize ? local : spec.rank % spec.localWorldSize;
}
