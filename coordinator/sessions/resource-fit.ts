import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { cpusOf, memoryOf } from '../scheduler/capacity.js';
import type { NodeView } from '../scheduler/types.js';

/**
 * Refuses a request for more CPUs or memory per process than any node of the cluster has
 * (NSML_E_UNSATISFIABLE, naming the largest that fits), instead of queueing it forever. Node
 * shapes only: what is in use now does not matter, it comes back. A node that reports 0 CPUs or
 * 0 MiB (unknown) limits nothing, as in the scheduler.
 */
export function checkNodeResources(req: { cpus: number; memoryMib: number }, nodes: readonly NodeView[]): void {
  if (nodes.length === 0) return;
  const cpus = req.cpus > 0 ? req.cpus : 1;
  const memoryMib = req.memoryMib;
  if (nodes.some((n) => cpusOf(n) >= cpus && memoryOf(n) >= memoryMib)) return;
  const maxCpus = Math.max(...nodes.map(cpusOf));
  if (cpus > maxCpus) {
    throw new NsmlError(
      ErrorCodes.UNSATISFIABLE,
      `a request for ${cpus} CPUs per process can never fit this cluster: no node has more than ${maxCpus}; the largest request that fits is ${maxCpus} CPUs (nsml run --cpus ${maxCpus})`,
      { details: { largestCpus: maxCpus } },
    );
  }
  const maxMemoryMib = Math.max(...nodes.filter((n) => cpusOf(n) >= cpus).map(memoryOf));
  const withCpus = cpus > 1 ? ` with ${cpus} CPUs` : '';
  throw new NsmlError(
    ErrorCodes.UNSATISFIABLE,
    `a request for ${memoryMib} MiB of memory per process can never fit this cluster: no node${withCpus} has more than ${maxMemoryMib} MiB; the largest request that fits is ${maxMemoryMib} MiB (nsml run --memory ${maxMemoryMib}M)`,
    { details: { largestMemoryMib: maxMemoryMib } },
  );
}
