import type { Standing } from './fair-share.js';
import { formatDuration, formatGpuHours, formatMib, formatNodes, formatShape, formatSplit } from './format.js';
import { formatNeeds } from './node-needs.js';
import type { Hint, Round, Shape } from './round.js';
import type { PendingSession } from './types.js';

/** What the policy's order means, so that reasons blame only what the order is built from. */
export interface ReasonContext {
  usesPriority: boolean;
  /** Standings of active users when the order is built from fair share. */
  standings?: Map<string, Standing>;
  /** A user over `1 + slack` times its share is over its fair share. */
  fairShareSlack?: number;
}

/**
 * Fills `plan.waiting` and `plan.order` for every session not placed this round, in queue order.
 * The kind names the first cause that applies: a shape that never fits, the policy's own reason
 * (a reservation, strict order), quarantined GPUs, the head's reservation, fragmentation,
 * higher priority ahead, fair share, and otherwise plain lack of GPUs. Reasons are worded once
 * per request shape (and user, for fair share), so a long queue costs little.
 */
export function finishWaiting(round: Round, order: PendingSession[], ctx: ReasonContext): void {
  const placed = round.placed;
  const explainer = new Explainer(round, ctx);
  const waiting = round.plan.waiting;
  const ids = round.plan.order!;
  // Fair share can only be the reason when some user is over its share.
  const slack = 1 + (ctx.fairShareSlack ?? 0);
  const standings = ctx.standings && [...ctx.standings.values()].some((st) => st.ratio > slack) ? ctx.standings : undefined;
  for (const s of order) {
    ids.push(s.id);
    const st = standings?.get(s.user);
    if (placed.size === 0 || !placed.has(s.id)) {
      const r = explainer.reason(s, st);
      waiting.push(r.blockedBy === undefined ? { sessionId: s.id, kind: r.kind, message: r.message } : { sessionId: s.id, kind: r.kind, message: r.message, blockedBy: r.blockedBy });
    }
    explainer.pass(s, st);
  }
}

class Explainer {
  /** Sessions passed so far, per priority (parallel arrays: few distinct priorities). */
  private readonly seenPriority: number[] = [];
  private readonly seenCount: number[] = [];
  private readonly minUsageByPriority = new Map<number, { user: string; normalized: number }>();
  private nextEndMs: number | undefined;
  /** Free GPUs outside reservations (and, per needs, on nodes that offer them), and how they are split, after this round's placements. */
  private readonly free = new Map<string, { gpus: number; split?: string }>();
  private badGpus: string | undefined;
  private readonly hasQuarantine: boolean;

  constructor(
    private readonly round: Round,
    private readonly ctx: ReasonContext,
  ) {
    this.hasQuarantine = round.snapshot.nodes.some((n) => n.schedulable && n.unusableGpus.length > 0);
  }

  /** Records a session as being ahead of the ones that follow. */
  pass(s: PendingSession, st: Standing | undefined): void {
    const i = this.seenPriority.indexOf(s.priority);
    if (i >= 0) this.seenCount[i]!++;
    else {
      this.seenPriority.push(s.priority);
      this.seenCount.push(1);
    }
    if (!st) return;
    const min = this.minUsageByPriority.get(s.priority);
    if (!min || st.normalized < min.normalized) this.minUsageByPriority.set(s.priority, { user: s.user, normalized: st.normalized });
  }

  reason(s: PendingSession, st: Standing | undefined): Hint {
    const hint = this.round.hints.size > 0 ? this.round.hints.get(s.id) : undefined;
    if (hint) return hint;
    const shape = this.round.shape(s);
    shape.base ??= this.classify(s, shape);
    return shape.base === 'queue' ? this.queueReason(s, shape, st) : shape.base;
  }

  /** The reason every session of this shape shares, or 'queue' when it depends on who is ahead. */
  private classify(s: PendingSession, shape: Shape): Hint | 'queue' {
    const fit = this.round.admissible(s);
    if (!fit.ok) return { kind: 'no-fit', message: `can never fit: ${fit.why}${shape.needs && fit.largest === 0 ? '' : `; the largest request that fits is ${fit.largest} GPUs`}` };
    const req = shape.req!;
    const words = this.words(shape);
    const lacks = shape.needs?.lacks;
    if (this.nodesWith(req.perNode, 'usable', lacks) < req.processes) return this.unusableReason(shape, words);
    if (this.round.cap.fit(req, lacks)) return this.reservationReason(s, shape, words);
    if ((req.cpus > 0 || req.memoryMib > 0) && this.round.cap.fit({ ...req, cpus: 0, memoryMib: 0 }, lacks)) return this.cpuMemoryReason(req, words, lacks);
    if (this.hasQuarantine && this.nodesWith(req.perNode, 'free-if-back', lacks) >= req.processes) return this.quarantineReason(words, 'now');
    const free = this.freeFor(s, shape);
    shape.freeGpus = free.gpus;
    if (req.perNode > 0 && free.gpus >= s.gpus) {
      free.split ??= formatSplit(this.round.cap.split(this.round.mask(s, this.round.reserved)));
      return { kind: 'fragmentation', message: `needs ${words}; ${free.gpus} GPUs are free${shape.needs ? ' there' : ''} but split as ${free.split}` };
    }
    return 'queue';
  }

  /** Free GPUs outside reservations on the nodes the shape may use: one count per needs. */
  private freeFor(s: PendingSession, shape: Shape): { gpus: number; split?: string } {
    const key = shape.needs?.key ?? '';
    let free = this.free.get(key);
    if (!free) {
      free = { gpus: this.round.cap.freeTotal(this.round.mask(s, this.round.reserved)) };
      this.free.set(key, free);
    }
    return free;
  }

  private queueReason(s: PendingSession, shape: Shape, st: Standing | undefined): Hint {
    const free = shape.freeGpus;
    const higher = this.ctx.usesPriority ? this.countHigher(s.priority) : 0;
    if (higher > 0) {
      return lookup(shape, 'priority', higher) ?? store(shape, 'priority', higher, { kind: 'priority', message: `needs ${this.words(shape)}; ${free} free; ${higher} session(s) of higher priority are ahead of it` });
    }
    if (st && st.ratio > 1 + (this.ctx.fairShareSlack ?? 0)) {
      const min = this.minUsageByPriority.get(s.priority);
      if (min && min.user !== s.user && min.normalized < st.normalized) {
        return (
          lookup(shape, 'fair-share', s.user) ??
          store(shape, 'fair-share', s.user, {
            kind: 'fair-share',
            message: `needs ${this.words(shape)}; ${free} free; ${s.user} used ${formatGpuHours(st.usage)} recently (decayed), ${st.ratio.toFixed(1)}× its share, so sessions of users who used less go first`,
          })
        );
      }
    }
    const known = lookup(shape, 'resources', 0);
    if (known) return known;
    this.nextEndMs ??= this.round.releases().find((r) => r.endMs > this.round.nowMs)?.endMs ?? Infinity;
    const soon = Number.isFinite(this.nextEndMs) ? `; the next expected end is in ${formatDuration(this.nextEndMs - this.round.nowMs)}` : '';
    return store(shape, 'resources', 0, { kind: 'resources', message: `needs ${this.words(shape)}; ${free} GPUs free, the rest held by ${this.round.snapshot.running.length} running session(s)${soon}` });
  }

  /** `2 GPUs on one node`, and what every node must offer when the shape needs something. */
  private words(shape: Shape): string {
    const words = formatShape(shape.req!.processes, shape.req!.perNode);
    return shape.needs ? `${words} offering ${formatNeeds(shape.needs.tags)}` : words;
  }

  private reservationReason(s: PendingSession, shape: Shape, words: string): Hint {
    const round = this.round;
    const holder = round.plan.reservations?.find((r) => r.nodeIds.some((id) => round.reserved[round.cap.positionOf(id) ?? -1]));
    if (holder && !round.cap.fit(shape.req!, round.mask(s, round.reserved))) {
      const when = holder.startAtMs !== undefined ? `, expected to start in ${formatDuration(holder.startAtMs - round.nowMs)}` : '';
      return { kind: 'reservation', blockedBy: holder.sessionId, message: `needs ${words}; the free GPUs that fit it are on ${formatNodes(holder.nodeIds)}, held for ${holder.sessionId}${when}` };
    }
    return { kind: 'resources', message: `needs ${words}; it fits now and starts at the next round` };
  }

  /** Its GPUs (or none) are there but no node has the CPUs or memory free: say so, not "GPUs". */
  private cpuMemoryReason(req: NonNullable<Shape['req']>, words: string, lacks: Uint8Array | undefined): Hint {
    const cap = this.round.cap;
    let cpus = 0;
    let memoryMib = 0;
    for (let p = 0; p < cap.nodes.length; p++) {
      if (cap.freeOn(p) < req.perNode || lacks?.[p]) continue;
      cpus = Math.max(cpus, cap.cpusOn(p));
      memoryMib = Math.max(memoryMib, cap.memoryOn(p));
    }
    const count = (n: number) => (Number.isFinite(n) ? `${Math.max(0, n)} CPU${n === 1 ? '' : 's'}` : 'any CPUs');
    const wants = [...(req.cpus > 0 ? [count(req.cpus)] : []), ...(req.memoryMib > 0 ? [`${formatMib(req.memoryMib)} of memory`] : [])];
    const most = [...(req.cpus > 0 ? [count(cpus)] : []), ...(req.memoryMib > 0 ? [formatMib(Math.max(0, memoryMib))] : [])];
    const gpus = req.perNode === 0 ? 'and no GPU' : `with ${words}`;
    return {
      kind: 'resources',
      message: `waits for CPUs or memory, not GPUs: needs ${wants.join(' and ')} per process ${gpus}; the most free on a node that fits it is ${most.join(' and ')}, the rest held by ${this.round.snapshot.running.length} running session(s)`,
    };
  }

  private unusableReason(shape: Shape, words: string): Hint {
    const lacks = shape.needs?.lacks;
    if (this.hasQuarantine && this.nodesWith(shape.req!.perNode, 'all', lacks) >= shape.req!.processes) return this.quarantineReason(words, 'ever');
    return { kind: 'resources', message: `needs ${words}; only nodes that are draining or disconnected could hold it` };
  }

  private quarantineReason(words: string, when: 'now' | 'ever'): Hint {
    if (this.badGpus === undefined) {
      const bad = this.round.snapshot.nodes.filter((n) => n.schedulable && n.unusableGpus.length > 0).map((n) => `${n.id} GPU ${n.unusableGpus.join(',')}`);
      this.badGpus = `${bad.slice(0, 6).join('; ')}${bad.length > 6 ? ` and ${bad.length - 6} more nodes` : ''}`;
    }
    const tail = when === 'ever' ? 'no node has enough usable GPUs until they are back' : 'it would fit now if they were usable';
    return { kind: 'quarantine', message: `needs ${words}; quarantined GPU(s): ${this.badGpus}; ${tail}` };
  }

  /**
   * Schedulable nodes that could give a process `perNode` GPUs: with every usable GPU free
   * ('usable'), with every GPU back from quarantine ('all'), or now, outside reservations, if
   * the quarantined GPUs were back ('free-if-back'). GPU counts only; CPUs and memory are
   * judged by admissibility and by the real fit. Nodes in `lacks` (without what it needs) are left out.
   */
  private nodesWith(perNode: number, what: 'usable' | 'all' | 'free-if-back', lacks?: Uint8Array): number {
    const cap = this.round.cap;
    let n = 0;
    for (let p = 0; p < cap.nodes.length; p++) {
      if (lacks?.[p]) continue;
      const node = cap.nodes[p]!;
      const count = what === 'all' ? node.gpus.length : what === 'usable' ? node.gpus.length - node.unusableGpus.length : this.round.reserved[p] ? 0 : cap.freeOn(p) + node.unusableGpus.length;
      if (count >= perNode) n++;
    }
    return n;
  }

  private countHigher(priority: number): number {
    let n = 0;
    for (let i = 0; i < this.seenPriority.length; i++) if (this.seenPriority[i]! > priority) n += this.seenCount[i]!;
    return n;
  }
}

function lookup(shape: Shape, key: string, sub: number | string): Hint | undefined {
  return shape.reasons.get(key)?.get(sub);
}

function store(shape: Shape, key: string, sub: number | string, hint: Hint): Hint {
  let inner = shape.reasons.get(key);
  if (!inner) {
    inner = new Map();
    shape.reasons.set(key, inner);
  }
  inner.set(sub, hint);
  return hint;
}
