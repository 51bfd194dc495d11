import type { NodeView } from './types.js';

/**
 * What a pending session needs of every node it runs on (`PendingSession.needs`), judged once
 * per round for all sessions that need the same tags. Matching is plain string equality: the
 * snapshot builder turns versions into tags, so `python3.11` is offered by a node with 3.11.7.
 */
export interface Needs {
  /** The tags sorted and joined with ',': part of the shape key. */
  key: string;
  tags: string[];
  /** By capacity position: 1 = this schedulable node lacks a tag. Undefined when none lacks any. */
  lacks: Uint8Array | undefined;
  /** GPUs of the largest node (schedulable or not) that offers every tag: the gang shape is cut to it. */
  largestNode: number;
  /** Per base mask, one array (a stable identity) holding base ∪ lacks, refreshed on every use. */
  combined: Map<Uint8Array, Uint8Array>;
}

const joined = new WeakMap<readonly string[], string>();

/** '' for no needs; otherwise the distinct tags, sorted, joined with ',' (worked out once per array). */
export function needsKey(needs: readonly string[] | undefined): string {
  if (!needs || needs.length === 0) return '';
  if (needs.length === 1) return needs[0]!;
  let key = joined.get(needs);
  if (key === undefined) {
    key = [...new Set(needs)].sort().join(',');
    joined.set(needs, key);
  }
  return key;
}

/** Whether the node offers every tag. */
export function offersAll(node: NodeView, tags: readonly string[]): boolean {
  if (tags.length === 0) return true;
  const offers = node.offers;
  if (!offers) return false;
  for (const t of tags) if (!offers.includes(t)) return false;
  return true;
}

/**
 * The per-round facts for `key` (from `needsKey`): `schedulable` are the capacity's nodes (by
 * position), `all` every node of the snapshot.
 */
export function needsOf(key: string, schedulable: readonly NodeView[], all: readonly NodeView[]): Needs {
  const tags = key.split(',');
  let lacks: Uint8Array | undefined;
  schedulable.forEach((n, p) => {
    if (offersAll(n, tags)) return;
    lacks ??= new Uint8Array(schedulable.length);
    lacks[p] = 1;
  });
  let largestNode = 0;
  for (const n of all) if (n.gpus.length > largestNode && offersAll(n, tags)) largestNode = n.gpus.length;
  return { key, tags, lacks, largestNode, combined: new Map() };
}

/**
 * The mask that keeps out both what `base` keeps out and the nodes lacking a tag. The same
 * (base, needs) always gives the same array; its contents follow `base`, which may grow.
 */
export function maskWith(needs: Needs | undefined, base: Uint8Array | undefined): Uint8Array | undefined {
  const lacks = needs?.lacks;
  if (!lacks) return base;
  if (!base) return lacks;
  let out = needs.combined.get(base);
  if (!out) {
    out = new Uint8Array(lacks.length);
    needs.combined.set(base, out);
  }
  for (let p = 0; p < out.length; p++) out[p] = base[p]! | lacks[p]!;
  return out;
}

/** `python3.11`, `python3.11 and containers`. */
export function formatNeeds(tags: readonly string[]): string {
  return tags.length <= 1 ? (tags[0] ?? '') : `${tags.slice(0, -1).join(', ')} and ${tags[tags.length - 1]}`;
}

/**
 * Why no node of `nodes` can take a session that needs `tags`: the tags no node offers, or
 * (each offered somewhere) that no node offers them together.
 */
export function noNodeOffers(tags: readonly string[], nodes: readonly NodeView[]): string {
  const missing = tags.filter((t) => !nodes.some((n) => n.offers?.includes(t)));
  if (missing.length > 0) return `no node offers ${formatNeeds(missing)}`;
  return `no node offers ${formatNeeds(tags)} together`;
}
