import { Capacity, type GangRequest, type Holding } from './capacity.js';
import { admissibleOn, largestNodeOf, shapeProfile, type Admissibility, type ShapeProfile } from './gang-fit.js';
import { maskWith, needsKey, needsOf, type Needs } from './node-needs.js';
import type { PendingSession, Plan, Reservation, RunningSession, Snapshot, WaitReason } from './types.js';

/** A request shape: its gang request, whether it can ever fit, and wait reasons already worded for it. */
export interface Shape {
  key: number | string;
  req: GangRequest | undefined;
  admissible?: Admissibility;
  /** Worded reasons by kind, then by what varies within the kind (a count, a user). */
  reasons: Map<string, Map<number | string, Hint>>;
  /** The wait reason all sessions of this shape share this round, or 'queue' when it depends on the session. */
  base?: Hint | 'queue';
  /** Base masks (undefined: none) with which this shape found no room this round; the shape's needs are implied. */
  failed?: Set<Uint8Array | undefined>;
  /** Free GPUs outside reservations on the nodes it may use, once its wait reason depends on the queue. */
  freeGpus?: number;
  /** What its sessions need of their nodes; undefined when they need nothing. */
  needs?: Needs;
}

/** The fields of a session that make its shape. */
type ShapeOf = Pick<PendingSession, 'gpus' | 'gpusPerNode' | 'cpus' | 'memoryMib' | 'needs'>;

/** A small integer for the usual shapes (a Map key V8 hashes fast), else a string. Needs are keyed apart (see `Round.shape`). */
function shapeKey(s: ShapeOf): number | string {
  const { gpus, gpusPerNode, cpus, memoryMib } = s;
  if (memoryMib === 0 && gpus >= 0 && gpus < 1024 && gpusPerNode >= 0 && gpusPerNode < 64 && cpus >= 0 && cpus < 1024 && Number.isInteger(cpus)) {
    return (gpus * 64 + gpusPerNode) * 1024 + cpus;
  }
  return `${gpus}/${gpusPerNode}/${cpus}/${memoryMib}`;
}

/** A policy's reason for holding back a session that it could have placed. */
export type Hint = Pick<WaitReason, 'kind' | 'message' | 'blockedBy'>;

/** Something that will free resources, and when it is expected to (Infinity: unknown). */
export interface Release {
  holding: Holding;
  endMs: number;
}

/**
 * One decision round: the free capacity, the plan being built, and the per-round caches every
 * policy needs (gang shapes, admissibility). Policies differ only in the order they walk the
 * queue and in what they do when a session does not fit.
 */
export class Round {
  readonly plan: Plan = { placements: [], preemptions: [], waiting: [], reservations: [], order: [] };
  readonly cap: Capacity;
  /** Nodes held by reservations this round (1 = held). */
  readonly reserved: Uint8Array;
  readonly hints = new Map<string, Hint>();
  /** Ids of the sessions placed this round. */
  readonly placed = new Set<string>();
  private readonly placedReleases: Release[] = [];
  /** GPUs of the largest node: a request above it spans whole nodes. */
  readonly largestNode: number;
  /** Shapes of sessions that need nothing, by shape key. */
  private readonly shapes = new Map<number | string, Shape>();
  /** Shapes of sessions with needs, by needs key, then shape key: a session's needs string keeps its hash, so no key is built per call. */
  private readonly shapesWithNeeds = new Map<string, Map<number | string, Shape>>();
  private readonly profiles = new Map<string, ShapeProfile>();
  private readonly needsByKey = new Map<string, Needs>();
  /** The last session asked about: policies ask several questions about one session in a row. */
  private last: { session: object | undefined; shape: Shape | undefined } = { session: undefined, shape: undefined };

  constructor(
    readonly snapshot: Snapshot,
    readonly nowMs: number,
  ) {
    this.cap = Capacity.of(snapshot.nodes, snapshot.running);
    this.reserved = new Uint8Array(this.cap.nodes.length);
    this.largestNode = largestNodeOf(snapshot.nodes);
  }

  /** The gang request (per-node shape), or undefined when the GPU count cannot be split evenly. */
  request(s: ShapeOf): GangRequest | undefined {
    return this.shape(s).req;
  }

  admissible(s: PendingSession): Admissibility {
    const shape = this.shape(s);
    if (!shape.admissible) {
      const key = `${s.cpus}/${s.memoryMib}/${shape.needs?.key ?? ''}`;
      let profile = this.profiles.get(key);
      if (!profile) {
        profile = shapeProfile(this.snapshot.nodes, s.cpus, s.memoryMib, shape.needs?.tags);
        this.profiles.set(key, profile);
      }
      shape.admissible = admissibleOn(s, profile);
    }
    return shape.admissible;
  }

  /** Per-round facts about a request shape, shared by every session of that shape. */
  shape(s: ShapeOf): Shape {
    if (s === this.last.session) return this.last.shape!;
    const needs = s.needs === undefined ? '' : needsKey(s.needs);
    let byKey = needs === '' ? this.shapes : this.shapesWithNeeds.get(needs);
    if (!byKey) {
      byKey = new Map();
      this.shapesWithNeeds.set(needs, byKey);
    }
    const key = shapeKey(s);
    let shape = byKey.get(key);
    if (!shape) {
      const n = needs === '' ? undefined : this.needsFor(needs);
      shape = { key, req: this.requestOf(s, n?.largestNode ?? this.largestNode), reasons: new Map() };
      if (n) shape.needs = n;
      byKey.set(key, shape);
    }
    this.last = { session: s, shape };
    return shape;
  }

  private needsFor(key: string): Needs {
    let n = this.needsByKey.get(key);
    if (!n) {
      n = needsOf(key, this.cap.nodes, this.snapshot.nodes);
      this.needsByKey.set(key, n);
    }
    return n;
  }

  /**
   * `base` (a reservation or hard mask; undefined: none) plus the nodes that lack what the
   * session needs: pass it wherever the session's room is looked for. Stable per (base, needs).
   */
  mask(s: ShapeOf, base?: Uint8Array): Uint8Array | undefined {
    return maskWith(this.shape(s).needs, base);
  }

  /** A large request spans whole nodes of the largest node that offers what it needs. */
  private requestOf(s: ShapeOf, largestNode: number): GangRequest | undefined {
    if (s.gpus === 0) return { processes: 1, perNode: 0, cpus: s.cpus, memoryMib: s.memoryMib };
    const perNode = s.gpusPerNode > 0 ? s.gpusPerNode : Math.min(s.gpus, largestNode);
    if (perNode <= 0 || s.gpus % perNode !== 0) return undefined;
    return { processes: s.gpus / perNode, perNode, cpus: s.cpus, memoryMib: s.memoryMib };
  }

  /** Places the session if best fit finds room outside `mask`; records the placement. */
  tryPlace(s: PendingSession, mask?: Uint8Array): boolean {
    const shape = this.shape(s);
    const req = shape.req;
    if (!req || shape.failed?.has(undefined) || shape.failed?.has(mask)) return false;
    const assignments = this.cap.place(req, maskWith(shape.needs, mask), this.holdingData(s));
    if (!assignments) {
      // Within a round free capacity only shrinks and masks only grow: a miss stays a miss.
      (shape.failed ??= new Set()).add(mask);
      return false;
    }
    this.plan.placements.push({ sessionId: s.id, assignments });
    this.placed.add(s.id);
    const endMs = s.expectedDurationMs !== undefined ? this.nowMs + s.expectedDurationMs : Infinity;
    this.placedReleases.push({ holding: { assignments, cpus: s.cpus, memoryMib: s.memoryMib }, endMs });
    return true;
  }

  /** Nodes (by capacity position) that hold one of the session's dataset versions; undefined when none does. */
  private holdingData(s: PendingSession): Uint8Array | undefined {
    if (!s.datasets || s.datasets.length === 0) return undefined;
    let prefer: Uint8Array | undefined;
    this.cap.nodes.forEach((n, p) => {
      if (!n.datasets?.some((d) => s.datasets!.includes(d))) return;
      prefer ??= new Uint8Array(this.cap.nodes.length);
      prefer[p] = 1;
    });
    return prefer;
  }

  fitsNow(s: PendingSession, mask?: Uint8Array): boolean {
    const req = this.request(s);
    return req !== undefined && this.cap.fit(req, this.mask(s, mask)) !== undefined;
  }

  /** Everything that holds resources, with its expected end; stopping sessions end now. */
  releases(): Release[] {
    const out: Release[] = this.snapshot.running.map((r) => ({ holding: r, endMs: expectedEnd(r, this.nowMs) }));
    out.push(...this.placedReleases);
    return out.sort((a, b) => a.endMs - b.endMs);
  }

  reserve(r: Reservation): void {
    this.plan.reservations!.push(r);
    for (const id of r.nodeIds) {
      const p = this.cap.positionOf(id);
      if (p !== undefined) this.reserved[p] = 1;
    }
  }

  hint(s: PendingSession, h: Hint): void {
    this.hints.set(s.id, h);
  }
}

/** When a running session is expected to free its resources: now if stopping, Infinity if unknown. */
export function expectedEnd(r: RunningSession, nowMs: number): number {
  if (r.stopping) return nowMs;
  if (r.expectedDurationMs === undefined) return Infinity;
  return Math.max(nowMs, r.startedAtMs + r.expectedDurationMs);
}
