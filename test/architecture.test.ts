import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './harness/cluster.js';

/**
 * The walls of the architecture (DESIGN.md), read from the imports of every TypeScript file:
 * a wall that breaks fails here, not in a review.
 */
const TOPS = ['common', 'coordinator', 'agent', 'cli', 'sim', 'bench', 'test'];
const IMPORT = /(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist' || name === 'generated') continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) out.push(path);
    }
  };
  for (const top of TOPS) walk(join(ROOT, top));
  return out;
}

/** file (relative to the root) → the files it imports (relative, `.ts`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    const deps: string[] = [];
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.')) deps.push(relative(ROOT, resolve(dirname(file), spec)).replace(/\.js$/, '.ts'));
    }
    graph.set(relative(ROOT, file), deps);
  }
  return graph;
}

const graph = importGraph();
const edges = [...graph].flatMap(([from, deps]) => deps.map((to) => ({ from, to })));
const isTest = (f: string) => f.endsWith('.test.ts') || f.includes('/test-fixtures/');

/** Strongly connected components of more than one file (Tarjan). */
function cycles(g: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('architecture walls', () => {
  it('reads a graph of the whole tree (so that the walls below can fail)', () => {
    expect(graph.size).toBeGreaterThan(300);
    expect(edges.some((e) => e.from === 'agent/main.ts' && e.to === 'agent/runner/runner.ts')).toBe(true);
  });

  it.each([
    ['agent/', 'coordinator/'],
    ['coordinator/', 'agent/'],
  ])('nothing in %s imports %s, tests included', (from, to) => {
    expect(edges.filter((e) => e.from.startsWith(from) && e.to.startsWith(to))).toEqual([]);
  });

  it('the scheduler imports nothing but common/ and itself', () => {
    const out = edges.filter((e) => e.from.startsWith('coordinator/scheduler/') && !isTest(e.from))
      .filter((e) => !e.to.startsWith('coordinator/scheduler/') && !e.to.startsWith('common/'));
    expect(out).toEqual([]);
  });

  it('the scheduler reads no clock: time comes in with its snapshot', () => {
    const clockReaders = [...graph.keys()]
      .filter((f) => f.startsWith('coordinator/scheduler/') && !isTest(f))
      .filter((f) => /\bDate\.now\(|\bperformance\.now\(|\bnew Date\(|\bprocess\.hrtime/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(clockReaders).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(cycles(graph)).toEqual([]);
  });
});
