import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectContainerRuntime, type Probe } from './container-runtime.js';

describe('detectContainerRuntime (fake runtimes at the process boundary)', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  function path(...names: string[]): string {
    const d = mkdtempSync(join(tmpdir(), 'nsml-rt-'));
    dirs.push(d);
    for (const n of names) {
      writeFileSync(join(d, n), '#!/bin/sh\n');
      chmodSync(join(d, n), 0o755);
    }
    return d;
  }
  const answers = (ok: Record<string, boolean>): Probe => async (file) => ok[file.split('/').pop()!] ?? false;

  it.each([
    ['podman first', ['podman', 'docker'], { podman: true, docker: true }, 'podman'],
    ['docker whose daemon answers', ['docker'], { docker: true }, 'docker'],
    ['a docker client with no daemon: none', ['docker'], { docker: false }, undefined],
    ['a broken podman, a working docker', ['podman', 'docker'], { podman: false, docker: true }, 'docker'],
    ['nothing on PATH', [], {}, undefined],
  ])('%s', async (_what, names, ok, kind) => {
    const rt = await detectContainerRuntime({ pathEnv: path(...names), probe: answers(ok) });
    expect(rt?.kind).toBe(kind);
  });

  it('takes an explicit path', async () => {
    const d = path('docker');
    expect(await detectContainerRuntime({ pathEnv: '', explicit: join(d, 'docker'), probe: answers({ docker: true }) })).toEqual({ kind: 'docker', path: join(d, 'docker') });
  });
});
