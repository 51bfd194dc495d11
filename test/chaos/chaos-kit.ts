import { readFileSync } from 'node:fs';
import type { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';
import { sleep } from '../../common/sleep.js';

/**
 * A training script that counts: step i prints `line i` and reports `train/loss` at step i, every
 * `sleepMs`; an operator's `set lr=…` prints `lr -> V` (given a marker path as third argument, it
 * first writes the value there and waits until the test removes the file). Whatever faults happen around it, the
 * platform must end up with exactly `steps` lines and `steps` points, each once.
 */
export const COUNTING_TRAIN = readFileSync(new URL('./counting-train.py', import.meta.url), 'utf8');

export interface Tally {
  /** Lines `line i` stored, by i: how often each. */
  lines: Map<number, number>;
  /** Points of train/loss stored, by step: how often each. */
  points: Map<number, number>;
  events: Array<{ kind: string; name: string; value: unknown }>;
  dropped: number;
}

/** Differences between what a counting session produced and what the platform stored; empty when none. */
export function countingDiff(t: Tally, steps: number): string[] {
  const out: string[] = [];
  const check = (what: string, seen: Map<number, number>) => {
    const missing: number[] = [];
    const repeated: number[] = [];
    for (let i = 1; i <= steps; i += 1) {
      const n = seen.get(i) ?? 0;
      if (n === 0) missing.push(i);
      if (n > 1) repeated.push(i);
    }
    const extra = [...seen.keys()].filter((k) => k < 1 || k > steps);
    if (missing.length) out.push(`${what}: ${missing.length} missing (first ${missing.slice(0, 5).join(', ')})`);
    if (repeated.length) out.push(`${what}: ${repeated.length} repeated (first ${repeated.slice(0, 5).join(', ')})`);
    if (extra.length) out.push(`${what}: ${extra.length} unexpected`);
  };
  check('log lines', t.lines);
  check('metric points', t.points);
  if (t.dropped !== 0) out.push(`${t.dropped} points counted as dropped`);
  return out;
}

/** Reads back what the coordinator stored of a counting session. */
export async function tally(c: TestCluster, name: string): Promise<Tally> {
  const logs = await c.nsmlJson<Array<{ text: string }>>(['logs', name]);
  const lines = new Map<number, number>();
  for (const l of logs) {
    const m = /^line (\d+)$/.exec(l.text);
    if (m) lines.set(Number(m[1]), (lines.get(Number(m[1])) ?? 0) + 1);
  }
  const metrics = await c.nsmlJson<{ points: Array<{ step: number; key: string }>; events: Tally['events']; dropped: number }>(['metrics', name, '--key', 'train/loss']);
  const points = new Map<number, number>();
  for (const p of metrics.points) points.set(p.step, (points.get(p.step) ?? 0) + 1);
  const all = await c.nsmlJson<{ events: Tally['events'] }>(['metrics', name]);
  return { lines, points, events: all.events, dropped: metrics.dropped };
}

/** Submits the counting script; returns the session name. */
export async function submitCounting(c: TestCluster, steps: number, sleepMs: number, marker = ''): Promise<string> {
  const ws = makeWorkspace({ 'main.py': COUNTING_TRAIN });
  const run = await c.nsml(['run', '--detach', '--json', '-a', `${steps} ${sleepMs} ${marker}`.trim()], { cwd: ws });
  if (run.exitCode !== 0) throw new Error(`nsml run failed: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { name: string }).name;
}

export interface SessionJson {
  name: string;
  state: string;
  reason?: string;
}

export async function sessions(c: TestCluster): Promise<SessionJson[]> {
  return c.nsmlJson<SessionJson[]>(['ps', '-a']);
}

/** Waits until every named session has started (running, or already past it). */
export async function started(c: TestCluster, names: string[]): Promise<void> {
  const waiting = new Set(['queued', 'scheduled', 'starting']);
  let last: SessionJson[] = [];
  try {
    await c.waitFor(async () => {
      last = (await sessions(c)).filter((s) => names.includes(s.name));
      return last.length === names.length && last.every((s) => !waiting.has(s.state));
    }, `${names.join(', ')} to start`, 90_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`, { cause: err });
  }
}

export { sleep };

/** A small seeded generator, so a failing run can be repeated with the seed it printed. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
