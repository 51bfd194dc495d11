import type { NodeAssignment, NodeView } from './types.js';

const NONE: ReadonlySet<number> = new Set<number>();

/** A node's CPUs; a node that reports none (unknown) is not limited. */
export function cpusOf(node: NodeView): number {
  return node.cpus > 0 ? node.cpus : Infinity;
}

/** A node's memory in MiB; a node that reports none (unknown) is not limited. */
export function memoryOf(node: NodeView): number {
  return node.memoryMib > 0 ? node.memoryMib : Infinity;
}

/** The per-node shape of a gang after `gangShape`: `processes` nodes with `perNode` GPUs each. */
export interface GangRequest {
  processes: number;
  perNode: number;
  /** Per process; 0 = no reservation. */
  cpus: number;
  memoryMib: number;
}

/** What a holder of resources occupies: its assignments and per-process CPUs and memory. */
export interface Holding {
  assignments: NodeAssignment[];
  cpus: number;
  memoryMib: number;
}

/**
 * Free resources of the schedulable nodes during one decision round. Nodes sit in buckets by
 * free GPU count, so best fit (the fullest node that still fits, ties to the lowest index) costs
 * a few bucket looks, not a scan of the cluster. Quarantined GPUs are never free.
 */
export class Capacity {
  private constructor(
    readonly nodes: NodeView[],
    private readonly position: Map<string, number>,
    private readonly unusable: ReadonlySet<number>[],
    private readonly free: number[][],
    private readonly cpus: number[],
    private readonly memory: number[],
    private readonly buckets: number[][],
  ) {}

  static of(nodes: NodeView[], holdings: Iterable<Holding>): Capacity {
    const usable = nodes.filter((n) => n.schedulable);
    const position = new Map<string, number>();
    const offset = new Int32Array(usable.length + 1);
    usable.forEach((n, i) => {
      position.set(n.id, i);
      offset[i + 1] = offset[i]! + n.gpus.length;
    });
    const taken = new Uint8Array(offset[usable.length]!);
    const unusable = usable.map((n) => (n.unusableGpus.length > 0 ? new Set(n.unusableGpus) : NONE));
    const cpus = usable.map(cpusOf);
    const memory = usable.map(memoryOf);
    for (const h of holdings) {
      for (const a of h.assignments) {
        const p = position.get(a.nodeId);
        if (p === undefined) continue;
        const gpus = usable[p]!.gpus;
        for (const g of a.gpuIndices) {
          const slot = gpus[g] === g ? g : gpus.indexOf(g);
          if (slot >= 0) taken[offset[p]! + slot] = 1;
        }
        cpus[p]! -= h.cpus;
        memory[p]! -= h.memoryMib;
      }
    }
    let most = 0;
    const free = usable.map((n, i) => {
      most = Math.max(most, n.gpus.length);
      const bad = unusable[i]!;
      const out: number[] = [];
      for (let j = 0; j < n.gpus.length; j++) {
        const g = n.gpus[j]!;
        if (!taken[offset[i]! + j] && !bad.has(g)) out.push(g);
      }
      return out;
    });
    const buckets: number[][] = Array.from({ length: most + 1 }, () => []);
    free.forEach((f, i) => buckets[f.length]!.push(i));
    return new Capacity(usable, position, unusable, free, cpus, memory, buckets);
  }

  clone(): Capacity {
    return new Capacity(this.nodes, this.position, this.unusable, this.free.map((f) => [...f]), [...this.cpus], [...this.memory], this.buckets.map((b) => [...b]));
  }

  /**
   * Positions of the nodes best fit would use, or undefined. `mask[p]` = 1 keeps node p out.
   * Among equally good nodes, those with `prefer[p]` = 1 (holding the session's data) come first.
   */
  fit(req: GangRequest, mask?: Uint8Array, prefer?: Uint8Array): number[] | undefined {
    if (req.perNode >= this.buckets.length) return undefined;
    if (this.countAtLeast(req.perNode) < req.processes) return undefined;
    const out: number[] = [];
    for (let k = req.perNode; k < this.buckets.length; k++) {
      for (const p of preferredFirst(this.buckets[k]!, prefer)) {
        if (mask?.[p] || this.cpus[p]! < req.cpus || this.memory[p]! < req.memoryMib) continue;
        out.push(p);
        if (out.length === req.processes) return out;
      }
    }
    return undefined;
  }

  /** Books the GPUs best fit picks and returns the assignments, or undefined (nothing booked). */
  place(req: GangRequest, mask?: Uint8Array, prefer?: Uint8Array): NodeAssignment[] | undefined {
    const positions = this.fit(req, mask, prefer);
    if (!positions) return undefined;
    const assignments = positions.map((p, rank) => ({ nodeId: this.nodes[p]!.id, gpuIndices: this.free[p]!.slice(0, req.perNode), rank }));
    this.take({ assignments, cpus: req.cpus, memoryMib: req.memoryMib });
    return assignments;
  }

  take(h: Holding): void {
    for (const a of h.assignments) {
      const p = this.position.get(a.nodeId);
      if (p === undefined) continue;
      const taken = new Set(a.gpuIndices);
      this.move(p, this.free[p]!.filter((g) => !taken.has(g)));
      this.cpus[p]! -= h.cpus;
      this.memory[p]! -= h.memoryMib;
    }
  }

  release(h: Holding): void {
    for (const a of h.assignments) {
      const p = this.position.get(a.nodeId);
      if (p === undefined) continue;
      const back = a.gpuIndices.filter((g) => !this.unusable[p]!.has(g) && !this.free[p]!.includes(g));
      this.move(p, [...this.free[p]!, ...back].sort((x, y) => x - y));
      this.cpus[p]! += h.cpus;
      this.memory[p]! += h.memoryMib;
    }
  }

  positionOf(nodeId: string): number | undefined {
    return this.position.get(nodeId);
  }

  freeOn(p: number): number {
    return this.free[p]!.length;
  }

  cpusOn(p: number): number {
    return this.cpus[p]!;
  }

  memoryOn(p: number): number {
    return this.memory[p]!;
  }

  /** Free usable GPUs in all, leaving out masked nodes. */
  freeTotal(mask?: Uint8Array): number {
    let n = 0;
    for (let k = 1; k < this.buckets.length; k++) {
      for (const p of this.buckets[k]!) if (!mask?.[p]) n += k;
    }
    return n;
  }

  /** Largest free block on one node, leaving out masked nodes. */
  largestBlock(mask?: Uint8Array): number {
    for (let k = this.buckets.length - 1; k > 0; k--) {
      if (this.buckets[k]!.some((p) => !mask?.[p])) return k;
    }
    return 0;
  }

  /** Free GPUs per node, largest first (nodes with none left out). */
  split(mask?: Uint8Array): { nodeId: string; free: number }[] {
    const out: { nodeId: string; free: number }[] = [];
    for (let k = this.buckets.length - 1; k > 0; k--) {
      for (const p of this.buckets[k]!) if (!mask?.[p]) out.push({ nodeId: this.nodes[p]!.id, free: k });
    }
    return out;
  }

  private countAtLeast(k: number): number {
    let n = 0;
    for (let i = k; i < this.buckets.length; i++) n += this.buckets[i]!.length;
    return n;
  }

  private move(p: number, free: number[]): void {
    const from = this.buckets[this.free[p]!.length]!;
    from.splice(lowerBound(from, p), 1);
    this.free[p] = free;
    const to = this.buckets[free.length]!;
    to.splice(lowerBound(to, p), 0, p);
  }
}

/** The bucket with the preferred positions first (each group keeps its order). */
function preferredFirst(bucket: number[], prefer: Uint8Array | undefined): number[] {
  if (!prefer || !bucket.some((p) => prefer[p])) return bucket;
  return [...bucket.filter((p) => prefer[p]), ...bucket.filter((p) => !prefer[p])];
}

function lowerBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
