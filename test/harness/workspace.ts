import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Writes a small workspace of files (path → content) into a fresh temp directory. */
export function makeWorkspace(files: Record<string, string>, parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, 'nsml-ws-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Prints `count` numbered lines, `perSecond` a second, then exits with `code`. */
export function countingScript(count: number, perSecond: number, code = 0): string {
  return [
    'import sys, time',
    `for i in range(1, ${count + 1}):`,
    '    print(f"line {i}", flush=True)',
    `    time.sleep(${1 / perSecond})`,
    `sys.exit(${code})`,
    '',
  ].join('\n');
}

/**
 * Prints `count` numbered lines, waits until the file `go` exists, prints `count` more (each
 * padded with `pad` characters), then touches `done` when given.
 */
export function gatedScript(count: number, go: string, options: { pad?: number; done?: string } = {}): string {
  const pad = options.pad ? ` + " " + "x" * ${options.pad}` : '';
  return [
    'import os, time',
    `for i in range(1, ${count + 1}):`,
    '    print(f"line {i}", flush=True)',
    `while not os.path.exists(${JSON.stringify(go)}):`,
    '    time.sleep(0.05)',
    `for i in range(${count + 1}, ${2 * count + 1}):`,
    `    print(f"line {i}"${pad}, flush=True)`,
    ...(options.done ? [`open(${JSON.stringify(options.done)}, "w").close()`] : []),
    '',
  ].join('\n');
}
