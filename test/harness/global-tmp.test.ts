import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeWorkspace } from './workspace.js';

describe('the run temp folder', () => {
  it('holds what tests create, and others may traverse it', () => {
    expect(basename(tmpdir())).toMatch(/^nsml-test-/);
    const ws = makeWorkspace({ 'main.py': 'print(1)\n' });
    expect(dirname(ws)).toBe(tmpdir());
    expect(statSync(tmpdir()).mode & 0o777).toBe(0o755);
  });
});
