import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findOnPath, installCommand, venvCommand } from './installer.js';

describe('installer', () => {
  it('installs with uv when the node has it', () => {
    expect(installCommand({ uv: '/usr/bin/uv', venvPython: '/e/bin/python', installArgs: ['-r', 'requirements.txt'] }))
      .toEqual({ file: '/usr/bin/uv', args: ['pip', 'install', '--python', '/e/bin/python', '-r', 'requirements.txt'] });
  });

  it("else with the pip the environment's python sees", () => {
    expect(installCommand({ uv: undefined, venvPython: '/e/bin/python', installArgs: ['numpy'] }))
      .toEqual({ file: '/e/bin/python', args: ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', 'numpy'] });
  });

  it("creates the environment over the node's site-packages, without a pip of its own", () => {
    expect(venvCommand('/usr/bin/python3', '/c/e')).toEqual({ file: '/usr/bin/python3', args: ['-m', 'venv', '--without-pip', '--system-site-packages', '/c/e'] });
  });

  it('finds executables on PATH only', () => {
    const d = mkdtempSync(join(tmpdir(), 'nsml-path-'));
    try {
      writeFileSync(join(d, 'uv'), '#!/bin/sh\n');
      writeFileSync(join(d, 'plain'), '');
      chmodSync(join(d, 'uv'), 0o755);
      expect(findOnPath('uv', `/nonexistent:${d}`)).toBe(join(d, 'uv'));
      expect(findOnPath('plain', d)).toBeUndefined();
      expect(findOnPath('uv', undefined)).toBeUndefined();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
