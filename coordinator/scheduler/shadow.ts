import { cpusOf, memoryOf, type Capacity, type GangRequest } from './capacity.js';
import type { Round } from './round.js';
import type { PendingSession, Reservation } from './types.js';

/**
 * The head's reservation as EASY backfill computes it: release what runs in order of expected
 * end until the head fits; that end is its shadow time and the nodes it would take then are
 * held. When some of what must end first has no expected end, the start is unknown and the
 * nodes that need the least draining are held instead. Only nodes that offer what it needs count.
 */
export function shadowReservation(round: Round, s: PendingSession): Reservation | undefined {
  const req = round.request(s);
  if (!req) return undefined;
  const cap = round.cap.clone();
  const lacks = round.mask(s);
  for (const rel of round.releases()) {
    if (rel.endMs === Infinity) break;
    cap.release(rel.holding);
    const fit = cap.fit(req, lacks);
    if (fit) return { sessionId: s.id, nodeIds: fit.map((p) => cap.nodes[p]!.id), startAtMs: rel.endMs };
  }
  const drain = leastDraining(round.cap, req, round.mask(s, round.reserved));
  return drain && { sessionId: s.id, nodeIds: drain };
}

/** The nodes (outside `mask`) with the most free GPUs that can hold one process each. */
export function leastDraining(cap: Capacity, req: GangRequest, mask?: Uint8Array): string[] | undefined {
  const candidates: number[] = [];
  for (let p = 0; p < cap.nodes.length; p++) {
    const node = cap.nodes[p]!;
    if (mask?.[p] || node.gpus.length - node.unusableGpus.length < req.perNode) continue;
    if (cpusOf(node) < req.cpus || memoryOf(node) < req.memoryMib) continue;
    candidates.push(p);
  }
  if (candidates.length < req.processes) return undefined;
  candidates.sort((a, b) => cap.freeOn(b) - cap.freeOn(a) || a - b);
  return candidates.slice(0, req.processes).map((p) => cap.nodes[p]!.id);
}
