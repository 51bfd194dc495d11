import { admissible, firstFit, freeGpusOf, take } from './gang-fit.js';
import type { Decide, Plan } from './types.js';

/**
 * The simplest policy: walk the queue in submission order and start every session whose whole
 * gang fits now. No reservation, so big gangs can starve; see the default policy for better.
 */
export const decideFirstFit: Decide = (snapshot) => {
  const plan: Plan = { placements: [], preemptions: [], waiting: [] };
  const free = freeGpusOf(snapshot.nodes, snapshot.running.flatMap((r) => r.assignments));
  const nodes = snapshot.nodes.filter((n) => n.schedulable);
  for (const session of snapshot.pending) {
    const assignments = firstFit(session, nodes, free);
    if (assignments) {
      take(free, assignments);
      plan.placements.push({ sessionId: session.id, assignments });
      continue;
    }
    const fit = admissible(session, snapshot.nodes);
    const freeCount = [...free.values()].reduce((n, g) => n + g.length, 0);
    plan.waiting.push(
      !fit.ok
        ? { sessionId: session.id, kind: 'no-fit', message: `can never fit: ${fit.why}; the largest request that fits is ${fit.largest} GPUs` }
        : freeCount >= session.gpus
          ? { sessionId: session.id, kind: 'fragmentation', message: `${freeCount} GPUs are free but split as ${[...free.entries()].filter(([, g]) => g.length > 0).map(([id, g]) => `${id}:${g.length}`).join(', ')}` }
          : { sessionId: session.id, kind: 'resources', message: `needs ${session.gpus} GPUs; ${freeCount} free` },
    );
  }
  return plan;
};
