import { echo } from '../../common/echo.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { isBlobHash } from '../../common/hashing.js';
import { decodeManifest } from '../../common/manifest.js';
import { SCRATCH, validateDatasetName, validateRelativePath } from '../../common/names.js';
import type { SubmitRequest__Output } from '../../common/proto/types.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { admissible } from '../scheduler/gang-fit.js';
import type { NewSession, NodeRow } from '../store/types.js';
import { checkEnvironmentRequest } from './environment-check.js';
import { neededTags } from './environment-tags.js';
import { checkNodeResources } from './resource-fit.js';
import { nodeView } from './snapshot.js';

export const LIMITS = { args: 1000, argBytes: 64 * 1024, envEntries: 1000, envBytes: 64 * 1024, memoBytes: 4096, gpus: 4096 } as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function invalid(message: string): NsmlError {
  return new NsmlError(ErrorCodes.INVALID_ARGUMENT, message);
}

function checkCounts(req: SubmitRequest__Output): void {
  const ints: Array<[string, number, number]> = [
    ['gpus', req.gpus, LIMITS.gpus], ['gpus_per_node', req.gpusPerNode, LIMITS.gpus], ['cpus', req.cpus, 4096],
    ['memory_mib', req.memoryMib, 1 << 30], ['time_limit_s', req.timeLimitS, 10 * 365 * 86400],
  ];
  for (const [name, v, max] of ints) {
    if (!Number.isSafeInteger(v) || v < 0 || v > max) throw invalid(`${name} must be an integer from 0 to ${max}; got ${v}`);
  }
  if (req.gpusPerNode > 0 && req.gpus > 0 && req.gpus % req.gpusPerNode !== 0) {
    throw invalid(`gpus (${req.gpus}) must be a multiple of gpus_per_node (${req.gpusPerNode})`);
  }
}

function checkText(req: SubmitRequest__Output): void {
  if (req.args.length > LIMITS.args) throw invalid(`at most ${LIMITS.args} arguments; got ${req.args.length}`);
  for (const a of req.args) {
    if (Buffer.byteLength(a) > LIMITS.argBytes || a.includes('\0')) throw invalid(`each argument must be under ${LIMITS.argBytes} bytes without NUL characters`);
  }
  const env = Object.entries(req.env);
  if (env.length > LIMITS.envEntries) throw invalid(`at most ${LIMITS.envEntries} environment entries; got ${env.length}`);
  for (const [k, v] of env) {
    if (!ENV_NAME.test(k)) throw invalid(`environment name ${echo(k)} must be letters, digits and "_", not starting with a digit`);
    if (Buffer.byteLength(v) > LIMITS.envBytes || v.includes('\0')) throw invalid(`environment value of ${k} must be under ${LIMITS.envBytes} bytes without NUL characters`);
  }
  if (Buffer.byteLength(req.memo) > LIMITS.memoBytes) throw invalid(`memo must be at most ${LIMITS.memoBytes} bytes`);
}

async function checkWorkspace(req: SubmitRequest__Output, blobs: BlobStore): Promise<void> {
  if (!isBlobHash(req.workspace)) {
    throw invalid(`workspace must be the sha256 of the workspace manifest blob (64 hex digits); got ${echo(req.workspace)}`);
  }
  if (!blobs.has(req.workspace)) {
    throw new NsmlError(ErrorCodes.BLOB_NOT_FOUND, `workspace manifest ${req.workspace} is not in the blob store; upload the workspace (BlobService.Has/Put) before submitting`);
  }
  const manifest = decodeManifest(await blobs.readAll(req.workspace));
  if (manifest.entries.some((e) => e.path === req.entry)) return;
  const py = manifest.entries.map((e) => e.path).filter((p) => p.endsWith('.py')).sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
  const hint = py.length > 0 ? `Python files there: ${py.slice(0, 5).join(', ')}${py.length > 5 ? `, ... (${py.length} in all)` : ''}` : 'the workspace has no .py file';
  throw new NsmlError(ErrorCodes.ENTRY_NOT_FOUND, `entry ${echo(req.entry)} is not a file of the workspace; ${hint}`, { details: { candidates: py.slice(0, 5) } });
}

/** The reason a newly queued session waits, or NSML_E_UNSATISFIABLE when it can never fit. */
export function admissionReason(req: Pick<SubmitRequest__Output, 'gpus' | 'gpusPerNode' | 'cpus' | 'memoryMib'>, nodes: NodeRow[], needs: string[] = []): string {
  const up = nodes.filter((n) => n.state !== 'down');
  const known = up.length > 0 ? up : nodes;
  if (known.length === 0) return 'no node has joined yet';
  const views = known.map((n) => nodeView(n, true));
  checkNodeResources(req, views);
  const fit = admissible({ gpus: req.gpus, gpusPerNode: req.gpusPerNode, cpus: req.cpus > 0 ? req.cpus : 1, memoryMib: req.memoryMib, ...(needs.length > 0 ? { needs } : {}) }, views);
  if (!fit.ok) {
    throw new NsmlError(
      ErrorCodes.UNSATISFIABLE,
      `a request for ${req.gpus} GPU${req.gpus === 1 ? '' : 's'}${req.gpusPerNode ? ` (${req.gpusPerNode} per node)` : ''} can never fit this cluster: ${fit.why}; the largest request that fits is ${fit.largest} GPU${fit.largest === 1 ? '' : 's'}`,
      { details: { largest: fit.largest } },
    );
  }
  return 'waiting for the scheduler';
}

/** Validates a Submit from `user` and turns it into a new session. */
export async function checkSubmit(
  req: SubmitRequest__Output, user: string, deps: { blobs: BlobStore; nodes: () => NodeRow[] },
): Promise<{ session: NewSession; reason: string }> {
  const dataset = req.dataset === '' ? SCRATCH : validateDatasetName(req.dataset);
  checkCounts(req);
  checkText(req);
  if (req.entry === '') throw invalid('entry is required: the file to run, e.g. main.py');
  validateRelativePath(req.entry);
  await checkWorkspace(req, deps.blobs);
  const nodes = deps.nodes();
  const runtime = checkEnvironmentRequest(req, nodes); // agent/env: --python, --image, --shm-size
  const reason = admissionReason(req, nodes, neededTags(runtime)); // counting only the nodes that offer its Python and image runtime
  return {
    reason,
    session: {
      user, dataset, gpus: req.gpus, gpusPerNode: req.gpusPerNode, cpus: req.cpus, memoryMib: req.memoryMib,
      entry: req.entry, args: req.args, env: req.env, memo: req.memo, workspace: req.workspace,
      priority: req.priority, timeLimitS: req.timeLimitS,
      ...(runtime.python || runtime.image || runtime.shmSizeMib ? { runtime } : {}),
    },
  };
}
